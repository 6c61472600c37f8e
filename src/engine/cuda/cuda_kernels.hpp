// The row-wise and element-wise operations of transformer layers on the GPU: embeddings, RMSNorm, LayerNorm with
// bias and residual, RoPE, SwiGLU, GELU, log-softmax, and dtype conversion. Each reads and writes device memory
// once (fused), computes in f32 whatever the storage dtype `t`, and runs on the context's stream.
#pragma once

#include <cstddef>

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

// out32[r, :] = table[tokens[r], :] * scale + (positions ? positions[(r % T), :] : 0) when out32 is not null, and
// the same rounded to `t` in out_t when it is not null. table holds `t`, positions f32.
void embed_rows(Context& ctx, const int* tokens, const void* table, DType t, float scale, const float* positions,
                int T, float* out32, void* out_t, int rows, int D);

// out[r, :] = w * x[r, :] / sqrt(mean(x[r, :]^2) + eps), x in `xt` (f32 or `t`), out in `t`; sums in f32.
void rms_norm(Context& ctx, const void* x, DType xt, const float* w, float eps, void* out, DType t, int rows, int D);

// Rotates the first `heads` head vectors (head_dim hd each) of every row of x in place, Hugging Face's rotate_half
// pairing (i with i + hd/2), at position r % T: cos/sin are [T, hd/2] tables.
void rope(Context& ctx, void* x, DType t, int rows, int row_stride, int heads, int hd, const float* cos,
          const float* sin, int T);

// out[r, i] = silu(gu[r, i]) * gu[r, F + i]: gate and up projections side by side in one [rows, 2F] matrix.
void swiglu(Context& ctx, const void* gu, void* out, DType t, int rows, int F);

// v = (x[r, :] + bias) + residual[r, :] (bias may be null); out32[r, :] = LayerNorm(v) * scale + offset
// (population variance, eps 1e-5, as Haiku), and the same in `t` in out_t when not null. out32 may alias x.
void add_layer_norm(Context& ctx, const float* x, const float* bias, const float* residual, const float* scale,
                    const float* offset, float* out32, void* out_t, DType t, int rows, int D);

// x[r, :] = gelu(x[r, :] + b), tanh approximation (jax.nn.gelu's default); x holds `t`, b f32.
void bias_gelu(Context& ctx, void* x, DType t, const float* b, int rows, int n);

// x[r, :] = log_softmax(x[r, :] + bias) over n columns (bias may be null); f32, sums in f32 per thread then
// combined, n up to 65536.
void log_softmax_rows(Context& ctx, float* x, const float* bias, int rows, int n);

// dst[i] = src[i] converted from src_t to dst_t (round to nearest even), n elements.
void convert(Context& ctx, const void* src, DType src_t, void* dst, DType dst_t, size_t n);

}  // namespace lmac::cuda
