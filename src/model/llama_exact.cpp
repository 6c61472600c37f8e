// LlamaExactScorer: the Llama forward pass under CachedExactScorer's driver (one forward routine over rows of
// (sequence, position) for both the full pass and the step). Every kernel computes a row on its own, in a fixed
// order, so a row's bits do not depend on the path, the batch or the threads.
#include "model/llama_exact.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "engine/exact_kernels.hpp"
#include "engine/exact_math.hpp"
#include "engine/half_matmul.hpp"
#include "model/cached_exact_scorer.hpp"
#include "model/llama_model.hpp"
#include "model/llama_rope.hpp"
#include "util/error.hpp"

namespace lmac {

std::vector<float> llama_exact_inv_freq(const RopeConfig& rope, int head_dim) {
  const int half = head_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  // transformers: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), in float32.
  for (int i = 0; i < half; ++i) {
    const float exponent = float(2 * i) / float(head_dim);
    const float power = float(exact_pow_f64(double(float(rope.theta)), double(exponent)));
    inv[size_t(i)] = 1.0f / power;
  }
  apply_rope_scaling(rope, inv);  // IEEE divisions and multiplications only
  return inv;
}

void exact_apply_top_k(float* lp, int alphabet, int k) {
  if (k <= 0 || k >= alphabet) return;
  std::vector<int> order(static_cast<size_t>(alphabet));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return lp[a] > lp[b] || (lp[a] == lp[b] && a < b); });
  const double top = lp[order[0]];
  double sum = 0;
  for (int i = 0; i < k; ++i) sum = sum + exact_exp_f64(double(lp[order[size_t(i)]]) - top);
  const double kept_shift = -(top + exact_log_f64(sum)) + exact_log_f64(1.0 - double(alphabet - k) * kTopKFloor);
  std::vector<char> kept(static_cast<size_t>(alphabet), 0);
  for (int i = 0; i < k; ++i) kept[size_t(order[size_t(i)])] = 1;
  const float floor_lp = float(exact_log_f64(kTopKFloor));
  for (int s = 0; s < alphabet; ++s) lp[s] = kept[size_t(s)] ? float(double(lp[s]) + kept_shift) : floor_lp;
}

namespace {

// Small models get their matrices packed once in float32 (fast decoding steps); large ones are widened panel by
// panel inside each product. Both give the same bits.
constexpr int64_t kPackLimit = int64_t{1} << 24;  // weights, all layers together

struct ExactLinear {
  WeightMatrix w;
  ExactPackedMatrix packed;
  bool is_packed = false;

  ExactLinear(const WeightMatrix& m, bool pack) : w(m), is_packed(pack) {
    if (pack) packed = ExactPackedMatrix::from_nk(m.data, m.dtype, m.cols, m.rows);
  }
  // y[M, w.rows] = x[M, w.cols] @ w^T
  void apply(const float* x, int64_t M, float* y) const {
    if (is_packed) {
      exact_matmul_packed(x, w.cols, M, packed, nullptr, y, w.rows);
    } else {
      exact_matmul_nk(x, w.cols, M, w.data, w.dtype, w.cols, w.rows, nullptr, y, w.rows);
    }
  }
};

struct ExactLayer {
  ExactLinear q, k, v, o, gate, up, down;
};

class LlamaExactScorer final : public CachedExactScorer {
 public:
  LlamaExactScorer(const LlamaModel& model, int top_k)
      : CachedExactScorer(model.alphabet_size(), /*rows_per_pass=*/4096), model_(model), c_(model.weights().config),
        top_k_(top_k), D_(c_.hidden_size), H_(c_.num_attention_heads),
        KV_(c_.num_key_value_heads), hd_(c_.head_dim), F_(c_.intermediate_size), A_(model.alphabet_size()),
        eps_(float(c_.rms_norm_eps)), attn_scale_(float(1.0 / std::sqrt(double(c_.head_dim)))),
        inv_freq_(llama_exact_inv_freq(c_.rope, c_.head_dim)) {
    const LlamaWeights& w = model.weights();
    int64_t total = 0;
    for (const LlamaLayerWeights& l : w.layers) {
      for (const WeightMatrix* m : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) {
        total += int64_t(m->rows) * m->cols;
      }
    }
    const bool pack = total <= kPackLimit;
    for (const LlamaLayerWeights& l : w.layers) {
      layers_.push_back({ExactLinear(l.q, pack), ExactLinear(l.k, pack), ExactLinear(l.v, pack),
                         ExactLinear(l.o, pack), ExactLinear(l.gate, pack), ExactLinear(l.up, pack),
                         ExactLinear(l.down, pack)});
    }
    output_ = ExactPackedMatrix::from_nk(w.output_rows.data(), WeightDType::f32, D_, A_);
  }

