// Damaged input must never crash the decoder: every call either returns a symbol or throws lmac::Error
// (ErrorCode::corrupt_stream). Run under -DLMAC_SANITIZE=ON to also catch undefined behaviour.
#include "coding/arithmetic_coder.hpp"
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lmac {
namespace {

std::vector<float> softmax_pdf(std::mt19937& rng, size_t A, float scale) {
  std::normal_distribution<float> n(0.0f, scale);
  std::vector<float> p(A);
  for (auto& v : p) v = exp_f32(n(rng) - 3 * scale);
  normalize_pdf(p);
  return p;
}

// Decodes up to n symbols; returns how many were decoded before an lmac::Error (which must be corrupt_stream).
size_t decode_some(const Bytes& bytes, uint64_t num_bits, const std::vector<std::vector<float>>& pdfs, size_t n) {
  size_t decoded = 0;
  try {
    ArithmeticDecoder dec(bytes, num_bits);
    for (; decoded < n; ++decoded) {
      const uint32_t s = dec.decode(pdfs[decoded % pdfs.size()]);
      EXPECT_LT(s, pdfs[decoded % pdfs.size()].size());
    }
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt_stream) << e.what();
  }
  return decoded;
}

TEST(DecoderRobustness, RandomBytesNeverCrash) {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t A = trial % 3 == 0 ? 2 : trial % 3 == 1 ? 256 : 4096;
    std::vector<std::vector<float>> pdfs;
    for (int i = 0; i < 8; ++i) pdfs.push_back(softmax_pdf(rng, A, 1.0f + static_cast<float>(i)));
    Bytes bytes(rng() % 40);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    const uint64_t num_bits = bytes.empty() ? 0 : bytes.size() * 8 - rng() % 8;
    decode_some(bytes, num_bits, pdfs, 2000);
  }
}

TEST(DecoderRobustness, TruncatedAndFlippedStreamsNeverCrash) {
  std::mt19937 rng(32);
  std::vector<std::vector<float>> pdfs;
  for (int i = 0; i < 16; ++i) pdfs.push_back(softmax_pdf(rng, 256, 3.0f));
  ArithmeticEncoder enc;
  std::vector<uint32_t> message;
  for (int t = 0; t < 500; ++t) {
    message.push_back(static_cast<uint32_t>(rng() % 256));
    enc.encode(pdfs[t % 16], message.back());
  }
  const EncodedBits e = enc.finish();
  ASSERT_EQ(decode_some(e.bytes, e.num_bits, pdfs, message.size()), message.size());

  for (size_t keep = 0; keep < e.bytes.size(); keep += 1 + keep / 8) {  // truncated: must stop with an error
    Bytes cut(e.bytes.begin(), e.bytes.begin() + static_cast<long>(keep));
    const uint64_t bits = keep == 0 ? 0 : keep * 8 - static_cast<uint64_t>(e.padding_bits);
    EXPECT_LT(decode_some(cut, bits, pdfs, message.size()), message.size()) << "kept " << keep << " bytes";
  }
  for (int trial = 0; trial < 300; ++trial) {  // flipped bits: any outcome but a crash
    Bytes flipped = e.bytes;
    for (int f = 0; f <= trial % 4; ++f) flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    decode_some(flipped, e.num_bits, pdfs, message.size() + 100);
  }
}

TEST(DecoderRobustness, DecodingPastTheEndIsAnError) {
  std::mt19937 rng(33);
  const std::vector<std::vector<float>> pdfs{softmax_pdf(rng, 256, 2.0f)};
  ArithmeticEncoder enc;
  for (int t = 0; t < 50; ++t) enc.encode(pdfs[0], static_cast<uint32_t>(rng() % 256));
  const EncodedBits e = enc.finish();
  // Far more symbols than were coded: the decoder runs out of input and must say so, not loop or read wild.
  EXPECT_LT(decode_some(e.bytes, e.num_bits, pdfs, 100000), 100000u);
}

TEST(DecoderRobustness, BadPdfsAreCorruptStreamErrors) {
  const Bytes bytes{0x12, 0x34, 0x56, 0x78, 0x9a};
  std::vector<float> zero_width(256, 1.0f / 256);
  zero_width[17] = 0.0f;
  std::vector<float> past_one(256, 1.0f / 200);
  std::vector<float> with_nan(256, 1.0f / 256);
  with_nan[3] = NAN;
  for (const auto& pdf : {zero_width, past_one, with_nan, std::vector<float>(1, 1.0f)}) {
    ArithmeticDecoder dec(bytes, 40);
    try {
      dec.decode(pdf);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::corrupt_stream);
    }
  }
}

TEST(DecoderRobustness, CodePastTheLastSymbolIsAnError) {
  // A pdf that leaves the top of the code space unused (sums to 1/2); a code of all ones points there.
  std::vector<float> half(256, 1.0f / 512);
  const Bytes ones{0xFF, 0xFF, 0xFF, 0xFF};
  ArithmeticDecoder dec(ones, 32);
  EXPECT_THROW(dec.decode(half), Error);
}

}  // namespace
}  // namespace lmac
