// FrameworkSession: the framework transformer one position at a time, keeping each layer's keys and values.
#include <algorithm>
#include <cmath>

#include "engine/matmul.hpp"
#include "engine/vector_math.hpp"
#include "model/framework_model.hpp"
#include "util/error.hpp"

namespace lmac {

FrameworkSession::FrameworkSession(const FrameworkModel& model) : model_(model) {}

void FrameworkSession::reset(int batch) {
  if (batch < 1) throw_error(ErrorCode::internal, "FrameworkSession::reset: batch {} < 1", batch);
  const FrameworkConfig& c = model_.config();
  batch_ = batch;
  pos_ = 0;
  capacity_ = 0;
  k_cache_.assign(size_t(c.num_layers), {});
  v_cache_.assign(size_t(c.num_layers), {});
  const int D = c.embedding_dim;
  h_.resize(size_t(batch) * D);
  qkv_.resize(size_t(batch) * 3 * D);
  att_.resize(size_t(batch) * D);
  tmp_.resize(size_t(batch) * D);
  ff_.resize(size_t(batch) * D * c.widening_factor);
  grow(256);
}

// The caches are [batch, capacity, D]; doubling keeps appends amortised O(1).
void FrameworkSession::grow(int64_t need) {
  if (need <= capacity_) return;
  const int D = model_.config().embedding_dim;
  int64_t cap = std::max<int64_t>(need, capacity_ * 2);
  for (auto* caches : {&k_cache_, &v_cache_}) {
    for (auto& cache : *caches) {
      std::vector<float> bigger(size_t(batch_) * cap * D);
      for (int b = 0; b < batch_ && pos_ > 0; ++b) {
        std::copy_n(cache.data() + size_t(b) * capacity_ * D, size_t(pos_) * D, bigger.data() + size_t(b) * cap * D);
      }
      cache = std::move(bigger);
    }
  }
  capacity_ = cap;
}

void FrameworkSession::step(const uint32_t* prev_symbols, float* out) {
  if (batch_ == 0) throw_error(ErrorCode::internal, "FrameworkSession::step before reset");
  const FrameworkConfig& c = model_.config();
  const FrameworkWeights& w = model_.weights();
  const int D = c.embedding_dim, F = D * c.widening_factor, V = c.vocab_size, H = c.num_heads, dh = D / H;
  const float scale = 1.0f / std::sqrt(float(dh));
  grow(pos_ + 1);
  for (int b = 0; b < batch_; ++b) {
    uint32_t x = pos_ == 0 ? 0 : prev_symbols[b];
    if (pos_ > 0) model_.check_symbol(x, b, pos_ - 1);
    model_.embed_row(x, pos_, h_.data() + size_t(b) * D);
  }
  const int64_t keys = pos_ + 1;
  scores_.resize(size_t(batch_) * H * keys);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const FrameworkLayer& layer = w.layers[l];
    matmul(h_.data(), layer.w_qkv.data(), qkv_.data(), batch_, D, 3 * D);
    for (int b = 0; b < batch_; ++b) {
      const float* row = qkv_.data() + size_t(b) * 3 * D;
      std::copy_n(row + D, D, k_cache_[l].data() + (size_t(b) * capacity_ + pos_) * D);
      std::copy_n(row + 2 * D, D, v_cache_[l].data() + (size_t(b) * capacity_ + pos_) * D);
    }
#pragma omp parallel for schedule(static) if (batch_ * H * keys > 4096)
    for (int bh = 0; bh < batch_ * H; ++bh) {
      const int b = bh / H, h = bh % H;
      const float* q = qkv_.data() + size_t(b) * 3 * D + h * dh;
      const float* kc = k_cache_[l].data() + size_t(b) * capacity_ * D + h * dh;
      const float* vc = v_cache_[l].data() + size_t(b) * capacity_ * D + h * dh;
      float* s = scores_.data() + size_t(bh) * keys;
      for (int64_t j = 0; j < keys; ++j) {
        float dot = 0;
        for (int i = 0; i < dh; ++i) dot += q[i] * kc[j * D + i];
        s[j] = dot * scale;
      }
      softmax_prefix(s, int(keys), int(keys));
      float* o = att_.data() + size_t(b) * D + h * dh;
      std::fill_n(o, dh, 0.0f);
      for (int64_t j = 0; j < keys; ++j) {
        for (int i = 0; i < dh; ++i) o[i] += s[j] * vc[j * D + i];
      }
    }
    matmul(att_.data(), layer.w_out.data(), tmp_.data(), batch_, D, D);
    add_layer_norm_rows(tmp_.data(), nullptr, h_.data(), layer.ln1_scale.data(), layer.ln1_offset.data(), batch_, D);
    matmul(tmp_.data(), layer.w1.data(), ff_.data(), batch_, D, F);
    bias_gelu_rows(ff_.data(), layer.b1.data(), batch_, F);
    matmul(ff_.data(), layer.w2.data(), h_.data(), batch_, F, D);
    add_layer_norm_rows(h_.data(), layer.b2.data(), tmp_.data(), layer.ln2_scale.data(), layer.ln2_offset.data(),
                        batch_, D);
  }
  matmul(h_.data(), w.w_logits.data(), out, batch_, D, V);
  bias_log_softmax_rows(out, w.b_logits.data(), batch_, V);
  ++pos_;
}

}  // namespace lmac
