// The fixed-order kernels (engine/exact_kernels.hpp) and lmac's own math (engine/exact_math.hpp): each kernel equals,
// bit for bit, a plain sequential restatement of its documented order written here, under every instruction-set
// variant the CPU has and with 1, 2 and 7 threads; the math functions are close to libm's.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/exact_kernels.hpp"
#include "engine/exact_math.hpp"

namespace lmac {
namespace {

std::vector<ExactIsa> supported_isas() {
  std::vector<ExactIsa> isas;
  for (ExactIsa isa : {ExactIsa::baseline, ExactIsa::avx2, ExactIsa::avx512}) {
    if (exact_isa_supported(isa)) isas.push_back(isa);
  }
  return isas;
}

// Restores automatic dispatch and the thread count whatever a test does.
struct DispatchGuard {
  int threads = omp_get_max_threads();
  ~DispatchGuard() {
    exact_force_isa(std::nullopt);
    omp_set_num_threads(threads);
  }
};

// Values with a spread of magnitudes, so that rounding differs between summation orders.
std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::uniform_int_distribution<int> e(-6, 6);
  std::vector<float> v(n);
  for (float& x : v) x = std::ldexp(u(rng), e(rng));
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The documented order: y[m, n] = (...((0 + x[m,0] w[0,n]) + x[m,1] w[1,n]) ...) (+ bias[n]).
std::vector<float> sequential_matmul(const std::vector<float>& x, int M, int K, const std::vector<float>& w_kn, int N,
                                     const float* bias) {
  std::vector<float> y(size_t(M) * N);
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      float s = 0.0f;
      for (int k = 0; k < K; ++k) {
        const float p = x[size_t(m) * K + k] * w_kn[size_t(k) * N + n];
        s = s + p;
      }
      y[size_t(m) * N + n] = bias ? s + bias[n] : s;
    }
  }
  return y;
}

TEST(ExactKernels, MatmulEqualsTheSequentialSumForEveryShapeAndVariant) {
  DispatchGuard guard;
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    for (int M : {1, 2, 5, 7, 13, 100, 200}) {
      for (int K : {1, 3, 64, 100}) {
        for (int N : {1, 8, 31, 32, 33, 77, 256}) {
          const auto x = random_values(size_t(M) * K, 1 + M + K);
          const auto w = random_values(size_t(K) * N, 2 + K + N);
          const auto b = random_values(size_t(N), 3 + N);
          for (const float* bias : {static_cast<const float*>(nullptr), b.data()}) {
            std::vector<float> y(size_t(M) * N, -7.0f);
            exact_matmul(x.data(), K, M, w.data(), K, N, bias, y.data(), N);
            const auto want = sequential_matmul(x, M, K, w, N, bias);
            EXPECT_TRUE(same_bits(y, want))
                << exact_isa_name(isa) << " M=" << M << " K=" << K << " N=" << N << " bias=" << (bias != nullptr);
            std::vector<float> packed(size_t(M) * N, -7.0f);
            exact_matmul_packed(x.data(), K, M, ExactPackedMatrix::from_kn(w.data(), K, N), bias, packed.data(), N);
            EXPECT_TRUE(same_bits(packed, want))
                << "packed, " << exact_isa_name(isa) << " M=" << M << " K=" << K << " N=" << N;
          }
        }
      }
    }
  }
}

// A row's bits do not depend on which other rows are in the call, nor on the strides.
TEST(ExactKernels, MatmulRowsDoNotDependOnTheirNeighbours) {
  const int K = 96, N = 70;
  const auto x = random_values(size_t(50) * K, 11);
  const auto w = random_values(size_t(K) * N, 12);
  std::vector<float> all(size_t(50) * N);
  exact_matmul(x.data(), K, 50, w.data(), K, N, nullptr, all.data(), N);
  for (int r : {0, 17, 49}) {
    std::vector<float> one(size_t(N) + 5);
    exact_matmul(x.data() + size_t(r) * K, K, 1, w.data(), K, N, nullptr, one.data(), N + 5);
    EXPECT_EQ(0, std::memcmp(one.data(), all.data() + size_t(r) * N, N * sizeof(float))) << "row " << r;
  }
}

