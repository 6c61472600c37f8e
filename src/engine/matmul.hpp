// Dense matrix products on the CPU (OpenBLAS, multi-threaded through OpenMP).
#pragma once

namespace lmac {

// y[M, N] = x[M, K] @ w[K, N]  (+ y if accumulate). All row-major float32.
void matmul(const float* x, const float* w, float* y, int M, int K, int N, bool accumulate = false);

// y[M, N] = x[M, K] @ w[N, K]^T  (+ y if accumulate): the layout of PyTorch / Hugging Face Linear weights.
void matmul_wt(const float* x, const float* w, float* y, int M, int K, int N, bool accumulate = false);

}  // namespace lmac
