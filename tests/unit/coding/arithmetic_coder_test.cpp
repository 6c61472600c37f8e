#include "coding/arithmetic_coder.hpp"
#include "coding/pdf.hpp"

#include "util/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace lmac {
namespace {

std::string to_hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

// The code as the reference's '0'/'1' string: the bytes' bits without the front padding.
std::string to_bit_string(const EncodedBits& e) {
  std::string s;
  for (uint8_t v : e.bytes)
    for (int b = 7; b >= 0; --b) s += ((v >> b) & 1) ? '1' : '0';
  return s.substr(static_cast<size_t>(e.padding_bits));
}

std::vector<float> normalised(std::vector<float> pdf) {
  normalize_pdf(pdf);
  return pdf;
}

EncodedBits encode_all(const std::vector<std::vector<float>>& pdfs, const std::vector<uint32_t>& symbols) {
  ArithmeticEncoder enc;
  for (size_t t = 0; t < symbols.size(); ++t) enc.encode(pdfs[t % pdfs.size()], symbols[t]);
  return enc.finish();
}

std::vector<uint32_t> decode_all(const EncodedBits& e, const std::vector<std::vector<float>>& pdfs, size_t n) {
  ArithmeticDecoder dec(e.bytes, e.num_bits);
  std::vector<uint32_t> out;
  for (size_t t = 0; t < n; ++t) out.push_back(dec.decode(pdfs[t % pdfs.size()]));
  return out;
}

std::vector<uint32_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// ----- SPEC-LMIC.md section 5, vectors A and B (from the reference code) -----

TEST(ArithmeticCoderSpec, VectorA_UniformHelloWorld) {
  const std::vector<std::vector<float>> pdf{normalised(std::vector<float>(256, 1.0f / 256))};
  const auto message = bytes_of("Hello, world!");
  const EncodedBits e = encode_all(pdf, message);
  EXPECT_EQ(e.num_bits, 104u);
  EXPECT_EQ(e.padding_bits, 0);
  EXPECT_EQ(to_bit_string(e),
            "01001000011001001101101011010101111000111100100111001100011010111010100111111100101000010111111111000100");
  EXPECT_EQ(to_hex(e.bytes), "4864dad5e3c9cc6ba9fca17fc4");
  EXPECT_EQ(decode_all(e, pdf, message.size()), message);
}

TEST(ArithmeticCoderSpec, VectorB_LinearQuickBrownFox) {
  std::vector<float> raw(256);
  for (int i = 0; i < 256; ++i) raw[i] = static_cast<float>((i + 1) / 32896.0);
  const std::vector<std::vector<float>> pdf{normalised(raw)};
  const auto message = bytes_of("The quick brown fox");
  const EncodedBits e = encode_all(pdf, message);
  EXPECT_EQ(e.num_bits, 162u);
  EXPECT_EQ(e.padding_bits, 6);
  EXPECT_EQ(to_hex(e.bytes), "006f928196547bcb3a51c103b4c225fe7675ca41ec");
  EXPECT_EQ(to_bit_string(e).size(), 162u);
  EXPECT_EQ(decode_all(e, pdf, message.size()), message);
}

// ----- Properties -----

enum class Shape { uniformish, peaked, tiny, softmax4 };

std::vector<float> random_pdf(std::mt19937& rng, size_t A, Shape shape) {
  std::vector<float> p(A);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  switch (shape) {
    case Shape::uniformish:
      for (auto& v : p) v = 0.5f + u(rng);
      break;
    case Shape::peaked:  // one symbol nearly certain
      for (auto& v : p) v = u(rng) * 1e-6f;
      p[rng() % A] = 1.0f;
      break;
    case Shape::tiny:  // many exact zeros and denormal-sized values next to large ones
      for (auto& v : p) {
        const uint32_t r = rng() % 4;
        v = r == 0 ? 0.0f : r == 1 ? 1e-40f : r == 2 ? 1e-20f : u(rng);
      }
      p[rng() % A] = 0.5f;  // never all zero
      break;
    case Shape::softmax4: {
      std::normal_distribution<float> n(0.0f, 4.0f);
      std::vector<float> lp(A);
      float mx = -1e30f;
      for (auto& v : lp) mx = std::max(mx, v = n(rng));
      for (size_t i = 0; i < A; ++i) p[i] = exp_f32(lp[i] - mx);
      break;
    }
  }
  normalize_pdf(p);
  return p;
}

// A symbol drawn from the pdf itself (so the message is typical for it), or uniformly.
uint32_t draw(std::mt19937& rng, const std::vector<float>& pdf, bool from_pdf) {
  if (!from_pdf) return static_cast<uint32_t>(rng() % pdf.size());
  double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng), c = 0;
  for (size_t i = 0; i < pdf.size(); ++i) {
    c += pdf[i];
    if (r < c) return static_cast<uint32_t>(i);
  }
  return static_cast<uint32_t>(pdf.size() - 1);
}

