// Matrix products on the GPU through cuBLAS, in the layout of Hugging Face Linear weights.
#pragma once

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

// y[M, N] = x[M, K] @ w[N, K]^T (+ y when accumulate), all row-major. x and w hold `t`; y holds `yt`, which is `t`
// or f32. Products accumulate in f32 (bf16/fp16 on tensor cores; f32 without TF32, so --dtype fp32 is real f32).
void linear(Context& ctx, const void* x, const void* w, DType t, void* y, DType yt, int M, int N, int K,
            bool accumulate = false);

}  // namespace lmac::cuda