// f32 and bf16 round-trip exactly through float32; f16 values are chosen representable.
uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t(u >> 16);
}

TEST(ExactKernels, TransposedHalfPrecisionWeightsMatchTheirFloat32Widening) {
  DispatchGuard guard;
  const int M = 9, K = 40, N = 45;
  const auto x = random_values(size_t(M) * K, 21);
  const auto w = random_values(size_t(N) * K, 22);  // [N, K]
  std::vector<uint16_t> bf16(w.size()), f16(w.size());
  std::vector<float> w_bf16(w.size()), w_f16(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    bf16[i] = to_bf16(w[i]);
    w_bf16[i] = bf16_to_f32(bf16[i]);
    // A binary16 value: 10-bit mantissa, exponent 15 - 3 .. 15 + 2 (sign, exponent, mantissa from the bits of w).
    uint32_t u;
    std::memcpy(&u, &w[i], 4);
    f16[i] = uint16_t(((u >> 16) & 0x8000) | ((12 + i % 6) << 10) | (u & 0x3ff));
    w_f16[i] = f16_to_f32(f16[i]);
  }
  auto to_kn = [&](const std::vector<float>& nk) {
    std::vector<float> kn(nk.size());
    for (int n = 0; n < N; ++n) {
      for (int k = 0; k < K; ++k) kn[size_t(k) * N + n] = nk[size_t(n) * K + k];
    }
    return kn;
  };
  const auto bias = random_values(size_t(N), 23);
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    struct Case {
      const void* data;
      WeightDType dtype;
      const std::vector<float>* widened;
    };
    for (const Case& c : {Case{w.data(), WeightDType::f32, &w}, Case{bf16.data(), WeightDType::bf16, &w_bf16},
                          Case{f16.data(), WeightDType::f16, &w_f16}}) {
      std::vector<float> y(size_t(M) * N);
      exact_matmul_nk(x.data(), K, M, c.data, c.dtype, K, N, bias.data(), y.data(), N);
      const auto want = sequential_matmul(x, M, K, to_kn(*c.widened), N, bias.data());
      EXPECT_TRUE(same_bits(y, want)) << exact_isa_name(isa) << " " << weight_dtype_name(c.dtype);
      std::vector<float> packed(size_t(M) * N);
      exact_matmul_packed(x.data(), K, M, ExactPackedMatrix::from_nk(c.data, c.dtype, K, N), bias.data(),
                          packed.data(), N);
      EXPECT_TRUE(same_bits(packed, want)) << "packed, " << exact_isa_name(isa) << " " << weight_dtype_name(c.dtype);
    }
  }
}

TEST(ExactKernels, MatmulBitsDoNotDependOnTheThreadCount) {
  DispatchGuard guard;
  const int M = 1000, K = 256, N = 300;
  const auto x = random_values(size_t(M) * K, 31);
  const auto w = random_values(size_t(K) * N, 32);
  const auto expected = sequential_matmul(x, M, K, w, N, nullptr);
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    for (int threads : {1, 2, 7}) {
      omp_set_num_threads(threads);
      std::vector<float> y(size_t(M) * N), y_nk(size_t(M) * N);
      exact_matmul(x.data(), K, M, w.data(), K, N, nullptr, y.data(), N);
      EXPECT_TRUE(same_bits(y, expected)) << exact_isa_name(isa) << " threads " << threads;
      std::vector<float> w_nk(w.size());
      for (int n = 0; n < N; ++n) {
        for (int k = 0; k < K; ++k) w_nk[size_t(n) * K + k] = w[size_t(k) * N + n];
      }
      exact_matmul_nk(x.data(), K, M, w_nk.data(), WeightDType::f32, K, N, nullptr, y_nk.data(), N);
      EXPECT_TRUE(same_bits(y_nk, expected)) << exact_isa_name(isa) << " nk, threads " << threads;
      std::vector<float> y_packed(size_t(M) * N);
      exact_matmul_packed(x.data(), K, M, ExactPackedMatrix::from_kn(w.data(), K, N), nullptr, y_packed.data(), N);
      EXPECT_TRUE(same_bits(y_packed, expected)) << exact_isa_name(isa) << " packed, threads " << threads;
    }
  }
}

