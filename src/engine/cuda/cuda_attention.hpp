// Causal self-attention on the GPU, fused in the flash style: scores live in registers a tile at a time with an
// online softmax, so no T x T matrix is ever stored.
#pragma once

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

// The kernels, fastest first, all f32-accumulating:
// - wgmma: Hopper's warpgroup instructions, for bf16/fp16 with head_dim 128 on compute capability 9.0;
// - mma_sync: warp-level tensor-core instructions (sm_80 and later), bf16/fp16 with head_dim 32, 64 or 128;
// - plain: f32 arithmetic, any dtype and head_dim up to 256.
enum class AttentionKernel { automatic, wgmma, mma_sync, plain };

// For `batch` sequences of T rows each (row = b * T + t): out[row, h*hd .. +hd] = softmax over s <= t of
// (q[row, h] . k[b*T + s, h / group] * scale) applied to v. q, k, v and out are row-major with the given row
// strides (in elements) and hold `t`; head h of q starts at column h*hd, key/value head g at column g*hd.
// `kernel` picks one of the kernels above (tests and benchmarks do); automatic takes the first that applies.
void causal_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                      void* out, int out_stride, DType t, int batch, int T, int heads, int kv_heads, int hd,
                      float scale, AttentionKernel kernel = AttentionKernel::automatic);

// The kernel an automatic causal_attention runs for these arguments (16-byte-aligned pointers) on ctx's card.
AttentionKernel attention_kernel_for(const Context& ctx, DType t, int hd, int q_stride, int kv_stride,
                                     int out_stride);
const char* attention_kernel_name(AttentionKernel k);

}  // namespace lmac::cuda