 private:
  void check_symbol(uint32_t symbol, int sequence, int64_t position) const override { model_.token_of(symbol); }

  void embed_input(std::optional<uint32_t> previous, int64_t pos, int64_t row) override {
    embed(previous ? model_.token_of(*previous) : model_.bos_token(), h_.data() + row * D_);
  }

  void allocate(int64_t rows) override {
    const size_t cache = size_t(batch_) * KV_ * hd_ * capacity_;
    kt_.assign(size_t(c_.num_hidden_layers), std::vector<float>(cache));
    v_.assign(size_t(c_.num_hidden_layers), std::vector<float>(cache));
    const size_t r = size_t(rows);
    h_.resize(r * D_);
    x_.resize(r * D_);
    tmp_.resize(r * D_);
    q_.resize(r * H_ * hd_);
    att_.resize(r * H_ * hd_);
    k_.resize(r * KV_ * hd_);
    vv_.resize(r * KV_ * hd_);
    gate_.resize(r * F_);
    up_.resize(r * F_);
    rope_rows(capacity_);
  }

  void grow(int64_t capacity) override {
    for (int l = 0; l < c_.num_hidden_layers; ++l) {
      std::vector<float> kt(size_t(batch_) * KV_ * hd_ * capacity), v(kt.size());
      for (int64_t bg = 0; bg < int64_t(batch_) * KV_; ++bg) {
        for (int i = 0; i < hd_; ++i) {
          std::copy_n(kt_[l].data() + (bg * hd_ + i) * capacity_, pos_, kt.data() + (bg * hd_ + i) * capacity);
        }
        std::copy_n(v_[l].data() + bg * capacity_ * hd_, pos_ * hd_, v.data() + bg * capacity * hd_);
      }
      kt_[l] = std::move(kt);
      v_[l] = std::move(v);
    }
    rope_rows(capacity);
  }

  // cos/sin rows for positions [0, n): angle = inv_freq[i] * position in float32 (as transformers forms it), then
  // lmac's own float64 cos and sin, rounded to float32.
  void rope_rows(int64_t n) {
    const int half = hd_ / 2;
    for (int64_t p = int64_t(cos_.size()) / half; p < n; ++p) {
      for (int i = 0; i < half; ++i) {
        const float angle = inv_freq_[size_t(i)] * float(p);
        cos_.push_back(float(exact_cos_f64(double(angle))));
        sin_.push_back(float(exact_sin_f64(double(angle))));
      }
    }
  }

  void embed(int token, float* h) const { weight_row_f32(model_.weights().embed, token, h); }

  // (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin), element i paired with i + head_dim/2 (rotate_half).
  void rotate(float* x, int64_t pos) const {
    const int half = hd_ / 2;
    const float* cs = cos_.data() + pos * half;
    const float* sn = sin_.data() + pos * half;
    for (int i = 0; i < half; ++i) {
      const float x1 = x[i], x2 = x[i + half];
      x[i] = x1 * cs[i] - x2 * sn[i];
      x[i + half] = x2 * cs[i] + x1 * sn[i];
    }
  }

  // Rows 0..R-1 of h_ (a sequence's rows consecutive, `seqs` sequences) through the model into out (threads:
  // exact_for_sequences).
  void forward(int64_t R, int seqs, float* out) override {
    exact_for_sequences(R, seqs, [&](int64_t r0, int64_t r1) { forward_rows(r0, r1, out + r0 * A_); });
  }

