// Row-wise kernels of transformer layers on float32 data: LayerNorm, GELU, softmax, log-softmax.
// They are compiled for several x86-64 levels (AVX-512, AVX2, baseline) and picked at run time, so a portable
// build still vectorises; the exponential is a polynomial the compiler can vectorise (libm's is not), accurate to
// ~2e-7 relative, with its argument clamped to [-87.3, 88] (so masked entries are zeroed explicitly).
#pragma once

#include <cstdint>

namespace lmac {

// x[r, :] = LayerNorm((x[r, :] + bias) + residual[r, :]) * scale + offset: a Linear layer's bias, the residual
// connection and the LayerNorm in one pass (bias may be null). The additions happen in the reference's order.
// LayerNorm as Haiku's hk.LayerNorm: population variance, eps 1e-5.
void add_layer_norm_rows(float* x, const float* bias, const float* residual, const float* scale, const float* offset,
                         int64_t rows, int d);

// x[r, :] = gelu(x[r, :] + b) for `rows` rows of width n; tanh approximation (jax.nn.gelu's default).
void bias_gelu_rows(float* x, const float* b, int64_t rows, int n);

// x[r, :] = log_softmax(x[r, :] + b) for `rows` rows of width n.
void bias_log_softmax_rows(float* x, const float* b, int64_t rows, int n);

// One row, in place: x[0..valid) becomes the softmax of those entries; x[valid..n) becomes 0 (masked keys).
void softmax_prefix(float* x, int valid, int n);

}  // namespace lmac
