// Bit streams for the arithmetic coder: most significant bit first, as the reference writes its '0'/'1' string.
#pragma once

#include "util/bytes.hpp"

#include <cstdint>

namespace lmac {

class BitWriter {
 public:
  // Appends the low n bits of value (0 <= n <= 32), most significant first.
  void put(uint32_t value, int n) {
    acc_ = (acc_ << n) | (value & mask(n));
    acc_bits_ += n;
    total_bits_ += static_cast<uint64_t>(n);
    while (acc_bits_ >= 8) {
      acc_bits_ -= 8;
      bytes_.push_back(static_cast<uint8_t>(acc_ >> acc_bits_));
    }
  }

  // Appends `count` copies of one bit.
  void put_run(uint32_t bit, uint64_t count) {
    const uint32_t word = bit ? 0xFFFFFFFFu : 0u;
    for (; count >= 32; count -= 32) put(word, 32);
    put(word, static_cast<int>(count));
  }

  uint64_t num_bits() const { return total_bits_; }

  // The bits left-padded with zeros to whole bytes (Python's str.zfill, as the reference's bits_to_bytes does):
  // the padding goes in FRONT. Returns the number of padding bits through `padding_bits`.
  Bytes take_front_padded(int& padding_bits);

 private:
  static uint64_t mask(int n) { return (uint64_t{1} << n) - 1; }

  Bytes bytes_;
  uint64_t acc_ = 0;  // pending bits in the low acc_bits_ positions (higher bits are stale)
  int acc_bits_ = 0;
  uint64_t total_bits_ = 0;
};

// Reads a front-padded bit string; bits past its end read as 1 (the reference decoder's trailing digits).
class BitReader {
 public:
  BitReader(ByteView bytes, uint64_t num_bits);

  // Next n bits (0 <= n <= 32), most significant first.
  uint32_t get(int n) {
    if (buf_bits_ < n) refill();
    uint32_t v = n == 0 ? 0u : static_cast<uint32_t>(buf_ >> (64 - n));
    buf_ = n == 64 ? 0 : buf_ << n;
    buf_bits_ -= n;
    consumed_ += static_cast<uint64_t>(n);
    return v;
  }

  // Bits read past the end of the input (each read as 1).
  uint64_t bits_past_end() const { return consumed_ > num_bits_ ? consumed_ - num_bits_ : 0; }

 private:
  void refill();

  ByteView bytes_;
  uint64_t num_bits_;
  size_t next_byte_ = 0;
  uint64_t buf_ = 0;  // valid bits at the top
  int buf_bits_ = 0;
  uint64_t consumed_ = 0;  // bits handed out, not counting the front padding
};

}  // namespace lmac
