// Causal self-attention on the GPU, fused in the flash style: scores live in registers a tile at a time with an
// online softmax, so no T x T matrix is ever stored.
#pragma once

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

// For `batch` sequences of T rows each (row = b * T + t): out[row, h*hd .. +hd] = softmax over s <= t of
// (q[row, h] . k[b*T + s, h / group] * scale) applied to v. q, k, v and out are row-major with the given row
// strides (in elements) and hold `t`; head h of q starts at column h*hd, key/value head g at column g*hd.
// bf16/fp16 with head_dim 32, 64 or 128 runs on tensor cores (mma.sync, f32 accumulation); everything else on
// a plain f32 kernel.
void causal_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                      void* out, int out_stride, DType t, int batch, int T, int heads, int kv_heads, int hd,
                      float scale);

// Whether causal_attention takes the tensor-core path for these arguments (for tests and benchmarks).
bool attention_uses_tensor_cores(DType t, int hd, int q_stride, int kv_stride, int out_stride);

}  // namespace lmac::cuda
