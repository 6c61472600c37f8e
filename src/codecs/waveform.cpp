#include "codecs/waveform.hpp"

#include "util/error.hpp"

namespace lmac {

void check_audio_format(ByteView data, const SymbolFormat& format, std::string_view codec) {
  if (format.bits != 8 && format.bits != 16) {
    throw_error(ErrorCode::codec, "{}: symbol width must be 8 or 16 bits, not {}", codec, format.bits);
  }
  if (format.sample_rate <= 0) {
    throw_error(ErrorCode::codec, "{}: sample rate must be positive, not {}", codec, format.sample_rate);
  }
  if (data.size() % format.bytes_per_sample() != 0) {
    throw_error(ErrorCode::codec, "{}: {} bytes are not a whole number of {}-bit samples", codec, data.size(),
                format.bits);
  }
}

std::vector<int32_t> true_waveform(ByteView data, const SymbolFormat& format, std::string_view codec) {
  check_audio_format(data, format, codec);
  std::vector<int32_t> samples(data.size() / format.bytes_per_sample());
  if (format.bits == 8) {
    for (size_t i = 0; i < samples.size(); ++i) samples[i] = int32_t(data[i]) - 128;
    return samples;
  }
  const bool msb = format.byte_order == ByteOrder::msb;
  for (size_t i = 0; i < samples.size(); ++i) {
    const uint8_t first = data[2 * i], second = data[2 * i + 1];
    const int32_t offset_binary = msb ? (first << 8 | second) : (second << 8 | first);
    samples[i] = offset_binary - 32768;
  }
  return samples;
}

}  // namespace lmac
