// How a symbol stream's bytes encode audio samples. Produced by the audio layer, read by codecs
// (FLAC and WavPack rebuild the waveform from it) and by the evaluation harness.
#pragma once

namespace lmac {

enum class ByteOrder { msb, lsb };

struct SymbolFormat {
  int bits = 8;                         // 8: one byte per sample; 16: two bytes per sample, offset binary
  ByteOrder byte_order = ByteOrder::msb;  // order of a 16-bit sample's two bytes in the stream
  int sample_rate = 16000;              // of the file the bytes came from
  int bytes_per_sample() const { return bits / 8; }
};

}  // namespace lmac
