// Where the samples of a RIFF/WAVE file lie, so that `lmac compress` can code the samples with a model and keep
// every other byte verbatim: `lmac decompress` then rebuilds the file byte for byte (header, chunks before and
// after the data chunk, pad bytes, and a trailing partial frame).
//
// A file is split into three parts:  head = [0, data_offset)   samples = [data_offset, data_offset + frames *
// block_align)   tail = everything after (a partial last frame, the pad byte, later chunks, trailing garbage).
// Only integer PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM subformat) in 8-, 16-, 24- or 32-bit
// containers is laid out here; anything else is left to libsndfile and restored as a canonical WAV.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace lmac {

enum class WavKind {
  not_wav,    // no RIFF/WAVE magic (RF64 and RIFX included): not for this parser
  pcm,        // integer PCM with a layout below
  float_pcm,  // IEEE float samples: refused by compress, since lmac codes integer PCM only
  other,      // a WAV this parser does not lay out (another format tag, an odd container): use libsndfile
};

struct WavLayout {
  int channels = 0;
  int sample_rate = 0;
  int container_bits = 0;   // 8, 16, 24 or 32: bytes per sample * 8 (the significant bits may be fewer)
  uint64_t data_offset = 0;  // first byte of the first sample
  uint64_t frames = 0;       // whole frames in the data chunk
  int block_align() const { return channels * container_bits / 8; }
  uint64_t data_end() const { return data_offset + frames * static_cast<uint64_t>(block_align()); }
};

struct WavParse {
  WavKind kind = WavKind::not_wav;
  WavLayout layout;     // valid when kind == pcm
  std::string details;  // for float_pcm and other: what was found, e.g. "format tag 0x0011"
};

// Reads the chunk structure of a whole file held in memory. Throws lmac::Error (bad_audio) naming `name` when
// the file is a RIFF/WAVE file whose chunks are inconsistent: a chunk (the data chunk above all) that claims
// more bytes than the file holds, a missing or short fmt chunk, a data chunk before the fmt chunk.
WavParse parse_wav_layout(ByteView file, const std::string& name);

// Samples of an integer PCM data region, interleaved and left-justified in 32 bits as DecodedAudio holds them:
// 8-bit WAV samples are unsigned (u - 128) << 24, wider ones signed little-endian s << (32 - bits).
std::vector<int32_t> read_pcm_samples(ByteView data, int container_bits);

// The inverse: appends the little-endian (8-bit: unsigned) bytes of every sample to `out`.
void append_pcm_samples(std::span<const int32_t> samples, int container_bits, Bytes& out);

// A 44-byte canonical PCM WAV header (format tag 1) for `frames` frames. Throws lmac::Error (unsupported) when
// the data would not fit the 32-bit RIFF sizes.
Bytes canonical_wav_header(int channels, int sample_rate, int container_bits, uint64_t frames);

}  // namespace lmac
