// PCM samples become the byte stream that compressors and models see (DESIGN.md section 2).
#pragma once

#include "audio/decoded_audio.hpp"
#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

struct StreamOptions {
  int bits = 8;                         // 8: the reference's b = ((s >> 8) + 128) mod 256; 16: offset binary
  ByteOrder byte_order = ByteOrder::msb;  // of 16-bit samples
  int stereo_blocking_n = 1024;         // channel block length in samples
};

// The symbol stream of one file: channels laid out in blocks [L_0..n) [R_0..n) [L_n..2n) [R_n..2n) ...,
// the last, shorter block holding the remaining samples of each channel in the same order.
Bytes make_symbol_stream(const DecodedAudio& audio, const StreamOptions& options);

// The reference's 16-bit value of a left-justified sample.
inline int16_t sample16(int32_t left_justified) { return static_cast<int16_t>(left_justified >> 16); }

}  // namespace lmac
