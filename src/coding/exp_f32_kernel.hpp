// lmac's float32 exp, written twice: one value at a time, and eight at a time with AVX2. Both perform the same
// IEEE float32 operations in the same order (no FMA, no reassociation), so they return the same bits; the unit
// tests hold them to that. Internal to src/coding.
//
// Method: n = round(x * log2(e)); r = x - n * ln2 in two parts (Cephes' C1 has 9 significant bits, so n * C1 is
// exact); exp(r) = 1 + r * q(r) with q of degree 4, near-minimax for relative error on |r| <= ln2/2 (fitted by
// iteratively reweighted least squares: 9e-8 in exact arithmetic, about 2 ulp once evaluated in float32, plenty
// for a pdf, where what matters is that the value is the same everywhere); then * 2^n, done as two
// multiplications by 2^(n/2) and 2^(n - n/2) so that neither factor leaves the normal range (results near 2^-149
// round once, correctly, and n = 128 still overflows to +inf as it should).
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
inline constexpr float kQ4 = 0x1.0fa77cp-7f;   // 8.2902293652e-03
inline constexpr float kQ3 = 0x1.573b4cp-5f;   // 4.1898392141e-02
inline constexpr float kQ2 = 0x1.555a70p-3f;   // 1.6667640209e-01
inline constexpr float kQ1 = 0x1.fffdc2p-2f;   // 4.9999144673e-01
inline constexpr float kQ0 = 0x1.fffff6p-1f;   // 9.9999970198e-01

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
  float y = (((kQ4 * r + kQ3) * r + kQ2) * r + kQ1) * r + kQ0;
  y = y * r + 1.0f;
  int32_t n1 = ni >> 1;  // floor(ni / 2): arithmetic shift
  int32_t n2 = ni - n1;
  return (y * pow2i(n1)) * pow2i(n2);
}

#ifdef LMAC_HAVE_X86
// Inside [kFastLow, kFastHigh], n lies in [-126, 127], so 2^n is a normal float and y * 2^n rounds once, exactly as
// exp_scalar's (y * 2^(n/2)) * 2^(n - n/2) does (its first product is exact). One multiplication then suffices, the
// clamps and blends are not needed, and 2^n comes straight from t's bits (bits(t) = bits(kRoundMagic) + n).
inline constexpr float kFastLow = -87.0f;
inline constexpr float kFastHigh = 88.0f;

__attribute__((target("avx2"))) inline __m256 exp_avx2_in_fast_range(__m256 x) {
  const __m256 magic = _mm256_set1_ps(kRoundMagic);
  __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), magic);
  __m256 n = _mm256_sub_ps(t, magic);
  __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(kC1)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(kC2)));
  __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(kQ4), r), _mm256_set1_ps(kQ3));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ2));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ1));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ0));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(1.0f));
  const __m256i to_exponent = _mm256_set1_epi32(127 - std::bit_cast<int32_t>(kRoundMagic));
  __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(t), to_exponent), 23));
  return _mm256_mul_ps(y, scale);
}

// Any input, the same bits as exp_scalar.
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
  __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(kQ4), r), _mm256_set1_ps(kQ3));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ2));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ1));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(kQ0));
  y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(1.0f));
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
