// Internal to the exact kernels: the entry points each instruction-set variant provides (exact_kernels_body.inc,
// compiled once per variant). exact_kernels.cpp picks one table and does the threading and the weight packing.
#pragma once

#include <cstdint>

#include "engine/exact_kernels.hpp"

namespace lmac {

// Output columns per matmul panel: the weights of one panel are [K, kExactPanel] floats, row stride ldw.
inline constexpr int kExactPanel = 32;

struct ExactKernelTable {
  // y[m, c] = sum_k x[m, k] * w[k * ldw + c] (+ bias[c]) for m < M, c < ncols <= kExactPanel. w must be readable
  // for kExactPanel columns (zero-padded past ncols).
  void (*matmul_panel)(const float* x, int64_t ldx, int64_t M, const float* w, int64_t ldw, int K,
                       const float* bias, float* y, int64_t ldy, int ncols);
  void (*add_layer_norm_rows)(float* x, const float* bias, const float* residual, const float* scale,
                              const float* offset, int64_t rows, int d);
  void (*rms_norm_rows)(const float* x, const float* weight, float eps, float* out, int64_t rows, int d);
  void (*bias_gelu_rows)(float* x, const float* bias, int64_t rows, int n);
  void (*silu_mul_rows)(float* gate, const float* up, int64_t rows, int n);
  void (*log_softmax_rows)(float* x, const float* bias, int64_t rows, int n);
  void (*attention_rows)(const ExactAttentionRow* rows, int n, int64_t ldk, int64_t ldv, int dh, float scale);
};

const ExactKernelTable& exact_kernels_baseline();
const ExactKernelTable& exact_kernels_avx2();
const ExactKernelTable& exact_kernels_avx512();

}  // namespace lmac
