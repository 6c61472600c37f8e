#include "coding/arithmetic_coder.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <bit>

namespace lmac {
namespace {

constexpr uint64_t kMask32 = 0xFFFFFFFFu;
constexpr uint64_t kHalf = uint64_t{1} << 31;

// q = trunc(c * width) with the product in double, as the reference's (cumsum * width).astype(int) does.
// Only called with 0 <= c <= 1, so the result lies in [0, width] and the conversion is defined.
inline uint64_t quantise(float c, uint64_t width) {
  return static_cast<uint64_t>(static_cast<double>(c) * static_cast<double>(width));
}

// After a symbol's interval [low, high] is chosen: how many leading bits low and high share (each is output and
// shifted out), then how many underflow steps follow (low = 01..., high = 10...: the second bit is squeezed out
// and a carry bit becomes pending). Both loops of the reference collapse into bit counts.
struct Renormalisation {
  int matching;   // 0..32
  int underflow;  // 0..31
};

inline Renormalisation renormalise(uint64_t& low, uint64_t& high) {
  Renormalisation r{};
  r.matching = std::countl_zero(static_cast<uint32_t>(low ^ high));
  if (r.matching > 0) {
    const int k = r.matching;
    low = (low << k) & kMask32;
    high = ((high << k) & kMask32) | ((uint64_t{1} << k) - 1);
  }
  // Now low < 2^31 <= high. Underflow steps continue while low's next bit is 1 and high's is 0.
  const int ones = std::countl_one(static_cast<uint32_t>(low << 1));    // <= 31: bit 0 of low << 1 is 0
  const int zeros = std::countl_zero(static_cast<uint32_t>(high << 1));
  r.underflow = std::min(ones, zeros);
  if (r.underflow > 0) {
    const int u = r.underflow;
    low = (low & kHalf) | ((low << u) & (kHalf - 1));
    high = (high & kHalf) | ((high << u) & (kHalf - 1)) | ((uint64_t{1} << u) - 1);
  }
  return r;
}

void check_alphabet(size_t size, ErrorCode code) {
  if (size < static_cast<size_t>(kMinAlphabet) || size > static_cast<size_t>(kMaxAlphabet)) {
    throw_error(code, "pdf has {} values; the arithmetic coder takes {} to {}", size, kMinAlphabet, kMaxAlphabet);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Encoder

void ArithmeticEncoder::encode(std::span<const float> pdf, uint32_t symbol) {
  check_alphabet(pdf.size(), ErrorCode::internal);
  if (symbol >= pdf.size()) {
    throw_error(ErrorCode::internal, "symbol {} is outside the pdf's {} values", symbol, pdf.size());
  }
  const uint64_t width = high_ - low_ + 1;
  float c = 0.0f, c_low = 0.0f, c_high = 0.0f;
  uint64_t q_prev = 0;
  for (size_t i = 0; i < pdf.size(); ++i) {
    const float p = pdf[i];
    if (!(p >= 0.0f)) throw_error(ErrorCode::internal, "pdf value {} at index {} is negative or NaN", p, i);
    const float c_next = c + p;
    // c only grows, so once past 1 the last bound q[A] exceeds the width, which the reference refuses.
    if (!(c_next <= 1.0f)) {
      throw_error(ErrorCode::internal, "pdf sums past 1 (to {}) at index {} of {}", c_next, i, pdf.size());
    }
    const uint64_t q_next = quantise(c_next, width);
    if (q_next == q_prev) {
      throw_error(ErrorCode::internal, "pdf value {} at index {} gives symbol {} an empty interval", p, i, i);
    }
    if (i == symbol) {
      c_low = c;
      c_high = c_next;
    }
    c = c_next;
    q_prev = q_next;
  }
  narrow(quantise(c_low, width), quantise(c_high, width));
}

void ArithmeticEncoder::encode_cumulative(float c_low, float c_high) {
  if (!(c_low >= 0.0f && c_high <= 1.0f)) {
    throw_error(ErrorCode::internal, "cumulative pdf [{}, {}) lies outside [0, 1]", c_low, c_high);
  }
  const uint64_t width = high_ - low_ + 1;
  const uint64_t q_low = quantise(c_low, width), q_high = quantise(c_high, width);
  if (!(q_low < q_high)) {
    throw_error(ErrorCode::internal, "cumulative pdf [{}, {}) gives the symbol an empty interval", c_low, c_high);
  }
  narrow(q_low, q_high);
}

void ArithmeticEncoder::narrow(uint64_t q_low, uint64_t q_high) {
  uint64_t low = low_ + q_low;
  uint64_t high = low_ + q_high - 1;
  const uint64_t low_before_shift = low;
  const Renormalisation r = renormalise(low, high);
  if (r.matching > 0) {
    // The first matching bit settles the pending carries: they are its complement.
    const uint32_t first = static_cast<uint32_t>(low_before_shift >> 31);
    out_.put(first, 1);
    if (pending_ > 0) {
      out_.put_run(first ^ 1u, pending_);
      pending_ = 0;
    }
    const int k = r.matching;
    if (k > 1) out_.put(static_cast<uint32_t>(low_before_shift >> (32 - k)), k - 1);
  }
  pending_ += static_cast<uint64_t>(r.underflow);
  low_ = low;
  high_ = high;
}

EncodedBits ArithmeticEncoder::finish() {
  // One more bit picks a point inside the final interval: low's top bit (always 0 here), then the carries.
  out_.put(static_cast<uint32_t>(low_ >> 31), 1);
  out_.put_run(1u, pending_);
  EncodedBits result;
  result.num_bits = out_.num_bits();
  result.bytes = out_.take_front_padded(result.padding_bits);
  low_ = 0;
  high_ = kMask32;
  pending_ = 0;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoder

namespace {
// The reference decoder pads the input with precision - 1 = 31 one-bits and fails when it needs more. A valid
// code needs exactly 31 of them.
constexpr uint64_t kMaxBitsPastEnd = 31;
}  // namespace

ArithmeticDecoder::ArithmeticDecoder(ByteView bytes, uint64_t num_bits) : in_(bytes, num_bits) {
  code_ = in_.get(32);
  if (in_.bits_past_end() > kMaxBitsPastEnd) {
    throw_error(ErrorCode::corrupt_stream, "arithmetic code of {} bits is too short to hold any symbol", num_bits);
  }
}

uint32_t ArithmeticDecoder::decode(std::span<const float> pdf) {
  check_alphabet(pdf.size(), ErrorCode::corrupt_stream);
  const size_t A = pdf.size();
  cumulative_.resize(A);
  // c[1..A], left to right in float32. Negative or NaN values are caught after the loop (it stays branch-free).
  bool bad_value = false;
  float c = 0.0f;
  for (size_t i = 0; i < A; ++i) {
    bad_value |= !(pdf[i] >= 0.0f);
    c = c + pdf[i];
    cumulative_[i] = c;
  }
  if (bad_value) throw_error(ErrorCode::corrupt_stream, "decoder pdf holds a negative or NaN value");
  if (!(c <= 1.0f)) throw_error(ErrorCode::corrupt_stream, "decoder pdf sums past 1 (to {})", c);

  // Symbol = largest s with q[s] <= code - low: the count of bounds q[1..A] at or below it (they increase).
  const uint64_t width = high_ - low_ + 1;
  const uint64_t target = code_ - low_;
  uint64_t q_prev = 0;
  size_t below = 0;
  bool empty_interval = false;
  for (size_t i = 0; i < A; ++i) {
    const uint64_t q = quantise(cumulative_[i], width);
    empty_interval |= q == q_prev;
    below += q <= target;
    q_prev = q;
  }
  if (empty_interval) throw_error(ErrorCode::corrupt_stream, "decoder pdf gives a symbol an empty interval");
  if (below >= A) throw_error(ErrorCode::corrupt_stream, "arithmetic code points past the last symbol");
  const size_t s = below;

  const uint64_t q_low = s == 0 ? 0 : quantise(cumulative_[s - 1], width);
  const uint64_t q_high = quantise(cumulative_[s], width);
  uint64_t low = low_ + q_low;
  uint64_t high = low_ + q_high - 1;
  const Renormalisation r = renormalise(low, high);
  code_ = ((code_ << r.matching) & kMask32) | in_.get(r.matching);
  const int u = r.underflow;
  code_ = (code_ & kHalf) | ((code_ << u) & (kHalf - 1)) | in_.get(u);
  if (in_.bits_past_end() > kMaxBitsPastEnd) {
    throw_error(ErrorCode::corrupt_stream, "arithmetic code ended early: {} bits missing",
                in_.bits_past_end() - kMaxBitsPastEnd);
  }
  low_ = low;
  high_ = high;
  return static_cast<uint32_t>(s);
}

}  // namespace lmac
