// lmac's float32 exp, written twice: one value at a time, and eight at a time with AVX2. Both perform the same
// IEEE float32 operations in the same order (no FMA, no reassociation), so they return the same bits; the unit
// tests hold them to that. Internal to src/coding.
//
// Method (Cephes expf): n = round(x * log2(e)); r = x - n * ln2 in two parts (C1 has 9 significant bits, so
// n * C1 is exact); exp(r) by a degree-7 polynomial on |r| <= 0.35; then * 2^n, done as two multiplications by
// 2^(n/2) and 2^(n - n/2) so that neither factor leaves the normal range (results near 2^-149 round once,
// correctly, and n = 128 still overflows to +inf as it should).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LMAC_HAVE_X86 1
#endif

namespace lmac::exp_f32_detail {

inline constexpr float kLowest = -104.0f;               // exp(-104) < 2^-150: rounds to 0
inline constexpr float kHighest = 88.72283935546875f;   // largest x with exp(x) < FLT_MAX + ulp/2, approximately
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kRoundMagic = 12582912.0f;       // 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer
inline constexpr float kC1 = 0.693359375f;
inline constexpr float kC2 = -2.12194440e-4f;
inline constexpr float kP0 = 1.9875691500e-4f;
inline constexpr float kP1 = 1.3981999507e-3f;
inline constexpr float kP2 = 8.3334519073e-3f;
inline constexpr float kP3 = 4.1665795894e-2f;
inline constexpr float kP4 = 1.6666665459e-1f;
inline constexpr float kP5 = 5.0000001201e-1f;

inline float pow2i(int32_t e) { return std::bit_cast<float>(static_cast<uint32_t>(e + 127) << 23); }

inline float exp_scalar(float x) {
  if (x != x) return x;
  if (x < kLowest) return 0.0f;
  if (x > kHighest) return std::numeric_limits<float>::infinity();
  float t = x * kLog2e + kRoundMagic;  // two roundings; -ffp-contract=off keeps them apart
  float n = t - kRoundMagic;
  int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRoundMagic);
  float r = x - n * kC1;
  r = r - n * kC2;
  float z = r * r;
  float y = ((((kP0 * r + kP1) * r + kP2) * r + kP3) * r + kP4) * r + kP5;
  y = y * z + r + 1.0f;
  int32_t n1 = ni >> 1;  // floor(ni / 2): arithmetic shift
  int32_t n2 = ni - n1;
  return (y * pow2i(n1)) * pow2i(n2);
}

#ifdef LMAC_HAVE_X86
__attribute__((target("avx2"))) inline __m256 exp_avx2(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(kLowest), highest = _mm256_set1_ps(kHighest);
  const __m256 magic = _mm256_set1_ps(kRoundMagic);
  __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  __m256 is_low = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  __m256 is_high = _mm256_cmp_ps(x, highest, _CMP_GT_OQ);
  // Compute on a clamped copy so that the integer exponent stays in range; the masks fix those lanes below.
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lowest), highest);
  __m256 t = _mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)), magic);
  __m256 n = _mm256_sub_ps(t, magic);
  __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
  __m256 r = _mm256_sub_ps(xc, _mm256_mul_ps(n, _mm256_set1_ps(kC1)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(kC2)));
  __m256 z = _mm256_mul_ps(r, r);
  __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(kP0), r), _mm256_set1_ps(kP1));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kP2));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kP3));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kP4));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kP5));
  y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(y, z), r), _mm256_set1_ps(1.0f));
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  __m256 result = _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
  result = _mm256_blendv_ps(result, _mm256_setzero_ps(), is_low);
  result = _mm256_blendv_ps(result, _mm256_set1_ps(std::numeric_limits<float>::infinity()), is_high);
  return _mm256_blendv_ps(result, x, is_nan);
}
#endif

}  // namespace lmac::exp_f32_detail
