// Double-precision exp, log, sin and cos from IEEE operations only (see exact_math.hpp for why). The methods are
// fdlibm's: Cody-Waite argument reduction with constants split so that products by the reduction integer are
// exact, then short polynomials (fdlibm's own coefficients for sin and cos, Taylor series for exp and log).
#include "engine/exact_math.hpp"

#include <bit>
#include <cstdint>
#include <limits>

namespace lmac {

namespace {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // upper bits of ln 2: k * kLn2Hi exact for |k| < 2^20
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kRoundMagic = 6755399441055744.0;       // 1.5 * 2^52: adding it rounds |v| < 2^51 to an integer

// round(v) to the nearest integer (ties to even) for |v| < 2^51, without libm.
inline double round_nearest(double v) { return (v + kRoundMagic) - kRoundMagic; }

// 2^k for k in [-1022, 1023], built in the exponent bits.
inline double pow2(int64_t k) { return std::bit_cast<double>(uint64_t(k + 1023) << 52); }

}  // namespace

double exact_exp_f64(double x) {
  if (x != x) return x;
  if (x > 709.0) return std::numeric_limits<double>::infinity();
  if (x < -700.0) return 0.0;  // callers never go this far; 2^-1010 would still be representable
  double k = round_nearest(x * kInvLn2);
  double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.347
  // Taylor series to r^13 / 13!: the remainder is below 4e-18 relative on |r| <= 0.347.
  double p = 1.0 / 6227020800.0;  // 1 / 13!
  const double inv_factorial[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                    1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                                    1.0 / 24.0,        1.0 / 6.0,        0.5,             1.0,
                                    1.0};
  for (double c : inv_factorial) p = p * r + c;
  return p * pow2(int64_t(k));
}

double exact_log_f64(double x) {
  if (!(x > 0.0) || x == std::numeric_limits<double>::infinity()) return std::numeric_limits<double>::quiet_NaN();
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); subnormals are scaled up first.
  int64_t e = 0;
  if (x < 0x1p-1022) {
    x *= 0x1p54;
    e = -54;
  }
  uint64_t bits = std::bit_cast<uint64_t>(x);
  e += int64_t((bits >> 52) & 0x7ff) - 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    e += 1;
  }
  // log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m - 1) / (m + 1), |s| <= 0.1716, s^2 <= 0.0295.
  double s = (m - 1.0) / (m + 1.0);
  double z = s * s;
  double p = 1.0 / 25.0;
  for (int k = 23; k >= 1; k -= 2) p = p * z + 1.0 / double(k);
  double log_m = 2.0 * s * p;
  double ed = double(e);
  return (ed * kLn2Hi + log_m) + ed * kLn2Lo;
}

namespace {

// fdlibm __kernel_sin / __kernel_cos on |x| <= pi/4 (the tail y of the reduced argument taken as 0).
inline double kernel_sin(double x) {
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                   S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                   S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  double z = x * x;
  double v = z * x;
  double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x + v * (S1 + z * r);
}

inline double kernel_cos(double x) {
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                   C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                   C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  double z = x * x;
  double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  double hz = 0.5 * z;
  double w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + z * r);
}

// x = n * pi/2 + r, |r| <= pi/4, with pi/2 in three parts of 33, 33 and 53 bits (fdlibm's pio2_1, pio2_2,
// pio2_2t): n * part is exact for |n| < 2^20.
inline double reduce_half_pi(double x, int64_t& quadrant) {
  constexpr double kInvPio2 = 6.36619772367581382433e-01;
  constexpr double kPio2_1 = 1.57079632673412561417e+00, kPio2_2 = 6.07710050630396597660e-11,
                   kPio2_3 = 2.02226624879595063154e-21;
  double n = round_nearest(x * kInvPio2);
  quadrant = int64_t(n);
  return ((x - n * kPio2_1) - n * kPio2_2) - n * kPio2_3;
}

}  // namespace

double exact_sin_f64(double x) {
  int64_t q;
  double r = reduce_half_pi(x, q);
  switch (q & 3) {
    case 0: return kernel_sin(r);
    case 1: return kernel_cos(r);
    case 2: return -kernel_sin(r);
    default: return -kernel_cos(r);
  }
}

double exact_cos_f64(double x) {
  int64_t q;
  double r = reduce_half_pi(x, q);
  switch (q & 3) {
    case 0: return kernel_cos(r);
    case 1: return -kernel_sin(r);
    case 2: return -kernel_cos(r);
    default: return kernel_sin(r);
  }
}

double exact_pow_f64(double base, double exponent) { return exact_exp_f64(exponent * exact_log_f64(base)); }

}  // namespace lmac
