#include "engine/attention.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "engine/vector_math.hpp"

namespace lmac {

void causal_self_attention(const float* qkv, float* out, int batch, int T, int D, int heads,
                           std::vector<float>& scratch) {
  const int dh = D / heads;
  const int ld = 3 * D;
  const float scale = 1.0f / std::sqrt(float(dh));
  // Large blocks keep each GEMM big enough for OpenBLAS's threads; all heads of a block share one softmax pass.
  const int block = std::min(T, 256);
  scratch.resize(size_t(heads) * size_t(block) * size_t(T));
  for (int b = 0; b < batch; ++b) {
    const float* q = qkv + size_t(b) * T * ld;
    const float* k = q + D;
    const float* v = q + 2 * D;
    float* o = out + size_t(b) * T * D;
    for (int i0 = 0; i0 < T; i0 += block) {
      const int n = std::min(block, T - i0);
      const int keys = i0 + n;  // keys 0 .. keys-1 are visible to some row of this block
      for (int h = 0; h < heads; ++h) {
        float* s = scratch.data() + size_t(h) * block * keys;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, keys, dh, scale, q + size_t(i0) * ld + h * dh, ld,
                    k + h * dh, ld, 0.0f, s, keys);
      }
#pragma omp parallel for schedule(static)
      for (int hr = 0; hr < heads * n; ++hr) {
        const int h = hr / n, r = hr % n;
        softmax_prefix(scratch.data() + size_t(h) * block * keys + size_t(r) * keys, i0 + r + 1, keys);
      }
      for (int h = 0; h < heads; ++h) {
        const float* p = scratch.data() + size_t(h) * block * keys;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dh, keys, 1.0f, p, keys, v + h * dh, ld, 0.0f,
                    o + size_t(i0) * D + h * dh, D);
      }
    }
  }
}

}  // namespace lmac
