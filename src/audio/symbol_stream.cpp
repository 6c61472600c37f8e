#include "audio/symbol_stream.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace lmac {

Bytes make_symbol_stream(const DecodedAudio& audio, const StreamOptions& options) {
  if (options.bits != 8 && options.bits != 16) throw_error(ErrorCode::usage, "--bits must be 8 or 16, not {}", options.bits);
  if (options.stereo_blocking_n <= 0) {
    throw_error(ErrorCode::usage, "--stereo_blocking_n must be positive, not {}", options.stereo_blocking_n);
  }
  const int64_t frames = audio.frames;
  const int channels = audio.channels;
  const int64_t n = options.stereo_blocking_n;
  Bytes out;
  out.reserve(static_cast<size_t>(frames * channels * (options.bits / 8)));
  for (int64_t start = 0; start < frames; start += n) {
    const int64_t end = std::min(frames, start + n);
    for (int c = 0; c < channels; ++c) {
      for (int64_t i = start; i < end; ++i) {
        const int16_t s = sample16(audio.samples[static_cast<size_t>(i * channels + c)]);
        if (options.bits == 8) {
          out.push_back(static_cast<uint8_t>((s >> 8) + 128));
        } else {
          const uint16_t u = static_cast<uint16_t>(s + 32768);
          const uint8_t hi = static_cast<uint8_t>(u >> 8), lo = static_cast<uint8_t>(u & 0xFF);
          if (options.byte_order == ByteOrder::msb) {
            out.push_back(hi);
            out.push_back(lo);
          } else {
            out.push_back(lo);
            out.push_back(hi);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace lmac
