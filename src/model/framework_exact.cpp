// FrameworkExactScorer: the framework transformer under CachedExactScorer's driver (one forward routine over rows of
// (sequence, position) for both the full pass and the step). Every kernel computes a row independently of the
// others, in a fixed order, so a row's bits do not depend on which path, batch or thread produced it.
#include "model/framework_exact.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "engine/exact_kernels.hpp"
#include "engine/exact_math.hpp"
#include "model/cached_exact_scorer.hpp"
#include "model/framework_model.hpp"
#include "util/error.hpp"

namespace lmac {

void framework_exact_position_row(int64_t pos, int d, float* out) {
  const int nf = d / 2 + 1;  // frequencies f = 0, 2, ..., D: columns 0..D/2 are sines, the rest cosines
  for (int c = 0; c < d; ++c) {
    const int j = c < nf ? c : c - nf;
    const double inv = exact_pow_f64(1e4, -double(2 * j) / double(d));
    const double angle = double(pos) * inv;
    out[c] = float(c < nf ? exact_sin_f64(angle) : exact_cos_f64(angle));
  }
}

namespace {

class FrameworkExactScorer final : public CachedExactScorer {
 public:
  explicit FrameworkExactScorer(const FrameworkModel& model)
      : CachedExactScorer(model.config().vocab_size, /*rows_per_pass=*/8192), model_(model), c_(model.config()),
        D_(c_.embedding_dim), H_(c_.num_heads), dh_(D_ / H_), F_(D_ * c_.widening_factor), V_(c_.vocab_size),
        embed_scale_(float(std::sqrt(double(D_)))), attn_scale_(1.0f / std::sqrt(float(dh_))) {
    // Each scorer packs its own copy of the matrices (4 x the parameter count in bytes): scorers are few, one per
    // worker thread, and a private copy needs no sharing protocol.
    for (const FrameworkLayer& layer : model.weights().layers) {
      layers_.push_back({ExactPackedMatrix::from_kn(layer.w_qkv.data(), D_, 3 * D_),
                         ExactPackedMatrix::from_kn(layer.w_out.data(), D_, D_),
                         ExactPackedMatrix::from_kn(layer.w1.data(), D_, F_),
                         ExactPackedMatrix::from_kn(layer.w2.data(), F_, D_)});
    }
    logits_ = ExactPackedMatrix::from_kn(model.weights().w_logits.data(), D_, V_);
  }

 private:
  void check_symbol(uint32_t symbol, int sequence, int64_t position) const override {
    model_.check_symbol(symbol, sequence, position);
  }

  void embed_input(std::optional<uint32_t> previous, int64_t pos, int64_t row) override {
    embed(previous.value_or(0), pos, h_.data() + row * D_);  // symbol 0 plays BOS
  }

  void allocate(int64_t rows) override {
    const size_t cache = size_t(batch_) * H_ * dh_ * capacity_;
    kt_.assign(size_t(c_.num_layers), std::vector<float>(cache));
    v_.assign(size_t(c_.num_layers), std::vector<float>(cache));
    h_.resize(size_t(rows) * D_);
    qkv_.resize(size_t(rows) * 3 * D_);
    att_.resize(size_t(rows) * D_);
    tmp_.resize(size_t(rows) * D_);
    ff_.resize(size_t(rows) * F_);
  }

  void grow(int64_t capacity) override {
    for (int l = 0; l < c_.num_layers; ++l) {
      std::vector<float> kt(size_t(batch_) * H_ * dh_ * capacity), v(kt.size());
      for (int64_t bh = 0; bh < int64_t(batch_) * H_; ++bh) {
        for (int i = 0; i < dh_; ++i) {
          std::copy_n(kt_[l].data() + (bh * dh_ + i) * capacity_, pos_, kt.data() + (bh * dh_ + i) * capacity);
        }
        std::copy_n(v_[l].data() + bh * capacity_ * dh_, pos_ * dh_, v.data() + bh * capacity * dh_);
      }
      kt_[l] = std::move(kt);
      v_[l] = std::move(v);
    }
  }

  void embed(uint32_t symbol, int64_t pos, float* h) {
    while (int64_t(positions_.size()) < (pos + 1) * D_) {
      const int64_t next = int64_t(positions_.size()) / D_;
      positions_.resize(positions_.size() + size_t(D_));
      framework_exact_position_row(next, D_, positions_.data() + next * D_);
    }
    const float* e = model_.weights().embed.data() + size_t(symbol) * D_;
    const float* p = positions_.data() + pos * D_;
    for (int i = 0; i < D_; ++i) h[i] = e[i] * embed_scale_ + p[i];
  }