// Sequential restatements of the row kernels' documented orders.
void reference_layer_norm(std::vector<float>& x, const float* bias, const std::vector<float>& res,
                          const std::vector<float>& scale, const std::vector<float>& offset, int rows, int d) {
  for (int r = 0; r < rows; ++r) {
    float* v = &x[size_t(r) * d];
    for (int i = 0; i < d; ++i) v[i] = bias ? (v[i] + bias[i]) + res[size_t(r) * d + i] : v[i] + res[size_t(r) * d + i];
    float sum = 0.0f;
    for (int i = 0; i < d; ++i) sum = sum + v[i];
    const float mean = sum / float(d);
    float sq = 0.0f;
    for (int i = 0; i < d; ++i) sq = sq + (v[i] - mean) * (v[i] - mean);
    const float inv = 1.0f / std::sqrt(sq / float(d) + 1e-5f);
    for (int i = 0; i < d; ++i) v[i] = (v[i] - mean) * (scale[i] * inv) + offset[i];
  }
}

void reference_log_softmax(std::vector<float>& x, const float* bias, int rows, int n) {
  for (int r = 0; r < rows; ++r) {
    float* v = &x[size_t(r) * n];
    if (bias) {
      for (int i = 0; i < n; ++i) v[i] = v[i] + bias[i];
    }
    float mx = v[0];
    for (int i = 1; i < n; ++i) mx = v[i] > mx ? v[i] : mx;
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum = sum + double(exact_exp_f32(v[i] - mx));
    const double lse = double(mx) + exact_log_f64(sum);
    for (int i = 0; i < n; ++i) v[i] = float(double(v[i]) - lse);
  }
}

std::vector<float> reference_attention(const std::vector<float>& q, const std::vector<float>& kt, int ldk,
                                       const std::vector<float>& v, int ldv, int keys, int dh, float scale) {
  std::vector<float> s(static_cast<size_t>(keys)), out(static_cast<size_t>(dh));
  for (int j = 0; j < keys; ++j) {
    float a = 0.0f;
    for (int i = 0; i < dh; ++i) a = a + q[size_t(i)] * kt[size_t(i) * ldk + j];
    s[size_t(j)] = a * scale;
  }
  float mx = s[0];
  for (int j = 1; j < keys; ++j) mx = s[size_t(j)] > mx ? s[size_t(j)] : mx;
  float z = 0.0f;
  for (int j = 0; j < keys; ++j) {
    s[size_t(j)] = exact_exp_f32(s[size_t(j)] - mx);
    z = z + s[size_t(j)];
  }
  for (int i = 0; i < dh; ++i) {
    float a = 0.0f;
    for (int j = 0; j < keys; ++j) a = a + s[size_t(j)] * v[size_t(j) * ldv + i];
    out[size_t(i)] = a / z;
  }
  return out;
}

