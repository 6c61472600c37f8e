#include "engine/vector_math.hpp"

#include <cmath>
#include <cstring>

namespace lmac {

#define LMAC_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace {

// Cody-Waite range reduction to r in [-ln2/2, ln2/2], then a degree-6 polynomial and a 2^n scale built in the
// exponent bits: all plain arithmetic, so loops over it vectorise.
inline float exp_poly(float x) {
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.0f ? 88.0f : x;
  // Round to nearest by the 1.5 * 2^23 trick: branch-free, no libm call, so the loops around it vectorise.
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n is in [-126, 127] after the clamps: 2^n is a valid normal float built in the exponent bits.
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// One row of LayerNorm, in place.
inline void layer_norm_row(float* v, const float* scale, const float* offset, int d) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < d; ++i) sum += v[i];
  float mean = sum / float(d);
  float sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int i = 0; i < d; ++i) sq += (v[i] - mean) * (v[i] - mean);
  float inv = 1.0f / std::sqrt(sq / float(d) + 1e-5f);
  for (int i = 0; i < d; ++i) v[i] = (v[i] - mean) * (inv * scale[i]) + offset[i];
}

inline float gelu_one(float v) {
  const float c = 0.7978845608028654f;  // sqrt(2 / pi)
  float u = c * (v + 0.044715f * v * v * v);
  // tanh(u) = 1 - 2 / (exp(2u) + 1): limits -1 and 1 for large |u|.
  float t = 1.0f - 2.0f / (exp_poly(2.0f * u) + 1.0f);
  return 0.5f * v * (1.0f + t);
}

inline void log_softmax_row(float* v, int n) {
  float mx = v[0];
#pragma omp simd reduction(max : mx)
  for (int i = 1; i < n; ++i) mx = v[i] > mx ? v[i] : mx;
  // Sum in double: a 65536-symbol row of float terms would lose a few 1e-7 relative.
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += double(exp_poly(v[i] - mx));
  float lse = mx + float(std::log(sum));
  for (int i = 0; i < n; ++i) v[i] -= lse;
}

}  // namespace

LMAC_MULTIVERSION
void add_layer_norm_rows(float* x, const float* bias, const float* residual, const float* scale, const float* offset,
                         int64_t rows, int d) {
#pragma omp parallel for schedule(static) if (rows * d > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * d;
    const float* res = residual + r * d;
    if (bias) {
      for (int i = 0; i < d; ++i) v[i] = (v[i] + bias[i]) + res[i];
    } else {
      for (int i = 0; i < d; ++i) v[i] = v[i] + res[i];
    }
    layer_norm_row(v, scale, offset, d);
  }
}

LMAC_MULTIVERSION
void bias_gelu_rows(float* x, const float* b, int64_t rows, int n) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * n;
    for (int i = 0; i < n; ++i) v[i] = gelu_one(v[i] + b[i]);
  }
}

LMAC_MULTIVERSION
void bias_log_softmax_rows(float* x, const float* b, int64_t rows, int n) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * n;
    for (int i = 0; i < n; ++i) v[i] += b[i];
    log_softmax_row(v, n);
  }
}

LMAC_MULTIVERSION
void softmax_prefix(float* x, int valid, int n) {
  float mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int i = 1; i < valid; ++i) mx = x[i] > mx ? x[i] : mx;
  for (int i = 0; i < valid; ++i) x[i] = exp_poly(x[i] - mx);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < valid; ++i) sum += x[i];
  float inv = 1.0f / sum;
  for (int i = 0; i < valid; ++i) x[i] *= inv;
  for (int i = valid; i < n; ++i) x[i] = 0.0f;
}

}  // namespace lmac