TEST(ArithmeticCoderProperty, RandomPdfsRoundTrip) {
  std::mt19937 rng(11);
  const size_t alphabets[] = {2, 3, 5, 128, 255, 256, 1000};
  for (int trial = 0; trial < 120; ++trial) {
    const size_t A = alphabets[trial % 7];
    const Shape shape = static_cast<Shape>(trial % 4);
    const size_t n = 1 + rng() % 600;
    std::vector<std::vector<float>> pdfs;
    std::vector<uint32_t> message;
    for (size_t t = 0; t < n; ++t) {
      pdfs.push_back(random_pdf(rng, A, shape));
      message.push_back(draw(rng, pdfs.back(), trial % 3 != 0));
    }
    const EncodedBits e = encode_all(pdfs, message);
    ASSERT_EQ(e.bytes.size(), (e.num_bits + 7) / 8);
    ASSERT_EQ(static_cast<uint64_t>(e.padding_bits), e.bytes.size() * 8 - e.num_bits);
    ASSERT_EQ(decode_all(e, pdfs, n), message) << "trial " << trial;
  }
}

TEST(ArithmeticCoderProperty, CodeLengthWithinThreeBitsOfIdeal) {
  // Messages drawn from their pdfs: the code length is -sum log2 p (p the NORMALISED pdf) plus at most a couple of
  // bits of termination; quantisation to 32 bits costs a negligible amount for typical symbols.
  std::mt19937 rng(12);
  for (int trial = 0; trial < 60; ++trial) {
    const size_t A = trial % 2 ? 256 : 2 + rng() % 300;
    const Shape shape = trial % 3 == 0 ? Shape::softmax4 : trial % 3 == 1 ? Shape::peaked : Shape::uniformish;
    const size_t n = 1 + rng() % 2000;
    std::vector<std::vector<float>> pdfs;
    std::vector<uint32_t> message;
    double ideal = 0;
    for (size_t t = 0; t < n; ++t) {
      pdfs.push_back(random_pdf(rng, A, shape));
      message.push_back(draw(rng, pdfs.back(), true));
      ideal -= std::log2(static_cast<double>(pdfs.back()[message.back()]));
    }
    const EncodedBits e = encode_all(pdfs, message);
    EXPECT_LE(static_cast<double>(e.num_bits), ideal + 3.0) << "trial " << trial << " n " << n;
    EXPECT_GE(static_cast<double>(e.num_bits), ideal - 3.0) << "trial " << trial << " n " << n;
  }
}

TEST(ArithmeticCoderProperty, LongRunsOfCertainSymbolsAndPendingCarries) {
  // A nearly certain symbol over and over keeps the interval straddling the middle: long pending-carry runs.
  std::vector<float> raw(256, 0.0f);
  raw[128] = 1.0f;  // the symbol whose interval sits around one half
  const std::vector<std::vector<float>> pdf{normalised(raw)};
  std::vector<uint32_t> message(20000, 128);
  message.back() = 0;
  const EncodedBits e = encode_all(pdf, message);
  EXPECT_EQ(decode_all(e, pdf, message.size()), message);
}

TEST(ArithmeticCoderProperty, Alphabet65536RoundTrips) {
  std::mt19937 rng(13);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<std::vector<float>> pdfs;
    std::vector<uint32_t> message;
    for (int t = 0; t < 60; ++t) {
      pdfs.push_back(random_pdf(rng, 65536, trial % 2 ? Shape::softmax4 : Shape::peaked));
      message.push_back(draw(rng, pdfs.back(), t % 2 == 0));
    }
    const EncodedBits e = encode_all(pdfs, message);
    EXPECT_EQ(decode_all(e, pdfs, message.size()), message);
  }
}

