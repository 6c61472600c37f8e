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
  x = x > 88.72283f ? 88.72283f : x;
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t e = (int32_t(n) + 127);
  e = e < 0 ? 0 : e;  // 2^-127 and below: flush, the caller's result is 0 anyway
  uint32_t bits = uint32_t(e) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  // n = 128 (x near 88.7) would overflow the exponent field: split the scale.
  return n > 127.0f ? p * 1.7014118e38f * 2.0f : p * scale;
}

}  // namespace

float fast_expf(float x) { return exp_poly(x); }

LMAC_MULTIVERSION
void layer_norm_rows(float* x, const float* scale, const float* offset, int64_t rows, int d) {
#pragma omp parallel for schedule(static) if (rows * d > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * d;
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
}

LMAC_MULTIVERSION
void add_rows(float* y, const float* x, int64_t rows, int d) {
  int64_t n = rows * d;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

LMAC_MULTIVERSION
void add_bias_rows(float* y, const float* b, int64_t rows, int n) {
#pragma omp parallel for schedule(static) if (rows * n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = y + r * n;
    for (int i = 0; i < n; ++i) v[i] += b[i];
  }
}

LMAC_MULTIVERSION
void gelu_tanh(float* x, int64_t n) {
  const float c = 0.7978845608028654f;  // sqrt(2 / pi)
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i];
    float u = c * (v + 0.044715f * v * v * v);
    // tanh(u) = 1 - 2 / (exp(2u) + 1): exact limits -1 and 1 for large |u|.
    float t = 1.0f - 2.0f / (exp_poly(2.0f * u) + 1.0f);
    x[i] = 0.5f * v * (1.0f + t);
  }
}

LMAC_MULTIVERSION
void softmax_prefix(float* x, int valid, int n) {
  float mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int i = 1; i < valid; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < valid; ++i) {
    x[i] = exp_poly(x[i] - mx);
    sum += x[i];
  }
  float inv = 1.0f / sum;
  for (int i = 0; i < valid; ++i) x[i] *= inv;
  for (int i = valid; i < n; ++i) x[i] = 0.0f;
}

LMAC_MULTIVERSION
void log_softmax_rows(float* x, int64_t rows, int n) {
#pragma omp parallel for schedule(static) if (rows * n > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    float* v = x + r * n;
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
}

}  // namespace lmac
