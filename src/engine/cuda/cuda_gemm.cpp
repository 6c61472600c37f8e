#include "engine/cuda/cuda_gemm.hpp"

#include <cublas_v2.h>

#include "util/error.hpp"

namespace lmac::cuda {

namespace {

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::f32: return CUDA_R_32F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::f16: return CUDA_R_16F;
  }
  return CUDA_R_32F;
}

}  // namespace

void linear(Context& ctx, const void* x, const void* w, DType t, void* y, DType yt, int M, int N, int K,
            bool accumulate) {
  if (yt != t && yt != DType::f32)
    throw_error(ErrorCode::internal, "linear: output dtype {} for inputs {}", dtype_name(yt), dtype_name(t));
  if (M == 0 || N == 0) return;
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  // cuBLAS is column-major: the row-major y[M, N] is y^T[N, M] there, and y^T = w[N, K] x^T, where the
  // row-major w is a column-major K x N matrix used transposed and x a column-major K x M one.
  const cublasComputeType_t compute = t == DType::f32 ? CUBLAS_COMPUTE_32F_PEDANTIC : CUBLAS_COMPUTE_32F;
  const cublasStatus_t s =
      cublasGemmEx(static_cast<cublasHandle_t>(ctx.cublas()), CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, w,
                   cuda_type(t), K, x, cuda_type(t), K, &beta, y, cuda_type(yt), N, compute, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS)
    throw_error(ErrorCode::internal, "cuBLAS GEMM [{} x {}] @ [{} x {}]^T ({} -> {}) failed: {}", M, K, N, K,
                dtype_name(t), dtype_name(yt), cublasGetStatusString(s));
}

}  // namespace lmac::cuda
