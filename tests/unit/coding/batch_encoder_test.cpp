#include "coding/batch_encoder.hpp"

#include "coding/arithmetic_coder.hpp"
#include "coding/exp_f32_kernel.hpp"
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace lmac {
namespace {

struct Batch {
  int chunks, length, alphabet;
  std::vector<float> log_probs;
  std::vector<uint32_t> symbols;
};

// Log-softmax of random logits (scale ~ how peaked), symbols drawn from the pdf or uniformly.
Batch make_batch(std::mt19937& rng, int chunks, int length, int alphabet, float scale, bool typical) {
  Batch b{chunks, length, alphabet, {}, {}};
  b.log_probs.resize(static_cast<size_t>(chunks) * length * alphabet);
  b.symbols.resize(static_cast<size_t>(chunks) * length);
  std::normal_distribution<float> n(0.0f, scale);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> p(static_cast<size_t>(alphabet));
  for (size_t row = 0; row < b.symbols.size(); ++row) {
    float* lp = &b.log_probs[row * static_cast<size_t>(alphabet)];
    double mx = -1e300, z = 0;
    for (int i = 0; i < alphabet; ++i) mx = std::max(mx, static_cast<double>(lp[i] = n(rng)));
    for (int i = 0; i < alphabet; ++i) z += std::exp(lp[i] - mx);
    for (int i = 0; i < alphabet; ++i) {
      lp[i] = static_cast<float>(lp[i] - mx - std::log(z));
      p[static_cast<size_t>(i)] = std::exp(static_cast<double>(lp[i]));
    }
    uint32_t s = static_cast<uint32_t>(rng() % static_cast<uint32_t>(alphabet));
    if (typical) {
      double r = u(rng), c = 0;
      for (int i = 0; i < alphabet; ++i) {
        c += p[static_cast<size_t>(i)];
        if (r < c) {
          s = static_cast<uint32_t>(i);
          break;
        }
      }
    }
    b.symbols[row] = s;
  }
  return b;
}

// The plain path, written out here: pdf_from_log_probs + ArithmeticEncoder per chunk.
std::vector<EncodedBits> plain(const Batch& b) {
  std::vector<EncodedBits> out;
  std::vector<float> pdf(static_cast<size_t>(b.alphabet));
  for (int c = 0; c < b.chunks; ++c) {
    ArithmeticEncoder enc;
    for (int t = 0; t < b.length; ++t) {
      const size_t row = static_cast<size_t>(c) * b.length + t;
      pdf_from_log_probs({&b.log_probs[row * b.alphabet], static_cast<size_t>(b.alphabet)}, pdf);
      enc.encode(pdf, b.symbols[row]);
    }
    out.push_back(enc.finish());
  }
  return out;
}

std::vector<EncodedBits> batch(const Batch& b, BatchKernel kernel, int threads = 1) {
  return encode_chunks(b.log_probs, b.symbols, b.chunks, b.length, b.alphabet, {threads, kernel});
}

void expect_same(const std::vector<EncodedBits>& a, const std::vector<EncodedBits>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].num_bits, b[i].num_bits) << "chunk " << i;
    EXPECT_EQ(a[i].padding_bits, b[i].padding_bits) << "chunk " << i;
    EXPECT_EQ(a[i].bytes, b[i].bytes) << "chunk " << i;
  }
}

std::vector<BatchKernel> kernels() {
  std::vector<BatchKernel> k{BatchKernel::scalar, BatchKernel::automatic};
  if (batch_kernel_available(BatchKernel::avx2)) k.push_back(BatchKernel::avx2);
  if (batch_kernel_available(BatchKernel::avx512)) k.push_back(BatchKernel::avx512);
  return k;
}

TEST(BatchEncoder, EveryKernelMatchesThePlainEncoderBitForBit) {
  std::mt19937 rng(21);
  struct Case {
    int chunks, length, alphabet;
    float scale;
    bool typical;
  };
  const Case cases[] = {{16, 200, 256, 4.0f, true},  {19, 150, 256, 4.0f, false}, {8, 300, 256, 20.0f, true},
                        {57, 60, 256, 4.0f, true},   {32, 40, 128, 8.0f, false},  {40, 30, 24, 2.0f, true},
                        {11, 100, 256, 0.5f, false}, {9, 120, 128, 4.0f, true},   {8, 100, 8, 3.0f, false},
                        {10, 80, 3, 2.0f, true},     {5, 50, 1000, 6.0f, true},   {8, 12, 65536, 4.0f, true},
                        {3, 40, 256, 4.0f, true},    {0, 10, 256, 1.0f, true},    {8, 0, 256, 1.0f, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.chunks << " chunks x " << c.length << " of " << c.alphabet);
    const Batch b = make_batch(rng, c.chunks, c.length, c.alphabet, c.scale, c.typical);
    const auto want = plain(b);
    for (BatchKernel k : kernels()) expect_same(batch(b, k), want);
  }
}

