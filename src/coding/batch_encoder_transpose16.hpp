// Internal to src/coding: the 16x16 float transpose the AVX-512 batch kernels (batch_encoder_avx512.cpp,
// batch_encoder_probs_avx512.cpp) share.
#pragma once

#include "coding/exp_f32_kernel.hpp"  // LMAC_HAVE_X86, <immintrin.h>

#ifdef LMAC_HAVE_X86

// GCC 12's avx512fintrin.h trips -W(maybe-)uninitialized on its own _mm512_undefined_ps() (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define LMAC_AVX512 __attribute__((target("avx512f,fma")))

namespace lmac::batch_detail {

// In: r[k] = sixteen consecutive values of row k. Out: r[j] = value j of rows 0..15.
LMAC_AVX512 inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16], w[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  // Each 128-bit lane j of u[4i + m] now holds column 4j + m of rows 4i .. 4i + 3.
  for (int m = 0; m < 4; ++m) {
    w[m] = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
    w[4 + m] = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
    w[8 + m] = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
    w[12 + m] = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
  }
  for (int m = 0; m < 4; ++m) {
    r[m] = _mm512_shuffle_f32x4(w[m], w[8 + m], 0x88);
    r[8 + m] = _mm512_shuffle_f32x4(w[m], w[8 + m], 0xDD);
    r[4 + m] = _mm512_shuffle_f32x4(w[4 + m], w[12 + m], 0x88);
    r[12 + m] = _mm512_shuffle_f32x4(w[4 + m], w[12 + m], 0xDD);
  }
}

}  // namespace lmac::batch_detail

#endif
