#include "model/llama_model.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/matmul.hpp"
#include "model/llama_exact.hpp"
#include "model/llama_rope.hpp"
#include "model/safetensors_checkpoint.hpp"
#include "util/error.hpp"

namespace lmac {

// Rows of activations one forward pass holds at once: whole sequences are grouped up to this many positions, so
// memory stays bounded (about 200 MB for a 7B model) whatever batch the caller passes, while each half-precision
// weight tile widened in the matmul is still reused across thousands of rows.
static constexpr int kRowsPerPass = 2048;

// Below this many floats of work a loop runs on one thread: forking threads costs more than it saves for tiny models
// and single decode steps, and spinning workers hurt a machine that is already busy.
static constexpr size_t kParallelWork = size_t(1) << 15;

LlamaKVCache::LlamaKVCache(int layers_, int batch_, int capacity_, int kv_dim_)
    : batch(batch_), capacity(capacity_), kv_dim(kv_dim_), layers(layers_),
      k(size_t(layers_) * batch_ * capacity_ * kv_dim_), v(k.size()) {}

// out = w * x / sqrt(mean(x^2) + eps), row by row (the mean in double: float64 is what the fixtures compare to).
static void rms_norm(const float* x, const std::vector<float>& w, float* out, int rows, int D, double eps) {
#pragma omp parallel for schedule(static) if (size_t(rows) * D > kParallelWork)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * D;
    double sum = 0;
    for (int i = 0; i < D; ++i) sum += double(xr[i]) * xr[i];
    const float scale = float(1.0 / std::sqrt(sum / D + eps));
    float* o = out + size_t(r) * D;
    for (int i = 0; i < D; ++i) o[i] = w[i] * (xr[i] * scale);
  }
}

void apply_top_k(float* lp, int alphabet, int k) {
  if (k <= 0 || k >= alphabet) return;
  std::vector<int> order(alphabet);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
  const double top = lp[order[0]];
  double sum = 0;
  for (int i = 0; i < k; ++i) sum += std::exp(double(lp[order[i]]) - top);
  const double kept_shift = -(top + std::log(sum)) + std::log1p(-double(alphabet - k) * kTopKFloor);
  std::vector<char> kept(alphabet, 0);
  for (int i = 0; i < k; ++i) kept[order[i]] = 1;
  const float floor_lp = float(std::log(kTopKFloor));
  for (int s = 0; s < alphabet; ++s) lp[s] = kept[s] ? float(lp[s] + kept_shift) : floor_lp;
}

LlamaModel::LlamaModel(std::shared_ptr<const void> checkpoint, LlamaWeights weights, ModelInfo info,
                       int top_k)
    : checkpoint_(std::move(checkpoint)), weights_(std::move(weights)), info_(std::move(info)), top_k_(top_k) {}

int LlamaModel::token_of(uint32_t symbol) const {
  if (symbol >= uint32_t(alphabet_size()))
    throw_error(ErrorCode::usage, "symbol {} is outside the alphabet of model {} ({} symbols)", symbol, info_.name,
                alphabet_size());
  return info_.byte_tokens[symbol];
}