TEST(BatchEncoder, ThreadsDoNotChangeTheOutput) {
  std::mt19937 rng(22);
  const Batch b = make_batch(rng, 37, 100, 256, 4.0f, true);
  const auto want = batch(b, BatchKernel::automatic, 1);
  for (int threads : {2, 3, 8, 0}) expect_same(batch(b, BatchKernel::automatic, threads), want);
}

TEST(BatchEncoder, ExtremeLogProbsMatchThePlainEncoder) {
  // -inf, huge negative, unnormalised rows (sums far from 1, tiny or large), denormal-producing values.
  std::mt19937 rng(23);
  Batch b = make_batch(rng, 48, 64, 256, 4.0f, false);
  const float specials[] = {-std::numeric_limits<float>::infinity(), -1e30f, -104.5f, -103.9f, -90.0f, -87.5f,
                            -30.0f, 0.0f, 5.0f, 40.0f, 80.0f};
  for (size_t row = 0; row < b.symbols.size(); ++row) {
    float* lp = &b.log_probs[row * 256];
    const int mode = static_cast<int>(row % 5);
    for (int i = 0; i < 256; ++i) {
      if (mode == 1 && rng() % 3 == 0) lp[i] = specials[rng() % 4];
      if (mode == 2) lp[i] += 60.0f;                   // every value large: sum ~ e^60
      if (mode == 3) lp[i] -= 80.0f;                   // every value tiny (some subnormal)
      if (mode == 4) lp[i] = specials[rng() % 11] - (i == 0 ? 0.0f : 1.0f);
    }
    lp[b.symbols[row]] = std::max(lp[b.symbols[row]], -200.0f);
  }
  const auto want = plain(b);
  for (BatchKernel k : kernels()) expect_same(batch(b, k), want);
}

TEST(BatchEncoder, OutputDecodesWithThePlainDecoder) {
  std::mt19937 rng(24);
  const Batch b = make_batch(rng, 9, 300, 256, 4.0f, true);
  const auto coded = batch(b, BatchKernel::automatic);
  std::vector<float> pdf(256);
  for (int c = 0; c < b.chunks; ++c) {
    ArithmeticDecoder dec(coded[c].bytes, coded[c].num_bits);
    for (int t = 0; t < b.length; ++t) {
      const size_t row = static_cast<size_t>(c) * b.length + t;
      pdf_from_log_probs({&b.log_probs[row * 256], 256}, pdf);
      ASSERT_EQ(dec.decode(pdf), b.symbols[row]) << "chunk " << c << " t " << t;
    }
  }
}

// The code of the error `code_batch` throws (its message in *message), or usage where it throws none.
template <typename Code>
ErrorCode error_code_of(Code code_batch, std::string* message) {
  try {
    code_batch();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::usage;  // "no error"
}

ErrorCode error_of(const Batch& b, BatchKernel kernel, std::string* message = nullptr) {
  return error_code_of([&] { batch(b, kernel); }, message);
}

TEST(BatchEncoder, BadRowsGiveTheSameErrorOnEveryKernel) {
  std::mt19937 rng(25);
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 100.0f};
  for (float bad : bad_values) {
    Batch b = make_batch(rng, 32, 20, 256, 4.0f, true);
    b.log_probs[(static_cast<size_t>(11) * 20 + 7) * 256 + 200] = bad;  // chunk 11, position 7
    std::string want;
    EXPECT_EQ(error_of(b, BatchKernel::scalar, &want), ErrorCode::internal);
    EXPECT_NE(want.find("chunk 11 position 7"), std::string::npos) << want;
    for (BatchKernel k : kernels()) {
      std::string got;
      EXPECT_EQ(error_of(b, k, &got), ErrorCode::internal);
      EXPECT_EQ(got, want);
    }
  }
  // All -inf: nothing to normalise.
  Batch b = make_batch(rng, 8, 4, 256, 4.0f, true);
  for (int i = 0; i < 256; ++i) b.log_probs[(static_cast<size_t>(3) * 4 + 2) * 256 + i] = -INFINITY;
  for (BatchKernel k : kernels()) EXPECT_EQ(error_of(b, k), ErrorCode::internal);
}

