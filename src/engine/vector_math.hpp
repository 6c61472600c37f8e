// Row-wise kernels of transformer layers on float32 data: LayerNorm, GELU, softmax, log-softmax.
// They are compiled for several x86-64 levels (AVX-512, AVX2, baseline) and picked at run time, so a portable
// build still vectorises; the exponential is a polynomial the compiler can vectorise (libm's is not).
#pragma once

#include <cstdint>

namespace lmac {

// x[r, :] = LayerNorm(x[r, :]) * scale + offset for `rows` rows of width d. Population variance, eps 1e-5
// (Haiku's hk.LayerNorm defaults).
void layer_norm_rows(float* x, const float* scale, const float* offset, int64_t rows, int d);

// y[r, :] += x[r, :] for `rows` rows of width d (residual connections).
void add_rows(float* y, const float* x, int64_t rows, int d);

// y[r, :] += b for `rows` rows of width n.
void add_bias_rows(float* y, const float* b, int64_t rows, int n);

// x = gelu(x), tanh approximation (jax.nn.gelu's default), n elements.
void gelu_tanh(float* x, int64_t n);

// In place: x[r, 0..valid) becomes softmax over those entries; x[r, valid..n) becomes 0 (masked).
void softmax_prefix(float* x, int valid, int n);

// x[r, :] = log_softmax(x[r, :]) for `rows` rows of width n.
void log_softmax_rows(float* x, int64_t rows, int n);

// exp(x) for float32, relative error ~2e-7, exp(x) = 0 below about -87.3 and inf above about 88.7.
float fast_expf(float x);

}  // namespace lmac