TEST(ExactKernels, RowKernelsEqualTheirSequentialDefinitionUnderEveryVariantAndThreadCount) {
  DispatchGuard guard;
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    for (int threads : {1, 2, 7}) {
      omp_set_num_threads(threads);
      const std::string where = std::string(exact_isa_name(isa)) + ", threads " + std::to_string(threads);
      for (int d : {7, 32, 256, 1000}) {
        const int rows = 300;
        auto x = random_values(size_t(rows) * d, 41 + d, -4.0f, 4.0f);
        const auto res = random_values(x.size(), 42), bias = random_values(size_t(d), 43);
        const auto scale = random_values(size_t(d), 44), offset = random_values(size_t(d), 45);
        for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
          auto got = x, want = x;
          exact_add_layer_norm_rows(got.data(), b, res.data(), scale.data(), offset.data(), rows, d);
          reference_layer_norm(want, b, res, scale, offset, rows, d);
          EXPECT_TRUE(same_bits(got, want)) << "LayerNorm d=" << d << " " << where;

          got = x;
          want = x;
          exact_log_softmax_rows(got.data(), b, rows, d);
          reference_log_softmax(want, b, rows, d);
          EXPECT_TRUE(same_bits(got, want)) << "log-softmax n=" << d << " " << where;

          got = x;
          want = x;
          exact_bias_gelu_rows(got.data(), b, rows, d);
          for (int r = 0; r < rows; ++r) {
            for (int i = 0; i < d; ++i) {
              float& v = want[size_t(r) * d + i];
              v = exact_gelu_f32(b ? v + b[i] : v);
            }
          }
          EXPECT_TRUE(same_bits(got, want)) << "gelu n=" << d << " " << where;
        }
        std::vector<float> got(x.size()), want(x.size());
        exact_rms_norm_rows(x.data(), scale.data(), 1e-6f, got.data(), rows, d);
        for (int r = 0; r < rows; ++r) {
          const float* v = &x[size_t(r) * d];
          float sq = 0.0f;
          for (int i = 0; i < d; ++i) sq = sq + v[i] * v[i];
          const float inv = 1.0f / std::sqrt(sq / float(d) + 1e-6f);
          for (int i = 0; i < d; ++i) want[size_t(r) * d + i] = (v[i] * inv) * scale[size_t(i)];
        }
        EXPECT_TRUE(same_bits(got, want)) << "RMSNorm d=" << d << " " << where;

        got = x;
        exact_silu_mul_rows(got.data(), res.data(), rows, d);
        for (size_t i = 0; i < x.size(); ++i) want[i] = exact_silu_f32(x[i]) * res[i];
        EXPECT_TRUE(same_bits(got, want)) << "silu d=" << d << " " << where;
      }
    }
    // A 65536-symbol row.
    auto big = random_values(65536 * 2, 46, -20.0f, 20.0f), want = big;
    exact_log_softmax_rows(big.data(), nullptr, 2, 65536);
    reference_log_softmax(want, nullptr, 2, 65536);
    EXPECT_TRUE(same_bits(big, want)) << "log-softmax 65536 " << exact_isa_name(isa);
  }
}

TEST(ExactKernels, AttentionRowEqualsItsSequentialDefinitionUnderEveryVariant) {
  DispatchGuard guard;
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    for (int dh : {4, 12, 32, 64, 128}) {
      const int cap = 300;
      const auto q = random_values(size_t(dh), 51 + dh, -2.0f, 2.0f);
      const auto kt = random_values(size_t(dh) * cap, 52 + dh, -2.0f, 2.0f);
      const auto v = random_values(size_t(cap) * (dh + 3), 53 + dh);
      for (int keys : {1, 2, 15, 16, 17, 64, 65, 129, 300}) {
        std::vector<float> scores(static_cast<size_t>(keys)), out(static_cast<size_t>(dh));
        exact_attention_row(q.data(), kt.data(), cap, v.data(), dh + 3, keys, dh, 0.125f, scores.data(), out.data());
        EXPECT_TRUE(same_bits(out, reference_attention(q, kt, cap, v, dh + 3, keys, dh, 0.125f)))
            << exact_isa_name(isa) << " dh=" << dh << " keys=" << keys;
      }
    }
  }
}

// Rows handed over together (consecutive positions sharing a cache, as in a full pass, or rows of different
// caches with the same key count, as in a step) each get the bits of the row alone.
TEST(ExactKernels, AttentionRowsGroupedGiveEachRowItsOwnBits) {
  DispatchGuard guard;
  for (ExactIsa isa : supported_isas()) {
    ASSERT_TRUE(exact_force_isa(isa));
    for (int dh : {4, 16, 32, 48, 128}) {
      const int cap = 200, caches = 3;
      std::vector<std::vector<float>> q, kt, v;
      for (int c = 0; c < 9; ++c) q.push_back(random_values(size_t(dh), 60 + c, -2.0f, 2.0f));
      for (int c = 0; c < caches; ++c) {
        kt.push_back(random_values(size_t(dh) * cap, 70 + c, -2.0f, 2.0f));
        v.push_back(random_values(size_t(cap) * dh, 80 + c));
      }
      for (int n = 1; n <= 9; ++n) {
        for (int first_keys : {1, 5, 33, 150}) {
          std::vector<ExactAttentionRow> rows;
          const std::vector<std::vector<float>> scores_init(static_cast<size_t>(n), std::vector<float>(cap)),
              out_init(static_cast<size_t>(n), std::vector<float>(dh));
          auto scores = scores_init, out = out_init;
          for (int r = 0; r < n; ++r) {
            const int c = (r / 2) % caches;  // pairs of rows share a cache
            rows.push_back({q[size_t(r)].data(), kt[size_t(c)].data(), v[size_t(c)].data(), first_keys + (r * 7) % 40,
                            scores[size_t(r)].data(), out[size_t(r)].data()});
          }
          exact_attention_rows(rows.data(), n, cap, dh, dh, 0.3f);
          for (int r = 0; r < n; ++r) {
            const int c = (r / 2) % caches;
            const auto want = reference_attention(q[size_t(r)], kt[size_t(c)], cap, v[size_t(c)], dh,
                                                  rows[size_t(r)].keys, dh, 0.3f);
            EXPECT_TRUE(same_bits(out[size_t(r)], want))
                << exact_isa_name(isa) << " dh=" << dh << " n=" << n << " row " << r;
          }
        }
      }
    }
  }
}

