#include "model/framework_model.hpp"

#include <algorithm>
#include <cmath>

#include "engine/attention.hpp"
#include "engine/matmul.hpp"
#include "engine/vector_math.hpp"
#include "model/framework_exact.hpp"
#include "util/error.hpp"

namespace lmac {

void framework_position_row(int64_t pos, int d, float* out) {
  // f = 0, 2, ..., D (D/2 + 1 frequencies); columns 0..D/2 are sines, the remaining D/2 - 1 are cosines.
  const int nf = d / 2 + 1;
  for (int c = 0; c < d; ++c) {
    int j = c < nf ? c : c - nf;
    double inv = std::pow(1e4, -double(2 * j) / double(d));
    double angle = double(pos) * inv;
    out[c] = float(c < nf ? std::sin(angle) : std::cos(angle));
  }
}

FrameworkModel::FrameworkModel(FrameworkConfig config, FrameworkWeights weights, ModelInfo info,
                               std::optional<int> declared_bits)
    : config_(config), weights_(std::move(weights)), info_(std::move(info)), declared_bits_(declared_bits),
      embed_scale_(float(std::sqrt(double(config.embedding_dim)))) {}

void FrameworkModel::check_symbol(uint32_t symbol, int sequence, int64_t position) const {
  if (symbol >= uint32_t(config_.vocab_size)) {
    throw_error(ErrorCode::mismatch, "symbol {} at position {} of sequence {} is outside the model's alphabet of {}",
                symbol, position, sequence, config_.vocab_size);
  }
}

void FrameworkModel::embed_row(uint32_t input_symbol, int64_t pos, float* h) const {
  const int d = config_.embedding_dim;
  framework_position_row(pos, d, h);
  const float* e = weights_.embed.data() + size_t(input_symbol) * d;
  for (int i = 0; i < d; ++i) h[i] = e[i] * embed_scale_ + h[i];
}

void FrameworkModel::log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) {
  const int V = config_.vocab_size;
  if (batch < 0 || length < 0 || symbols.size() != size_t(batch) * size_t(length) ||
      out.size() != size_t(batch) * size_t(length) * size_t(V)) {
    throw_error(ErrorCode::internal, "log_probs: {} symbols and {} outputs do not fit batch {} x length {} x {}",
                symbols.size(), out.size(), batch, length, V);
  }
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < length; ++t) check_symbol(symbols[size_t(b) * length + t], b, t);
  }
  if (batch == 0 || length == 0) return;
  // Sequences go through in groups of about 16K positions: big GEMMs, bounded scratch memory.
  const int group = std::max(1, std::min(batch, 16384 / length));
  for (int b0 = 0; b0 < batch; b0 += group) {
    int n = std::min(group, batch - b0);
    forward(symbols.data() + size_t(b0) * length, n, length, out.data() + size_t(b0) * length * V);
  }
}

std::unique_ptr<ExactScorer> FrameworkModel::exact_scorer() { return make_framework_exact_scorer(*this); }

void FrameworkModel::forward(const uint32_t* symbols, int batch, int T, float* out) {
  const int D = config_.embedding_dim, F = D * config_.widening_factor, V = config_.vocab_size;
  const int64_t rows = int64_t(batch) * T;
  if (int64_t(positions_.size()) < int64_t(T) * D) {
    positions_.resize(size_t(T) * D);
    for (int t = 0; t < T; ++t) framework_position_row(t, D, positions_.data() + size_t(t) * D);
  }
  h_.resize(size_t(rows) * D);
  qkv_.resize(size_t(rows) * 3 * D);
  att_.resize(size_t(rows) * D);
  tmp_.resize(size_t(rows) * D);
  ff_.resize(size_t(rows) * F);

  // Inputs are the targets shifted right by one, with symbol 0 playing BOS.
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int t = int(r % T);
    const uint32_t x = t == 0 ? 0 : symbols[r - 1];
    const float* e = weights_.embed.data() + size_t(x) * D;
    const float* p = positions_.data() + size_t(t) * D;
    float* h = h_.data() + size_t(r) * D;
    for (int i = 0; i < D; ++i) h[i] = e[i] * embed_scale_ + p[i];
  }

  for (const FrameworkLayer& layer : weights_.layers) {
    matmul(h_.data(), layer.w_qkv.data(), qkv_.data(), int(rows), D, 3 * D);
    causal_self_attention(qkv_.data(), att_.data(), batch, T, D, config_.num_heads, attn_scratch_);
    matmul(att_.data(), layer.w_out.data(), tmp_.data(), int(rows), D, D);
    // a = LayerNorm(h + attention)
    add_layer_norm_rows(tmp_.data(), nullptr, h_.data(), layer.ln1_scale.data(), layer.ln1_offset.data(), rows, D);
    matmul(tmp_.data(), layer.w1.data(), ff_.data(), int(rows), D, F);
    bias_gelu_rows(ff_.data(), layer.b1.data(), rows, F);
    matmul(ff_.data(), layer.w2.data(), h_.data(), int(rows), F, D);
    // h = LayerNorm((ff W2 + b2) + a)
    add_layer_norm_rows(h_.data(), layer.b2.data(), tmp_.data(), layer.ln2_scale.data(), layer.ln2_offset.data(), rows,
                        D);
  }
  matmul(h_.data(), weights_.w_logits.data(), out, int(rows), D, V);
  bias_log_softmax_rows(out, weights_.b_logits.data(), rows, V);
}

}  // namespace lmac