TEST(BatchEncoder, RefusesBadArguments) {
  std::mt19937 rng(26);
  Batch b = make_batch(rng, 8, 10, 256, 4.0f, true);
  b.symbols[13] = 256;
  EXPECT_EQ(error_of(b, BatchKernel::automatic), ErrorCode::internal);
  b.symbols[13] = 0;
  EXPECT_THROW(encode_chunks(b.log_probs, b.symbols, 8, 11, 256), Error);
  EXPECT_THROW(encode_chunks(b.log_probs, b.symbols, 8, 10, 1), Error);
  EXPECT_THROW(encode_chunks(std::span<const float>(b.log_probs).first(100), b.symbols, 8, 10, 256), Error);
}

// ---------------------------------------------------------------------------------------------------------------
// encode_chunks_from_probs: rows of probabilities, coded as normalize_pdf + ArithmeticEncoder::encode.

// b.log_probs holds probabilities here.
Batch to_probs(Batch b) {
  std::vector<float> p(b.log_probs.size());
  exp_f32(b.log_probs, p);
  b.log_probs = std::move(p);
  return b;
}

std::vector<EncodedBits> plain_from_probs(const Batch& b) {
  std::vector<EncodedBits> out;
  std::vector<float> pdf(static_cast<size_t>(b.alphabet));
  for (int c = 0; c < b.chunks; ++c) {
    ArithmeticEncoder enc;
    for (int t = 0; t < b.length; ++t) {
      const size_t row = static_cast<size_t>(c) * b.length + t;
      std::copy_n(&b.log_probs[row * b.alphabet], b.alphabet, pdf.begin());
      normalize_pdf(pdf);
      enc.encode(pdf, b.symbols[row]);
    }
    out.push_back(enc.finish());
  }
  return out;
}

std::vector<EncodedBits> batch_from_probs(const Batch& b, BatchKernel kernel, int threads = 1) {
  return encode_chunks_from_probs(b.log_probs, b.symbols, b.chunks, b.length, b.alphabet, {threads, kernel});
}

TEST(BatchEncoderFromProbs, EveryKernelMatchesThePlainEncoderBitForBit) {
  std::mt19937 rng(31);
  struct Case {
    int chunks, length, alphabet;
    float scale;
    bool typical;
  };
  const Case cases[] = {{32, 150, 256, 4.0f, true}, {64, 40, 256, 4.0f, false}, {16, 200, 256, 20.0f, true},
                        {57, 60, 256, 4.0f, true},  {48, 40, 128, 8.0f, false}, {40, 30, 24, 2.0f, true},
                        {11, 100, 256, 0.5f, false}, {9, 120, 128, 4.0f, true}, {24, 100, 8, 3.0f, false},
                        {10, 80, 3, 2.0f, true},    {33, 20, 1000, 6.0f, true}, {8, 8, 65536, 4.0f, true},
                        {3, 40, 256, 4.0f, true},   {0, 10, 256, 1.0f, true},   {8, 0, 256, 1.0f, true},
                        {47, 30, 16, 1.0f, false}, {24, 31, 256, 4.0f, true}, {17, 1, 256, 4.0f, true},
                        {16, 3, 16, 2.0f, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.chunks << " chunks x " << c.length << " of " << c.alphabet);
    const Batch b = to_probs(make_batch(rng, c.chunks, c.length, c.alphabet, c.scale, c.typical));
    const auto want = plain_from_probs(b);
    for (BatchKernel k : kernels()) expect_same(batch_from_probs(b, k), want);
  }
}

TEST(BatchEncoderFromProbs, ThreadsDoNotChangeTheOutput) {
  std::mt19937 rng(32);
  const Batch b = to_probs(make_batch(rng, 77, 60, 256, 4.0f, true));
  const auto want = plain_from_probs(b);
  for (BatchKernel k : kernels()) {
    for (int threads : {1, 2, 3, 8, 0}) expect_same(batch_from_probs(b, k, threads), want);
  }
}

