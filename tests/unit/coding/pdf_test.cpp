#include "coding/pdf.hpp"

#include "util/error.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

namespace lmac {
namespace {

int64_t ulp_distance(float a, float b) {
  auto key = [](float x) {
    const int32_t i = std::bit_cast<int32_t>(x);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  return std::llabs(key(a) - key(b));
}

TEST(ExpF32, WithinThreeUlpOfTrueExpOverTheUsefulRange) {
  // Dense sweep of [-104, 88.7] plus random points; "true" exp is the double exp rounded to float.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-104.0f, 88.7f);
  int64_t worst = 0;
  float worst_x = 0;
  auto check = [&](float x) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t d = ulp_distance(exp_f32(x), want);
    if (want >= std::numeric_limits<float>::min() && d > worst) {
      worst = d;
      worst_x = x;
    }
    if (want < std::numeric_limits<float>::min()) {
      // Subnormal results: absolute error within a couple of the smallest steps.
      EXPECT_LE(std::fabs(exp_f32(x) - want), 3 * std::numeric_limits<float>::denorm_min()) << x;
    }
  };
  for (int i = 0; i < 2'000'000; ++i) check(dist(rng));
  for (float x = -20.0f; x <= 1.0f; x += 1.0f / 4096) check(x);  // where log-softmax outputs live
  EXPECT_LE(worst, 3) << "at x = " << worst_x;
  std::cout << "exp_f32: worst error " << worst << " ulp at x = " << worst_x << "\n";
}

TEST(ExpF32, SpecialValues) {
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(exp_f32(-1000.0f), 0.0f);
  EXPECT_EQ(exp_f32(-104.5f), 0.0f);
  EXPECT_TRUE(std::isinf(exp_f32(std::numeric_limits<float>::infinity())));
  EXPECT_TRUE(std::isinf(exp_f32(100.0f)));
  EXPECT_TRUE(std::isinf(exp_f32(89.0f)));
  EXPECT_TRUE(std::isnan(exp_f32(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(exp_f32(88.0f), static_cast<float>(std::exp(88.0)));
  EXPECT_GT(exp_f32(-103.0f), 0.0f);  // subnormal, not flushed
}

TEST(ExpF32, ArrayFormMatchesScalarForm) {
  std::mt19937 rng(2);
  std::vector<float> x(10000), y(10000);
  for (auto& v : x) v = std::bit_cast<float>(static_cast<uint32_t>(rng()));  // every kind of float, NaNs included
  exp_f32(x, y);
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = exp_f32(x[i]);
    EXPECT_EQ(std::bit_cast<uint32_t>(y[i]), std::bit_cast<uint32_t>(want)) << x[i];
  }
}

TEST(PdfMixFactor, ExactForEveryAlphabet) {
  EXPECT_EQ(pdf_mix_factor(256), 1.0f - 0x1p-14f);
  EXPECT_EQ(pdf_mix_factor(128), 1.0f - 0x1p-15f);
  EXPECT_EQ(pdf_mix_factor(65536), 1.0f - 0x1p-6f);
  for (int a = 2; a <= 65536; a += 97) {
    EXPECT_EQ(static_cast<double>(pdf_mix_factor(a)), 1.0 - 2.0 * a * std::ldexp(1.0, -23)) << a;
  }
}

TEST(NormalizePdf, UniformByteAlphabetGivesTheReferenceValue) {
  std::vector<float> pdf(256, 1.0f / 256);
  normalize_pdf(pdf);
  // (1/256) / 1 = 2^-8 exactly; * (1 - 2^-14) exact; + 2^-23 exact.
  const float want = 0x1p-8f * (1.0f - 0x1p-14f) + 0x1p-23f;
  for (float p : pdf) EXPECT_EQ(p, want);
}

TEST(NormalizePdf, RoundsTwiceAndSumsLeftToRight) {
  // Values whose float32 sum depends on the order; compare with the steps written out in double-checked form.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t A = trial % 2 ? 256 : 3 + trial;
    std::vector<float> pdf(A);
    for (auto& v : pdf) v = dist(rng) * dist(rng) * dist(rng);
    std::vector<float> want = pdf;
    volatile float sum = 0.0f;  // volatile: each partial sum is stored as a float
    for (float v : want) sum = sum + v;
    const float factor = pdf_mix_factor(static_cast<int>(A));
    for (auto& v : want) {
      volatile float q = v / sum;
      volatile float m = q * factor;
      v = m + 0x1p-23f;
    }
    normalize_pdf(pdf);
    for (size_t i = 0; i < A; ++i) ASSERT_EQ(pdf[i], want[i]) << "trial " << trial << " index " << i;
  }
}

TEST(NormalizePdf, EveryValueAtLeastEpsilon) {
  std::vector<float> pdf(256, 0.0f);
  pdf[7] = 1.0f;
  normalize_pdf(pdf);
  for (size_t i = 0; i < pdf.size(); ++i) {
    EXPECT_GE(pdf[i], kPdfEpsilon);
  }
  EXPECT_EQ(pdf[0], kPdfEpsilon);
  EXPECT_EQ(pdf[7], (1.0f - 0x1p-14f) + 0x1p-23f);
}

TEST(NormalizePdf, RefusesWhatCannotBeNormalised) {
  auto code_of = [](std::vector<float> pdf) {
    try {
      normalize_pdf(pdf);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::usage;  // "did not throw"
  };
  EXPECT_EQ(code_of(std::vector<float>(256, 0.0f)), ErrorCode::internal);
  std::vector<float> nan_pdf(256, 1.0f);
  nan_pdf[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(code_of(nan_pdf), ErrorCode::internal);
  std::vector<float> neg(256, 1.0f);
  neg[9] = -1e-3f;
  EXPECT_EQ(code_of(neg), ErrorCode::internal);
  std::vector<float> inf_pdf(256, 1.0f);
  inf_pdf[0] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(code_of(inf_pdf), ErrorCode::internal);
  EXPECT_EQ(code_of(std::vector<float>(256, 3e38f)), ErrorCode::internal);  // the sum overflows
  EXPECT_EQ(code_of(std::vector<float>(1, 1.0f)), ErrorCode::internal);
}

TEST(PdfFromLogProbs, IsExpThenNormalise) {
  std::vector<float> lp(256), pdf(256), want(256);
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  for (auto& v : lp) v = dist(rng) - 10.0f;
  pdf_from_log_probs(lp, pdf);
  exp_f32(lp, want);
  normalize_pdf(want);
  EXPECT_EQ(pdf, want);
}

}  // namespace
}  // namespace lmac
