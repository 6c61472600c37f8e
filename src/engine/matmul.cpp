#include "engine/matmul.hpp"

#include <cblas.h>

namespace lmac {

void matmul(const float* x, const float* w, float* y, int M, int K, int N, bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, x, K, w, N, accumulate ? 1.0f : 0.0f, y, N);
}

void matmul_wt(const float* x, const float* w, float* y, int M, int K, int N, bool accumulate) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, w, K, accumulate ? 1.0f : 0.0f, y, N);
}

}  // namespace lmac
