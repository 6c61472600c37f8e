// The Hopper attention kernel behind causal_attention (engine/cuda/cuda_attention.hpp), for 16-bit data with
// head_dim 128 on compute capability 9.0. Names no CUDA types.
#pragma once

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

// Whether ctx's card runs the sm_90a code (wgmma exists on compute capability 9.0 only).
bool wgmma_attention_available(const Context& ctx);

// causal_attention's contract, for t bf16/f16, head_dim 128, `group` query heads per key/value head, strides
// multiples of 8 and 16-byte-aligned q, k, v and out.
void wgmma_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                     void* out, int out_stride, DType t, int batch, int T_len, int heads, int group, float scale);

}  // namespace lmac::cuda