// Rows chosen to stress the float32 arithmetic: unnormalised sums far from 1 (where the quotient is taken with a
// division instead of the reciprocal form), zeros and -0.0, subnormal values, one dominant value, and rows built
// so that the rounding errors of the sum and of the cumulative sum all push c[A] towards 1 (the case the kernels
// do not check; see batch_encoder_probs_proof.md). Symbols are uniform, so the last symbol and the first appear.
TEST(BatchEncoderFromProbs, AdversarialRowsMatchThePlainEncoder) {
  std::mt19937 rng(33);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int alphabet : {256, 16, 128, 8}) {
    SCOPED_TRACE(testing::Message() << "alphabet " << alphabet);
    Batch b = to_probs(make_batch(rng, 48, 96, alphabet, 4.0f, false));
    for (size_t row = 0; row < b.symbols.size(); ++row) {
      float* p = &b.log_probs[row * static_cast<size_t>(alphabet)];
      const int mode = static_cast<int>(rng() % 12);
      for (int i = 0; i < alphabet; ++i) {
        switch (mode) {
          case 1: p[i] *= 1e-12f; break;                           // sum far below 2^-20
          case 2: p[i] *= 3e35f; break;                            // sum far above 2^100
          case 3: p[i] = rng() % 2 ? 0.0f : -0.0f; break;          // zeros: fixed below so the sum is positive
          case 4: p[i] = std::bit_cast<float>(static_cast<uint32_t>(rng() % 0x800000u)); break;  // subnormal
          case 5: p[i] = i == 0 ? 1.0f : 0x1.fep-26f; break;       // each value just under half an ulp of 1
          case 6: p[i] = i == alphabet - 1 ? 1.0f : 0x1.fep-26f * u(rng); break;
          case 7: p[i] = i == 0 ? 0.5f : 0x1.fffffep-27f; break;   // the sum stays in [1/2, 1): rounds down
          case 8: p[i] = i < 2 ? 0.5f : 0x1.fffffep-26f; break;
          case 9: p[i] = u(rng) < 0.9f ? 0.0f : u(rng); break;     // mostly zeros
          case 10: p[i] = static_cast<float>(i + 1); break;       // reference vector B shape, unnormalised
          case 11: p[i] = i == alphabet / 2 ? 1e30f : u(rng); break;
          default: break;
        }
      }
      if (mode == 3 || mode == 9) p[rng() % static_cast<uint32_t>(alphabet)] = 0.25f;
    }
    const auto want = plain_from_probs(b);
    for (BatchKernel k : kernels()) expect_same(batch_from_probs(b, k), want);
  }
}

ErrorCode error_from_probs(const Batch& b, BatchKernel kernel, std::string* message = nullptr) {
  return error_code_of([&] { batch_from_probs(b, kernel); }, message);
}

TEST(BatchEncoderFromProbs, BadRowsGiveTheSameErrorOnEveryKernel) {
  std::mt19937 rng(34);
  const float bad_values[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), -1e-30f, -0.5f,
                              std::numeric_limits<float>::max()};  // the last one: the sum overflows
  for (float bad : bad_values) {
    SCOPED_TRACE(testing::Message() << "bad value " << bad);
    Batch b = to_probs(make_batch(rng, 64, 20, 256, 4.0f, true));
    b.log_probs[(static_cast<size_t>(37) * 20 + 7) * 256 + 200] = bad;  // chunk 37, position 7
    if (bad == std::numeric_limits<float>::max()) b.log_probs[(static_cast<size_t>(37) * 20 + 7) * 256 + 201] = bad;
    std::string want;
    EXPECT_EQ(error_from_probs(b, BatchKernel::scalar, &want), ErrorCode::internal);
    EXPECT_NE(want.find("chunk 37 position 7"), std::string::npos) << want;
    for (BatchKernel k : kernels()) {
      std::string got;
      EXPECT_EQ(error_from_probs(b, k, &got), ErrorCode::internal);
      EXPECT_EQ(got, want);
    }
  }
  // An all-zero row: nothing to normalise.
  Batch b = to_probs(make_batch(rng, 32, 4, 256, 4.0f, true));
  for (int i = 0; i < 256; ++i) b.log_probs[(static_cast<size_t>(19) * 4 + 2) * 256 + i] = 0.0f;
  for (BatchKernel k : kernels()) EXPECT_EQ(error_from_probs(b, k), ErrorCode::internal);
  // Negative zeros are not negative: the row is coded.
  for (int i = 0; i < 256; ++i) b.log_probs[(static_cast<size_t>(19) * 4 + 2) * 256 + i] = i % 7 ? -0.0f : 0.125f;
  const auto want = plain_from_probs(b);
  for (BatchKernel k : kernels()) expect_same(batch_from_probs(b, k), want);
}

