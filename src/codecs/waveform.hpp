// The audio a symbol stream stands for, for the codecs that model audio (FLAC, WavPack): the stream's bytes
// turned back into signed samples of the stream's width.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

// 8-bit: sample = b - 128. 16-bit: the two bytes in format.byte_order form v, sample = v - 32768.
// Throws lmac::Error (ErrorCode::codec, prefixed with `codec`) if the bytes are not whole samples.
std::vector<int32_t> true_waveform(ByteView data, const SymbolFormat& format, std::string_view codec);

// Checks what every audio codec needs from `format`: a width of 8 or 16 bits and a positive rate.
void check_audio_format(ByteView data, const SymbolFormat& format, std::string_view codec);

}  // namespace lmac
