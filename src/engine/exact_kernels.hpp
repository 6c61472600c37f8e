// Fixed-reduction-order kernels for the exact scoring path (model/exact_scorer.hpp): every output value is a
// function of its own inputs only, computed by the same sequence of IEEE float32 operations whatever the batch
// size, the number of rows, the thread count or the CPU. Concretely:
//   - matmul: y[m, n] = (...((0 + x[m,0] w[0,n]) + x[m,1] w[1,n]) + ...) + x[m,K-1] w[K-1,n], each product and
//     each sum rounded to float32 (no FMA). Vector lanes run over output columns n (8 or 16 independent sums),
//     never over k; threads split rows and columns, never k.
//   - row reductions (LayerNorm, RMSNorm, softmax, log-softmax, attention) run left to right over the row.
//   - exp, tanh, gelu and silu are lmac's own (engine/exact_math.hpp).
// Three instruction-set variants (baseline x86-64, AVX2, AVX-512) are compiled from one body
// (exact_kernels_body.inc) and picked at run time; they return identical bits, which the unit tests check by
// forcing each one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/half_float.hpp"

namespace lmac {

// Names the arithmetic below; .lmac files record it (ExactScorer::kernel_id). Bump it whenever any kernel or
// exact_math function changes a single bit of its results.
inline constexpr const char* kExactKernelId = "cpu-exact-v1";

enum class ExactIsa { baseline, avx2, avx512 };

const char* exact_isa_name(ExactIsa isa);
bool exact_isa_supported(ExactIsa isa);
// The variant in use: the best the CPU supports, unless forced, or named by the environment variable
// LMAC_EXACT_ISA=baseline|avx2|avx512 (for end-to-end tests that encode with one variant and decode with another).
ExactIsa exact_isa();
// Forces a variant (tests, benchmarks); nullopt returns to automatic. Returns false, changing nothing, if the CPU
// lacks it. Process-wide; not to be called while kernels run.
bool exact_force_isa(std::optional<ExactIsa> isa);

// y[m, :] = x[m, :] @ W (+ bias) for m < M, with W[k, n] = w[k * N + n] (row-major [K, N] float32: Haiku's Linear
// layout). x rows are ldx floats apart, y rows ldy apart. The bias is added after the sum.
void exact_matmul(const float* x, int64_t ldx, int64_t M, const float* w, int K, int N, const float* bias, float* y,
                  int64_t ldy);

// The same with W[k, n] = w[n, k]: a row-major [N, K] matrix (Hugging Face Linear layout) stored as `dtype`
// (f32, f16, bf16 or a GGUF block type, widened to float32 exactly as engine/half_float.hpp does); rows of w are
// weight_row_bytes(dtype, K) bytes apart.
void exact_matmul_nk(const float* x, int64_t ldx, int64_t M, const void* w, WeightDType dtype, int K, int N,
                     const float* bias, float* y, int64_t ldy);

// A weight matrix W[K, N] packed once for exact_matmul_packed: column panels of 32, each [K, 32] contiguous and
// zero-padded, so that a product streams through memory in order (the [K, N] layout strides N floats per k, which
// defeats the prefetcher when few rows share the weights, as in a decoding step). Same bits as exact_matmul.
struct ExactPackedMatrix {
  int K = 0, N = 0;
  std::vector<float> panels;  // [ceil(N / 32), K, 32]

  static ExactPackedMatrix from_kn(const float* w, int K, int N);  // W[k, n] = w[k * N + n]
  // W[k, n] = w[n, k] stored as `dtype` (rows weight_row_bytes(dtype, K) bytes apart).
  static ExactPackedMatrix from_nk(const void* w, WeightDType dtype, int K, int N);
};

void exact_matmul_packed(const float* x, int64_t ldx, int64_t M, const ExactPackedMatrix& w, const float* bias,
                         float* y, int64_t ldy);

// x[r, :] = LayerNorm((x[r, :] + bias) + residual[r, :]) * scale + offset over d columns (bias may be null):
// mean and population variance summed left to right, eps 1e-5, then (x - mean) * (scale * (1 / sqrt(var + eps)))
// + offset, as hk.LayerNorm computes it.
void exact_add_layer_norm_rows(float* x, const float* bias, const float* residual, const float* scale,
                               const float* offset, int64_t rows, int d);

// out[r, :] = x[r, :] * (1 / sqrt(sum(x^2) / d + eps)) * weight, the sum left to right (LlamaRMSNorm).
void exact_rms_norm_rows(const float* x, const float* weight, float eps, float* out, int64_t rows, int d);

// x[r, :] = gelu(x[r, :] + bias) (tanh approximation; bias may be null).
void exact_bias_gelu_rows(float* x, const float* bias, int64_t rows, int n);

// gate[r, :] = silu(gate[r, :]) * up[r, :] (SwiGLU), rows of n.
void exact_silu_mul_rows(float* gate, const float* up, int64_t rows, int n);

// x[r, :] = log_softmax(x[r, :] + bias) over n columns (bias may be null): the max, then the sum of
// exp(x - max) left to right in float64, then x - (max + log(sum)) in float64, rounded once to float32.
void exact_log_softmax_rows(float* x, const float* bias, int64_t rows, int n);

// Attention of one query row of one head against keys 0..keys-1 (causal attention with the masked keys left out,
// which is what the reference's float32-minimum mask amounts to):
//   s[j] = (sum_i q[i] * kt[i * ldk + j]) * scale          (i = 0..dh-1 in order)
//   e[j] = exp(s[j] - max_j s[j]);  z = sum_j e[j]          (left to right)
//   out[i] = (sum_j e[j] * v[j * ldv + i]) / z              (j = 0..keys-1 in order)
// Keys are stored transposed (kt: [dh, >= keys], rows ldk apart) so that scores vectorise across keys; values
// are row-major (v: [>= keys, dh], rows ldv apart). `scores` is scratch for `keys` floats.
struct ExactAttentionRow {
  const float* q;
  const float* kt;
  const float* v;
  int keys;
  float* scores;
  float* out;
};

// Any number of rows (of any heads and sequences; their buffers must not overlap) in one call: the kernel works on
// several at a time to overlap their dependency chains, but each row's bits are those of the definition above,
// whatever rows it is grouped with. A full pass and an incremental step thus give bit-identical rows.
// Runs forward_rows(r0, r1) over `rows` rows that hold `sequences` equally long sequences back to back. With
// several sequences and threads, each OpenMP thread takes whole sequences through every layer on its own (no
// barrier inside a step, which matters on a loaded machine); otherwise one call takes all rows and the kernels
// split each matrix product. Every row is computed by the same operations either way.
void exact_for_sequences(int64_t rows, int sequences, const std::function<void(int64_t r0, int64_t r1)>& forward_rows);

void exact_attention_rows(const ExactAttentionRow* rows, int n, int64_t ldk, int64_t ldv, int dh, float scale);

inline void exact_attention_row(const float* q, const float* kt, int64_t ldk, const float* v, int64_t ldv, int keys,
                                int dh, float scale, float* scores, float* out) {
  const ExactAttentionRow row{q, kt, v, keys, scores, out};
  exact_attention_rows(&row, 1, ldk, ldv, dh, scale);
}

}  // namespace lmac