TEST(ArithmeticCoderProperty, EmptyMessageIsOneBit) {
  ArithmeticEncoder enc;
  const EncodedBits e = enc.finish();
  EXPECT_EQ(e.num_bits, 1u);
  EXPECT_EQ(e.padding_bits, 7);
  EXPECT_EQ(e.bytes, Bytes{0});
}

TEST(ArithmeticCoderProperty, EncoderIsReusableAfterFinish) {
  const std::vector<std::vector<float>> pdf{normalised(std::vector<float>(256, 1.0f))};
  ArithmeticEncoder enc;
  for (uint32_t s : bytes_of("abc")) enc.encode(pdf[0], s);
  const EncodedBits first = enc.finish();
  for (uint32_t s : bytes_of("abc")) enc.encode(pdf[0], s);
  EXPECT_EQ(enc.finish().bytes, first.bytes);
}

TEST(ArithmeticCoderProperty, EncodeCumulativeEqualsEncode) {
  std::mt19937 rng(14);
  ArithmeticEncoder a, b;
  for (int t = 0; t < 500; ++t) {
    const auto pdf = random_pdf(rng, 256, static_cast<Shape>(t % 4));
    const uint32_t s = draw(rng, pdf, t % 2 == 0);
    float c = 0, lo = 0, hi = 0;
    for (uint32_t i = 0; i < 256; ++i) {
      if (i == s) lo = c;
      c = c + pdf[i];
      if (i == s) hi = c;
    }
    a.encode(pdf, s);
    b.encode_cumulative(lo, hi);
  }
  EXPECT_EQ(a.finish().bytes, b.finish().bytes);
}

// ----- Errors -----

TEST(ArithmeticCoderErrors, ZeroWidthSymbolIsRefused) {
  std::vector<float> pdf(256, 1.0f / 256);
  pdf[5] = 0.0f;  // unnormalised: symbol 5 gets an empty interval
  ArithmeticEncoder enc;
  try {
    enc.encode(pdf, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(std::string(e.what()).find("empty interval"), std::string::npos) << e.what();
  }
  std::vector<float> tiny(256, 1.0f / 256);
  tiny[9] = 1e-12f;  // positive, but below one step of the 32-bit code space
  EXPECT_THROW(enc.encode(tiny, 0), Error);
}

TEST(ArithmeticCoderErrors, PdfSummingPastOneIsRefused) {
  std::vector<float> pdf(256, 1.0f / 255);
  ArithmeticEncoder enc;
  EXPECT_THROW(enc.encode(pdf, 0), Error);
  std::vector<float> ok(256, 1.0f / 256);  // sums to exactly 1: allowed (q[A] == width)
  EXPECT_NO_THROW(enc.encode(ok, 0));
}

TEST(ArithmeticCoderErrors, BadValuesAndSymbolsAreRefused) {
  ArithmeticEncoder enc;
  std::vector<float> pdf = normalised(std::vector<float>(256, 1.0f));
  EXPECT_THROW(enc.encode(pdf, 256), Error);
  auto nan_pdf = pdf;
  nan_pdf[4] = std::nanf("");
  EXPECT_THROW(enc.encode(nan_pdf, 0), Error);
  auto neg = pdf;
  neg[4] = -pdf[4];
  EXPECT_THROW(enc.encode(neg, 0), Error);
  EXPECT_THROW(enc.encode(std::vector<float>{1.0f}, 0), Error);
  EXPECT_THROW(enc.encode_cumulative(0.5f, 0.5f), Error);
  EXPECT_THROW(enc.encode_cumulative(0.5f, 1.5f), Error);
  EXPECT_THROW(enc.encode_cumulative(std::nanf(""), 0.5f), Error);
}

TEST(ArithmeticCoderErrors, DecoderRefusesInconsistentLengths) {
  const Bytes two{0x12, 0x34};
  EXPECT_THROW(ArithmeticDecoder(two, 17), Error);  // more bits than bytes
  EXPECT_THROW(ArithmeticDecoder(two, 8), Error);   // a whole byte of padding
  EXPECT_THROW(ArithmeticDecoder(Bytes{}, 0), Error);
  EXPECT_NO_THROW(ArithmeticDecoder(two, 9));
  bool threw = false;
  try {
    ArithmeticDecoder(two, 3);
  } catch (const Error& e) {
    threw = true;
    EXPECT_EQ(e.code(), ErrorCode::corrupt_stream);
  }
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace lmac
