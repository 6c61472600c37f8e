#include "coding/bit_io.hpp"

#include "util/error.hpp"

namespace lmac {

Bytes BitWriter::take_front_padded(int& padding_bits) {
  Bytes out = std::move(bytes_);
  if (acc_bits_ > 0) out.push_back(static_cast<uint8_t>(acc_ << (8 - acc_bits_)));  // tail, zero-filled at the end
  const int pad = static_cast<int>((8 - total_bits_ % 8) % 8);
  padding_bits = pad;
  if (pad != 0) {
    // Move every bit `pad` places later: the zeros filled in at the end move to the front.
    for (size_t k = out.size(); k-- > 0;) {
      const unsigned before = k > 0 ? out[k - 1] : 0u;
      out[k] = static_cast<uint8_t>((before << (8 - pad)) | (out[k] >> pad));
    }
  }
  bytes_.clear();
  acc_ = 0;
  acc_bits_ = 0;
  total_bits_ = 0;
  return out;
}

BitReader::BitReader(ByteView bytes, uint64_t num_bits) : bytes_(bytes), num_bits_(num_bits) {
  const uint64_t capacity = static_cast<uint64_t>(bytes.size()) * 8;
  if (num_bits > capacity || capacity - num_bits >= 8) {
    throw_error(ErrorCode::corrupt_stream, "arithmetic code of {} bits cannot be held by {} bytes", num_bits,
                bytes.size());
  }
  const int pad = static_cast<int>(capacity - num_bits);
  get(pad);  // the front padding
  consumed_ = 0;
}

void BitReader::refill() {
  while (buf_bits_ <= 56) {
    const uint64_t byte = next_byte_ < bytes_.size() ? bytes_[next_byte_] : 0xFFu;
    ++next_byte_;
    buf_ |= byte << (56 - buf_bits_);
    buf_bits_ += 8;
  }
}

}  // namespace lmac
