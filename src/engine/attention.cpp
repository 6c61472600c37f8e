#include "engine/attention.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "engine/blas_threads.hpp"
#include "engine/vector_math.hpp"

namespace lmac {

void causal_self_attention(const float* qkv, float* out, int batch, int T, int D, int heads,
                           std::vector<float>& scratch) {
  const int dh = D / heads;
  const int ld = 3 * D;
  const float scale = 1.0f / std::sqrt(float(dh));
  const int block = std::min(T, 128);
  const int blocks = (T + block - 1) / block;
  const int items = batch * heads * blocks;
  const int threads = omp_get_max_threads();
  scratch.resize(size_t(threads) * size_t(block) * size_t(T));
  // One work item = one block of query rows of one head of one sequence: two single-threaded GEMMs and a softmax,
  // all on one thread, so that the only thread pool is OpenMP's (see engine/blas_threads.hpp).
  SingleThreadedBlas single;
#pragma omp parallel for schedule(dynamic, 1)
  for (int item = 0; item < items; ++item) {
    // Late blocks (more keys) first, for balance.
    const int blk = blocks - 1 - item % blocks;
    const int h = (item / blocks) % heads;
    const int b = item / (blocks * heads);
    const int i0 = blk * block, n = std::min(block, T - i0), keys = i0 + n;
    const float* q = qkv + size_t(b) * T * ld + h * dh;
    const float* k = q + D;
    const float* v = q + 2 * D;
    float* s = scratch.data() + size_t(omp_get_thread_num()) * block * T;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, keys, dh, scale, q + size_t(i0) * ld, ld, k, ld, 0.0f, s,
                keys);
    for (int r = 0; r < n; ++r) softmax_prefix(s + size_t(r) * keys, i0 + r + 1, keys);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dh, keys, 1.0f, s, keys, v, ld, 0.0f,
                out + (size_t(b) * T + i0) * D + h * dh, D);
  }
}

}  // namespace lmac