void LlamaModel::forward(const int* tokens, int B, int n, int start, LlamaKVCache* cache, float* out) const {
  const LlamaConfig& c = weights_.config;
  const int D = c.hidden_size, H = c.num_attention_heads, KV = c.num_key_value_heads, hd = c.head_dim;
  const int F = c.intermediate_size, q_dim = H * hd, kv_dim = KV * hd, group = H / KV;
  const int A = alphabet_size();
  const size_t rows = size_t(B) * n;
  if (cache && (start != cache->length || B != cache->batch || start + n > cache->capacity))
    throw_error(ErrorCode::internal, "Llama KV cache misuse: start {} length {} batch {}/{} capacity {}", start,
                cache->length, B, cache->batch, cache->capacity);
  if (!cache && start != 0) throw_error(ErrorCode::internal, "Llama forward without a cache must start at 0");

  std::vector<float> h(rows * D), x(rows * D), q(rows * q_dim), k(rows * kv_dim), v(rows * kv_dim);
  std::vector<float> att(rows * q_dim), gate(rows * F), up(rows * F);

  // Token embeddings, widened row by row.
#pragma omp parallel for schedule(static) if (rows * D > kParallelWork)
  for (size_t r = 0; r < rows; ++r) weight_row_f32(weights_.embed, tokens[r], &h[r * D]);

  // cos/sin of every new position.
  const int half = hd / 2;
  std::vector<float> cos_table(size_t(n) * half), sin_table(size_t(n) * half);
  for (int i = 0; i < n; ++i) rope_angles(weights_.inv_freq, start + i, &cos_table[size_t(i) * half],
                                          &sin_table[size_t(i) * half]);
  const float scale = float(1.0 / std::sqrt(double(hd)));

  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LlamaLayerWeights& w = weights_.layers[l];

    // Attention block: h += o_proj(attention(rope(q), rope(k), v)) of the normalised h.
    rms_norm(h.data(), w.attn_norm, x.data(), int(rows), D, c.rms_norm_eps);
    matmul_weight_t(x.data(), w.q, q.data(), int(rows));
    matmul_weight_t(x.data(), w.k, k.data(), int(rows));
    matmul_weight_t(x.data(), w.v, v.data(), int(rows));
#pragma omp parallel for schedule(static) if (rows * (q_dim + kv_dim) > kParallelWork)
    for (size_t r = 0; r < rows; ++r) {
      const int i = int(r % n);
      const float* cs = &cos_table[size_t(i) * half];
      const float* sn = &sin_table[size_t(i) * half];
      for (int hh = 0; hh < H; ++hh) rope_rotate(&q[r * q_dim + size_t(hh) * hd], cs, sn, hd);
      for (int g = 0; g < KV; ++g) rope_rotate(&k[r * kv_dim + size_t(g) * hd], cs, sn, hd);
    }

    // Where this layer's keys and values live: the cache (appended to first), or this pass's own projections.
    std::vector<const float*> keys(B), values(B);
    for (int b = 0; b < B; ++b) {
      if (cache) {
        std::copy_n(&k[size_t(b) * n * kv_dim], size_t(n) * kv_dim, cache->keys(l, b) + size_t(start) * kv_dim);
        std::copy_n(&v[size_t(b) * n * kv_dim], size_t(n) * kv_dim, cache->values(l, b) + size_t(start) * kv_dim);
        keys[b] = cache->keys(l, b);
        values[b] = cache->values(l, b);
      } else {
        keys[b] = &k[size_t(b) * n * kv_dim];
        values[b] = &v[size_t(b) * n * kv_dim];
      }
    }

    // Causal attention: the query at position p sees keys 0..p. Query head hh reads key/value head hh / group.
    const size_t attention_work = rows * size_t(start + n) * q_dim;
#pragma omp parallel for collapse(3) schedule(dynamic, 4) if (attention_work > kParallelWork)
    for (int b = 0; b < B; ++b)
      for (int hh = 0; hh < H; ++hh)
        for (int i = 0; i < n; ++i) {
          thread_local std::vector<float> scores;
          const int p = start + i;
          scores.resize(size_t(p) + 1);
          const size_t r = size_t(b) * n + i;
          const float* qv = &q[r * q_dim + size_t(hh) * hd];
          const size_t head_offset = size_t(hh / group) * hd;
          float top = -INFINITY;
          for (int s = 0; s <= p; ++s) {
            const float* kv = keys[b] + size_t(s) * kv_dim + head_offset;
            float dot = 0;
            for (int d = 0; d < hd; ++d) dot += qv[d] * kv[d];
            scores[s] = dot * scale;
            top = std::max(top, scores[s]);
          }
          double sum = 0;
          for (int s = 0; s <= p; ++s) {
            scores[s] = std::exp(scores[s] - top);
            sum += scores[s];
          }
          const float inv_sum = float(1.0 / sum);
          float* o = &att[r * q_dim + size_t(hh) * hd];
          std::fill_n(o, hd, 0.0f);
          for (int s = 0; s <= p; ++s) {
            const float* vv = values[b] + size_t(s) * kv_dim + head_offset;
            const float a = scores[s] * inv_sum;
            for (int d = 0; d < hd; ++d) o[d] += a * vv[d];
          }
        }
    matmul_weight_t(att.data(), w.o, h.data(), int(rows), /*accumulate=*/true);

    // MLP block (SwiGLU): h += down(silu(gate(x)) * up(x)) of the normalised h.
    rms_norm(h.data(), w.mlp_norm, x.data(), int(rows), D, c.rms_norm_eps);
    matmul_weight_t(x.data(), w.gate, gate.data(), int(rows));
    matmul_weight_t(x.data(), w.up, up.data(), int(rows));
#pragma omp parallel for schedule(static) if (rows * F > kParallelWork)
    for (size_t e = 0; e < rows * F; ++e) {
      const float g = gate[e];
      gate[e] = g / (1.0f + std::exp(-g)) * up[e];
    }
    matmul_weight_t(gate.data(), w.down, h.data(), int(rows), /*accumulate=*/true);
  }
  if (cache) cache->length += n;

  // Final norm, then logits of the mapped tokens only, log-softmaxed over the alphabet.
  rms_norm(h.data(), weights_.final_norm, x.data(), int(rows), D, c.rms_norm_eps);
  matmul_wt(x.data(), weights_.output_rows.data(), out, int(rows), D, A);