// exp within 3 ulp of the true value over the whole normal range, tanh within 3e-7 absolute.
TEST(ExactMath, Float32FunctionsAreAccurate) {
  double worst_exp = 0, worst_tanh = 0;
  for (float x = -87.0f; x < 88.7f; x += 0.000731f) {
    const double truth = std::exp(double(x));
    const double ulp = std::ldexp(1.0, std::ilogb(truth) - 23);
    worst_exp = std::max(worst_exp, std::abs(double(exact_exp_f32(x)) - truth) / ulp);
  }
  for (float u = -12.0f; u < 12.0f; u += 0.0000917f) {
    worst_tanh = std::max(worst_tanh, std::abs(double(exact_tanh_f32(u)) - std::tanh(double(u))));
  }
  std::printf("  exp: max %.2f ulp; tanh: max abs error %.2e\n", worst_exp, worst_tanh);
  EXPECT_LE(worst_exp, 3.0);
  EXPECT_LE(worst_tanh, 3e-7);
  EXPECT_EQ(exact_exp_f32(-200.0f), 0.0f);
  EXPECT_EQ(exact_exp_f32(100.0f), INFINITY);
  EXPECT_TRUE(std::isnan(exact_exp_f32(NAN)));
  EXPECT_EQ(exact_exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exact_tanh_f32(30.0f), 1.0f);
  EXPECT_EQ(exact_tanh_f32(-30.0f), -1.0f);
  EXPECT_NEAR(exact_gelu_f32(1.0f), 0.841191990607, 1e-6);
  EXPECT_NEAR(exact_silu_f32(1.0f), 0.731058578630, 1e-6);
}

TEST(ExactMath, Float64FunctionsAgreeWithLibm) {
  double worst = 0;
  for (double x = -700; x < 700; x += 0.0917) {
    worst = std::max(worst, std::abs(exact_exp_f64(x) - std::exp(x)) / std::exp(x));
  }
  EXPECT_LT(worst, 1e-15) << "exp";
  worst = 0;
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    worst = std::max(worst, std::abs(exact_log_f64(x) - std::log(x)) / std::abs(std::log(x)));
  }
  for (double x = 0.5; x < 3; x += 0.000137) {
    worst = std::max(worst, std::abs(exact_log_f64(x) - std::log(x)) / std::max(1e-300, std::abs(std::log(x))));
  }
  EXPECT_LT(worst, 1e-13) << "log";
  worst = 0;
  for (double x = -1e5; x < 1e5; x += 0.7731) {
    worst = std::max({worst, std::abs(exact_sin_f64(x) - std::sin(x)), std::abs(exact_cos_f64(x) - std::cos(x))});
  }
  EXPECT_LT(worst, 1e-15) << "sin/cos";
  EXPECT_NEAR(exact_pow_f64(1e4, -0.5), 0.01, 1e-17);
  EXPECT_TRUE(std::isnan(exact_log_f64(0.0)));
  EXPECT_TRUE(std::isnan(exact_log_f64(-1.0)));
}

}  // namespace
}  // namespace lmac
