#include "coding/pdf.hpp"

#include "coding/exp_f32_kernel.hpp"
#include "util/error.hpp"

#include <cmath>

namespace lmac {

float pdf_mix_factor(int alphabet_size) {
  // 1 - 2 * A * 2^-23 = 1 - A * 2^-22: exact in float32 for A <= 2^21.
  return 1.0f - static_cast<float>(alphabet_size) * 0x1p-22f;
}

float exp_f32(float x) { return exp_f32_detail::exp_scalar(x); }

namespace {

#ifdef LMAC_HAVE_X86
// Eight at a time where the CPU has AVX2: the same bits as exp_scalar (see exp_f32_kernel.hpp), only faster.
__attribute__((target("avx2"))) size_t exp_f32_avx2(const float* x, float* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp_f32_detail::exp_avx2(_mm256_loadu_ps(x + i)));
  return i;
}
const bool kHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

void exp_f32(std::span<const float> x, std::span<float> out) {
  if (out.size() != x.size()) throw_error(ErrorCode::internal, "exp_f32: {} inputs but {} outputs", x.size(), out.size());
  size_t done = 0;
#ifdef LMAC_HAVE_X86
  if (kHaveAvx2) done = exp_f32_avx2(x.data(), out.data(), x.size());
#endif
  for (size_t i = done; i < x.size(); ++i) out[i] = exp_f32_detail::exp_scalar(x[i]);
}

void normalize_pdf(std::span<float> pdf) {
  if (pdf.size() < 2 || pdf.size() > 65536) {
    throw_error(ErrorCode::internal, "pdf has {} values; the coder takes 2 to 65536", pdf.size());
  }
  float sum = 0.0f;
  for (size_t i = 0; i < pdf.size(); ++i) {
    if (!(pdf[i] >= 0.0f) || std::isinf(pdf[i])) {
      throw_error(ErrorCode::internal, "pdf value {} at index {} is not a finite non-negative number", pdf[i], i);
    }
    sum = sum + pdf[i];  // left to right, in float32, as np.cumsum(pdf)[-1]
  }
  if (!(sum > 0.0f) || std::isinf(sum)) {
    throw_error(ErrorCode::internal, "pdf of {} values sums to {}; cannot normalise", pdf.size(), sum);
  }
  const float factor = pdf_mix_factor(static_cast<int>(pdf.size()));
  for (float& p : pdf) {
    float q = p / sum;
    q = q * factor;  // kept apart from the add below: the reference rounds twice
    p = q + kPdfEpsilon;
  }
}

void pdf_from_log_probs(std::span<const float> log_probs, std::span<float> pdf) {
  exp_f32(log_probs, pdf);
  normalize_pdf(pdf);
}

}  // namespace lmac