  void forward_rows(int64_t r0, int64_t r1, float* out) {
    const LlamaWeights& w = model_.weights();
    const int D = D_, H = H_, KV = KV_, hd = hd_, F = F_, qd = H * hd, kvd = KV * hd, group = H / KV;
    const int64_t R = r1 - r0;
    float* h = h_.data() + r0 * D;
    float* x = x_.data() + r0 * D;
    float* tmp = tmp_.data() + r0 * D;
    float* q = q_.data() + r0 * qd;
    float* att = att_.data() + r0 * qd;
    float* k = k_.data() + r0 * kvd;
    float* v = vv_.data() + r0 * kvd;
    float* gate = gate_.data() + r0 * F;
    float* up = up_.data() + r0 * F;
    const int* seq = row_seq_.data() + r0;
    const int* pos = row_pos_.data() + r0;
    for (int l = 0; l < c_.num_hidden_layers; ++l) {
      const LlamaLayerWeights& lw = w.layers[size_t(l)];
      const ExactLayer& L = layers_[size_t(l)];
      float* kt = kt_[size_t(l)].data();
      float* vc = v_[size_t(l)].data();
      // Attention block: h = h + o_proj(attention(rope(q), rope(k), v)) of RMSNorm(h).
      exact_rms_norm_rows(h, lw.attn_norm.data(), eps_, x, R, D);
      L.q.apply(x, R, q);
      L.k.apply(x, R, k);
      L.v.apply(x, R, v);
      for (int64_t r = 0; r < R; ++r) {
        for (int hh = 0; hh < H; ++hh) rotate(q + r * qd + hh * hd, pos[r]);
        for (int g = 0; g < KV; ++g) {
          float* kr = k + r * kvd + g * hd;
          rotate(kr, pos[r]);
          // Keys transposed ([b, kv head, i, position]) so that scores vectorise across positions.
          const int64_t bg = int64_t(seq[r]) * KV + g;
          for (int i = 0; i < hd; ++i) kt[(bg * hd + i) * capacity_ + pos[r]] = kr[i];
          std::copy_n(v + r * kvd + g * hd, hd, vc + (bg * capacity_ + pos[r]) * hd);
        }
      }
      // Query head hh reads key/value head hh / group; rows in groups of four, which never changes their bits.
      const int64_t items = R * H, groups = (items + 3) / 4;
#pragma omp parallel if (groups > 1 && !omp_in_parallel() && items * (pos[R - 1] + 1) * hd > (1 << 20))
      {
        std::vector<float> scores(static_cast<size_t>(4 * capacity_));
        ExactAttentionRow rows[4];
#pragma omp for schedule(dynamic, 1)
        for (int64_t gi = 0; gi < groups; ++gi) {
          const int n = int(std::min<int64_t>(4, items - 4 * gi));
          for (int j = 0; j < n; ++j) {
            const int64_t item = 4 * gi + j;  // head-major: item = hh * R + r
            const int64_t r = item % R;
            const int hh = int(item / R);
            const int64_t bg = int64_t(seq[r]) * KV + hh / group;
            rows[j] = {q + r * qd + hh * hd, kt + bg * hd * capacity_, vc + bg * capacity_ * hd, pos[r] + 1,
                       scores.data() + j * capacity_, att + r * qd + hh * hd};
          }
          exact_attention_rows(rows, n, capacity_, hd, hd, attn_scale_);
        }
      }
      L.o.apply(att, R, tmp);
      for (int64_t i = 0; i < R * D; ++i) h[i] = h[i] + tmp[i];
      // MLP block (SwiGLU): h = h + down(silu(gate(x)) * up(x)) of RMSNorm(h).
      exact_rms_norm_rows(h, lw.mlp_norm.data(), eps_, x, R, D);
      L.gate.apply(x, R, gate);
      L.up.apply(x, R, up);
      exact_silu_mul_rows(gate, up, R, F);
      L.down.apply(gate, R, tmp);
      for (int64_t i = 0; i < R * D; ++i) h[i] = h[i] + tmp[i];
    }
    // Final norm, the logits of the mapped tokens only, log-softmax over the alphabet, then --top_k.
    exact_rms_norm_rows(h, w.final_norm.data(), eps_, x, R, D);
    exact_matmul_packed(x, D, R, output_, nullptr, out, A_);
    exact_log_softmax_rows(out, nullptr, R, A_);
    if (top_k_ > 0 && top_k_ < A_) {
      for (int64_t r = 0; r < R; ++r) exact_apply_top_k(out + r * A_, A_, top_k_);
    }
  }

  const LlamaModel& model_;
  const LlamaConfig c_;
  const int top_k_, D_, H_, KV_, hd_, F_, A_;
  const float eps_, attn_scale_;
  const std::vector<float> inv_freq_;
  std::vector<ExactLayer> layers_;
  ExactPackedMatrix output_;
  std::vector<float> cos_, sin_;            // [positions, head_dim / 2]
  std::vector<std::vector<float>> kt_, v_;  // per layer: [batch, KV, head_dim, capacity], [batch, KV, capacity, hd]
  std::vector<float> h_, x_, tmp_, q_, att_, k_, vv_, gate_, up_;
};

}  // namespace

std::unique_ptr<ExactScorer> make_llama_exact_scorer(const LlamaModel& model, int top_k) {
  return std::make_unique<LlamaExactScorer>(model, top_k);
}

}  // namespace lmac