  // Rows 0..R-1 of h_ through the model (threads: exact_for_sequences).
  void forward(int64_t R, int seqs, float* out) override {
    exact_for_sequences(R, seqs, [&](int64_t r0, int64_t r1) { forward_rows(r0, r1, out + r0 * V_); });
  }

  // Rows [r0, r1), which hold whole sequences (the full pass) or one position of some sequences (a step).
  void forward_rows(int64_t r0, int64_t r1, float* out) {
    const FrameworkWeights& w = model_.weights();
    const int D = D_, H = H_, dh = dh_, F = F_;
    const int64_t R = r1 - r0;
    float* h = h_.data() + r0 * D;
    float* qkv = qkv_.data() + r0 * 3 * D;
    float* att = att_.data() + r0 * D;
    float* tmp = tmp_.data() + r0 * D;
    float* ff = ff_.data() + r0 * F;
    for (int l = 0; l < c_.num_layers; ++l) {
      const FrameworkLayer& layer = w.layers[size_t(l)];
      const PackedLayer& packed = layers_[size_t(l)];
      float* kt = kt_[size_t(l)].data();
      float* vc = v_[size_t(l)].data();
      exact_matmul_packed(h, D, R, packed.qkv, nullptr, qkv, 3 * D);
      // Keys transposed ([b, h, i, position]) so that attention scores vectorise across positions.
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = row_seq_[r0 + r], t = row_pos_[r0 + r];
        const float* k = qkv + r * 3 * D + D;
        const float* v = k + D;
        for (int hh = 0; hh < H; ++hh) {
          const int64_t bh = b * H + hh;
          for (int i = 0; i < dh; ++i) kt[(bh * dh + i) * capacity_ + t] = k[hh * dh + i];
          std::copy_n(v + hh * dh, dh, vc + (bh * capacity_ + t) * dh);
        }
      }
      // Attention rows in groups of four (consecutive positions of one head, or one position of four sequences),
      // which the kernel interleaves; grouping never changes a row's bits.
      const int64_t items = R * H, groups = (items + 3) / 4;
#pragma omp parallel if (groups > 1 && !omp_in_parallel() && items * (row_pos_[r1 - 1] + 1) * dh > (1 << 20))
      {
        std::vector<float> scores(static_cast<size_t>(4 * capacity_));
        ExactAttentionRow rows[4];
#pragma omp for schedule(dynamic, 1)
        for (int64_t g = 0; g < groups; ++g) {
          const int n = int(std::min<int64_t>(4, items - 4 * g));
          for (int k = 0; k < n; ++k) {
            const int64_t item = 4 * g + k;  // head-major: item = hh * R + r
            const int64_t r = item % R;
            const int hh = int(item / R);
            const int64_t bh = int64_t(row_seq_[r0 + r]) * H + hh;
            rows[k] = {qkv + r * 3 * D + hh * dh, kt + bh * dh * capacity_, vc + bh * capacity_ * dh,
                       row_pos_[r0 + r] + 1, scores.data() + k * capacity_, att + r * D + hh * dh};
          }
          exact_attention_rows(rows, n, capacity_, dh, dh, attn_scale_);
        }
      }
      exact_matmul_packed(att, D, R, packed.out, nullptr, tmp, D);
      // a = LayerNorm(h + attention); h = LayerNorm((ff W2 + b2) + a)
      exact_add_layer_norm_rows(tmp, nullptr, h, layer.ln1_scale.data(), layer.ln1_offset.data(), R, D);
      exact_matmul_packed(tmp, D, R, packed.w1, nullptr, ff, F);
      exact_bias_gelu_rows(ff, layer.b1.data(), R, F);
      exact_matmul_packed(ff, F, R, packed.w2, nullptr, h, D);
      exact_add_layer_norm_rows(h, layer.b2.data(), tmp, layer.ln2_scale.data(), layer.ln2_offset.data(), R, D);
    }
    exact_matmul_packed(h, D, R, logits_, nullptr, out, V_);
    exact_log_softmax_rows(out, w.b_logits.data(), R, V_);
  }

  struct PackedLayer {
    ExactPackedMatrix qkv, out, w1, w2;
  };

  const FrameworkModel& model_;
  const FrameworkConfig c_;
  const int D_, H_, dh_, F_, V_;
  const float embed_scale_, attn_scale_;
  std::vector<PackedLayer> layers_;
  ExactPackedMatrix logits_;
  std::vector<float> positions_;               // [positions computed so far, D]
  std::vector<std::vector<float>> kt_, v_;     // per layer: [batch, H, dh, capacity] and [batch, H, capacity, dh]
  std::vector<float> h_, qkv_, att_, tmp_, ff_;
};

}  // namespace

std::unique_ptr<ExactScorer> make_framework_exact_scorer(const FrameworkModel& model) {
  return std::make_unique<FrameworkExactScorer>(model);
}

}  // namespace lmac
