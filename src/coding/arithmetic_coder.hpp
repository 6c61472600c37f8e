// The arithmetic coder of "Language Modeling Is Compression" (arithmetic_coder.py, base 2, precision 32),
// bit-exact: same interval split, same carry ("pending") handling, same termination, same front zero-padding.
// See SPEC-LMIC.md section 5.
//
// State: low = 0, high = 2^32 - 1 (inclusive). For a pdf p[0..A-1] (already normalised, see pdf.hpp):
//   c[0] = 0, c[i+1] = fl32(c[i] + p[i])                 left-to-right float32 sums
//   q[i] = trunc((double)c[i] * (double)(high - low + 1))  the product rounded to double, then truncated
//   symbol s owns [low + q[s], low + q[s+1] - 1]
// A pdf is refused (it is in the reference) when two consecutive q are equal or q[A] > high - low + 1. The latter
// happens exactly when c[A] > 1, which is how it is checked here.
#pragma once

#include "coding/bit_io.hpp"
#include "util/bytes.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace lmac {

struct EncodedBits {
  Bytes bytes;             // the bit string, front-padded with zeros to whole bytes, most significant bit first
  uint64_t num_bits = 0;   // the code length; the reference counts len(bytes), i.e. ceil(num_bits / 8) bytes
  int padding_bits = 0;    // zeros in front of the code in bytes[0] (neither stored nor counted by the reference)
};

inline constexpr int kMinAlphabet = 2;
inline constexpr int kMaxAlphabet = 65536;

class ArithmeticEncoder {
 public:
  // Codes `symbol` with `pdf` (normalised, 2..65536 values). Throws lmac::Error (ErrorCode::internal) for a
  // symbol out of range or a pdf the reference refuses (negative or NaN value, zero-width symbol, sum above 1).
  void encode(std::span<const float> pdf, uint32_t symbol);

  // The same step from the two cumulative sums of the coded symbol, c[s] and c[s+1], for callers that computed
  // them (and checked the rest of the pdf) themselves: the batch path. Throws ErrorCode::internal if they give an
  // empty interval or reach past c = 1.
  void encode_cumulative(float c_low, float c_high);

  // Ends the code (a 0, then the pending carries as 1s) and returns it. The encoder is then empty again.
  EncodedBits finish();

  uint64_t num_bits_so_far() const { return out_.num_bits(); }

 private:
  void narrow(uint64_t q_low, uint64_t q_high);

  uint64_t low_ = 0;
  uint64_t high_ = 0xFFFFFFFFu;
  uint64_t pending_ = 0;
  BitWriter out_;
};

class ArithmeticDecoder {
 public:
  // `num_bits` is EncodedBits::num_bits; it tells how many front padding bits to skip. Throws
  // ErrorCode::corrupt_stream unless bytes.size() == ceil(num_bits / 8).
  ArithmeticDecoder(ByteView bytes, uint64_t num_bits);

  // The next symbol under `pdf` (which must equal the encoder's, value for value). Throws lmac::Error
  // (ErrorCode::corrupt_stream) when the pdf is refused, when the code points past the last symbol, or when more
  // than 31 bits past the end of the input would be needed: damaged or truncated input never leads to UB.
  uint32_t decode(std::span<const float> pdf);

 private:
  uint64_t low_ = 0;
  uint64_t high_ = 0xFFFFFFFFu;
  uint64_t code_ = 0;
  BitReader in_;
  std::vector<float> cumulative_;  // scratch: c[1..A]
};

}  // namespace lmac