#pragma omp parallel for schedule(static) if (rows * A > kParallelWork)
  for (size_t r = 0; r < rows; ++r) {
    float* row = out + r * A;
    const float top = *std::max_element(row, row + A);
    double sum = 0;
    for (int s = 0; s < A; ++s) sum += std::exp(double(row[s]) - top);
    const double log_z = top + std::log(sum);
    for (int s = 0; s < A; ++s) row[s] = float(double(row[s]) - log_z);
    apply_top_k(row, A, top_k_);
  }
}

std::unique_ptr<ExactScorer> LlamaModel::exact_scorer() { return make_llama_exact_scorer(*this, top_k_); }

void LlamaModel::log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) {
  const int A = alphabet_size();
  if (batch < 0 || length < 0 || symbols.size() != size_t(batch) * length || out.size() != symbols.size() * A)
    throw_error(ErrorCode::internal, "LlamaModel::log_probs: {} symbols and {} outputs for batch {} x length {}",
                symbols.size(), out.size(), batch, length);
  if (batch == 0 || length == 0) return;
  const std::vector<int> tokens = input_tokens(symbols, batch, length);
  const int per_pass = std::max(1, kRowsPerPass / length);
  for (int b0 = 0; b0 < batch; b0 += per_pass) {
    const int nb = std::min(per_pass, batch - b0);
    forward(&tokens[size_t(b0) * length], nb, length, 0, nullptr, &out[size_t(b0) * length * A]);
  }
}

std::vector<int> LlamaModel::input_tokens(std::span<const uint32_t> symbols, int batch, int length) const {
  std::vector<int> tokens(symbols.size());
  for (int b = 0; b < batch; ++b) {
    tokens[size_t(b) * length] = info_.bos_token;
    for (int t = 0; t + 1 < length; ++t) tokens[size_t(b) * length + t + 1] = token_of(symbols[size_t(b) * length + t]);
    token_of(symbols[size_t(b) * length + length - 1]);  // the last symbol is never input, but must be valid
  }
  return tokens;
}

LlamaSession::LlamaSession(const LlamaModel& model, int batch, int max_length)
    : model_(model), batch_(batch),
      cache_(model.weights().config.num_hidden_layers, batch, max_length,
             model.weights().config.num_key_value_heads * model.weights().config.head_dim) {
  if (batch <= 0 || max_length <= 0)
    throw_error(ErrorCode::internal, "LlamaSession needs a positive batch and length, got {} and {}", batch,
                max_length);
  step(std::vector<int>(batch, model.bos_token()));
}

void LlamaSession::step(const std::vector<int>& tokens) {
  current_.resize(size_t(batch_) * model_.alphabet_size());
  model_.forward(tokens.data(), batch_, 1, cache_.length, &cache_, current_.data());
}

void LlamaSession::current(std::span<float> out) const {
  if (out.size() != current_.size())
    throw_error(ErrorCode::internal, "LlamaSession::current: output holds {} floats, expected {}", out.size(),
                current_.size());
  std::copy(current_.begin(), current_.end(), out.begin());
}

void LlamaSession::append(std::span<const uint32_t> symbols) {
  if (symbols.size() != size_t(batch_))
    throw_error(ErrorCode::internal, "LlamaSession::append: {} symbols for a batch of {}", symbols.size(), batch_);
  if (cache_.length >= cache_.capacity)
    throw_error(ErrorCode::internal, "LlamaSession::append: the session holds at most {} positions", cache_.capacity);
  std::vector<int> tokens(batch_);
  for (int b = 0; b < batch_; ++b) tokens[b] = model_.token_of(symbols[b]);
  step(tokens);
}

}  // namespace lmac
