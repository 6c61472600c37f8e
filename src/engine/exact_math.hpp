// lmac's own elementary functions for the deterministic ("exact") scoring path that .lmac files are coded with.
//
// libm's expf, tanhf, sin and pow differ between glibc versions and CPUs' code paths; a file must decode anywhere,
// so everything the exact path needs is built here from IEEE 754 additions, multiplications, divisions and
// integer bit operations only, each rounded once (the project compiles with -ffp-contract=off: never an FMA).
// The float32 functions are always_inline so that each of the exact kernels' instruction-set variants
// (engine/exact_kernels.hpp) inlines and vectorises them; a vector lane performs exactly the scalar operations, so
// every variant returns the same bits.
//
// Accuracy (measured against double-precision libm over dense sweeps: ExactMath in
// tests/unit/model/exact_kernels_test.cpp):
//   exact_exp_f32   relative error <= 3 ulp for results in the normal range; 0 below -104, +inf above 88.72.
//   exact_tanh_f32  absolute error <= 3e-7 (relative error is larger near 0, where tanh(u) ~ u is tiny).
//   exact_exp_f64   relative error < 1e-15 on [-700, 700];  exact_log_f64  relative error < 1e-13;
//   exact_sin_f64, exact_cos_f64  absolute error < 1e-15 for |x| < 1e5 (reduction exact for |x| < 2^20 * pi/2).
//   These feed tables rounded to float32 (positions, rotary frequencies) and a row's log-sum-exp.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace lmac {

#define LMAC_EXACT_INLINE [[gnu::always_inline]] inline

namespace exact_detail {
inline constexpr float kExpLowest = -104.0f;              // exp(-104) < 2^-150: rounds to 0
inline constexpr float kExpHighest = 88.72283935546875f;  // above this exp overflows float32
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kRoundMagic = 12582912.0f;         // 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer
inline constexpr float kLn2Hi = 0.693359375f;             // 9 significant bits: n * kLn2Hi is exact
inline constexpr float kLn2Lo = -2.12194440e-4f;
// exp(r) ~ 1 + r * (q0 + r * (q1 + r * (q2 + r * (q3 + r * q4)))) on |r| <= ln2/2 (a near-minimax fit).
inline constexpr float kQ4 = 0x1.0fa77cp-7f;
inline constexpr float kQ3 = 0x1.573b4cp-5f;
inline constexpr float kQ2 = 0x1.555a70p-3f;
inline constexpr float kQ1 = 0x1.fffdc2p-2f;
inline constexpr float kQ0 = 0x1.fffff6p-1f;
}  // namespace exact_detail

// exp(x) in float32. Written branch-free (selects, not jumps) so that loops over it vectorise.
LMAC_EXACT_INLINE float exact_exp_f32(float x) {
  using namespace exact_detail;
  // Clamp a copy so that the exponent arithmetic stays in range; the selects at the end fix the clamped lanes.
  float xc = x < kExpLowest ? kExpLowest : x;
  xc = xc > kExpHighest ? kExpHighest : xc;
  float t = xc * kLog2e + kRoundMagic;  // two roundings: -ffp-contract=off keeps them apart
  float n = t - kRoundMagic;
  int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRoundMagic);
  float r = xc - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float y = (((kQ4 * r + kQ3) * r + kQ2) * r + kQ1) * r + kQ0;
  y = y * r + 1.0f;
  // 2^n as two factors 2^(n/2) and 2^(n - n/2), each a normal float for n in [-150, 128].
  int32_t n1 = ni >> 1;
  int32_t n2 = ni - n1;
  float s1 = std::bit_cast<float>(uint32_t(n1 + 127) << 23);
  float s2 = std::bit_cast<float>(uint32_t(n2 + 127) << 23);
  float result = (y * s1) * s2;
  result = x < kExpLowest ? 0.0f : result;
  result = x > kExpHighest ? std::numeric_limits<float>::infinity() : result;
  return x != x ? x : result;
}

// tanh(u) = sign(u) * (1 - 2 / (exp(2|u|) + 1)): exact limits +-1, odd by construction.
LMAC_EXACT_INLINE float exact_tanh_f32(float u) {
  float a = u < 0.0f ? -u : u;
  float e = exact_exp_f32(a + a);
  float t = 1.0f - 2.0f / (e + 1.0f);
  return u < 0.0f ? -t : t;
}

// jax.nn.gelu(x, approximate=True) = x * (0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))), in that order.
LMAC_EXACT_INLINE float exact_gelu_f32(float x) {
  const float c = 0.7978845608028654f;  // sqrt(2 / pi)
  float x3 = (x * x) * x;
  float cdf = 0.5f * (1.0f + exact_tanh_f32(c * (x + 0.044715f * x3)));
  return x * cdf;
}

// silu(x) = x * sigmoid(x) = x / (1 + exp(-x)), as torch computes it in float32.
LMAC_EXACT_INLINE float exact_silu_f32(float x) { return x / (1.0f + exact_exp_f32(-x)); }

// Double precision, for tables computed once (positions, rotary frequencies) and a row's log-sum-exp.
double exact_exp_f64(double x);   // |x| < 700
double exact_log_f64(double x);   // x > 0, finite; NaN otherwise
double exact_sin_f64(double x);   // |x| < 1.6e6
double exact_cos_f64(double x);   // |x| < 1.6e6
double exact_pow_f64(double base, double exponent);  // base > 0: exp(exponent * log(base))

}  // namespace lmac