TEST(BatchEncoderFromProbs, OutputDecodesWithThePlainDecoder) {
  std::mt19937 rng(35);
  const Batch b = to_probs(make_batch(rng, 32, 200, 256, 4.0f, true));
  const auto coded = batch_from_probs(b, BatchKernel::automatic);
  std::vector<float> pdf(256);
  for (int c = 0; c < b.chunks; ++c) {
    ArithmeticDecoder dec(coded[c].bytes, coded[c].num_bits);
    for (int t = 0; t < b.length; ++t) {
      const size_t row = static_cast<size_t>(c) * b.length + t;
      std::copy_n(&b.log_probs[row * 256], 256, pdf.begin());
      normalize_pdf(pdf);
      ASSERT_EQ(dec.decode(pdf), b.symbols[row]) << "chunk " << c << " t " << t;
    }
  }
}

TEST(BatchEncoderFromProbs, ReferenceVectorsA) {
  // SPEC-LMIC.md section 5, vector A: uniform pdf, "Hello, world!", as 13 chunks of one symbol would not do (the
  // code is one stream), so: 32 identical chunks of the 13 symbols, each must give the reference's bytes.
  const std::string msg = "Hello, world!";
  const int chunks = 32, length = static_cast<int>(msg.size());
  std::vector<float> probs(static_cast<size_t>(chunks) * length * 256, 1.0f / 256.0f);
  std::vector<uint32_t> symbols;
  for (int c = 0; c < chunks; ++c)
    for (char ch : msg) symbols.push_back(static_cast<uint8_t>(ch));
  for (BatchKernel k : kernels()) {
    const auto out = encode_chunks_from_probs(probs, symbols, chunks, length, 256, {1, k});
    for (const auto& e : out) {
      EXPECT_EQ(e.num_bits, 104u);
      const Bytes want = {0x48, 0x64, 0xda, 0xd5, 0xe3, 0xc9, 0xcc, 0x6b, 0xa9, 0xfc, 0xa1, 0x7f, 0xc4};
      EXPECT_EQ(e.bytes, want);
    }
  }
}

TEST(BatchEncoderFromProbs, RefusesBadArguments) {
  std::mt19937 rng(36);
  Batch b = to_probs(make_batch(rng, 8, 10, 256, 4.0f, true));
  b.symbols[13] = 256;
  EXPECT_EQ(error_from_probs(b, BatchKernel::automatic), ErrorCode::internal);
  b.symbols[13] = 0;
  EXPECT_THROW(encode_chunks_from_probs(b.log_probs, b.symbols, 8, 11, 256), Error);
  EXPECT_THROW(encode_chunks_from_probs(b.log_probs, b.symbols, 8, 10, 1), Error);
  EXPECT_THROW(encode_chunks_from_probs(std::span<const float>(b.log_probs).first(100), b.symbols, 8, 10, 256), Error);
}

#ifdef LMAC_HAVE_X86
// The AVX2 exp must give the scalar exp's bits for every input, or the two kernels could disagree.
__attribute__((target("avx2"))) void exp_avx2_block(const float* in, float* out) {
  _mm256_storeu_ps(out, exp_f32_detail::exp_avx2(_mm256_loadu_ps(in)));
}

TEST(ExpF32, Avx2KernelMatchesScalarOnEveryFloatOfTheUsefulRangeAndRandomBits) {
  if (!batch_kernel_available(BatchKernel::avx2)) GTEST_SKIP() << "no AVX2";
  std::vector<float> in, out(8);
  // Every float in [-105, 89] is too many for a unit test; take every 61st bit pattern plus random patterns.
  for (uint32_t bits = 0; bits < 0xFFFFFFFFu - 61; bits += 61) {
    const float x = std::bit_cast<float>(bits);
    if (!(x >= -105.0f && x <= 89.0f)) continue;
    in.push_back(x);
  }
  std::mt19937 rng(27);
  for (int i = 0; i < 100000; ++i) in.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  while (in.size() % 8) in.push_back(0.0f);
  for (size_t i = 0; i < in.size(); i += 8) {
    exp_avx2_block(&in[i], out.data());
    for (int j = 0; j < 8; ++j) {
      const float want = exp_f32(in[i + j]);
      ASSERT_EQ(std::bit_cast<uint32_t>(out[j]), std::bit_cast<uint32_t>(want)) << "x = " << in[i + j];
    }
  }
}
#endif

}  // namespace
}  // namespace lmac
