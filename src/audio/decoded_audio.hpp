// Audio decoded by libsndfile, before it becomes a symbol stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lmac {

struct DecodedAudio {
  std::string path;
  std::string format_name;  // e.g. "WAV PCM_16", from libsndfile
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;       // samples per channel
  // Bits per sample of integer PCM (8, 16, 24, 32); 0 for float and lossy encodings, which were converted
  // to 16 bits on reading (DESIGN.md section 2: scale by 32768, round half to even, clip).
  int source_bits = 0;
  bool source_is_float() const { return source_bits == 0; }
  // Interleaved samples, left-justified in 32 bits: a 16-bit sample s is stored as s << 16, an unsigned
  // 8-bit sample u as (u - 128) << 24, a 24-bit sample as s << 8. Every width then reduces to the
  // reference's 16-bit value by an arithmetic shift right by 16.
  std::vector<int32_t> samples;
};

// Decodes one file. Returns std::nullopt when the file is not audio at all (libsndfile does not recognise
// it and it does not look like an audio container); throws lmac::Error (bad_audio / io) when it looks like
// audio but is corrupt, truncated or unreadable, naming the file.
std::optional<DecodedAudio> decode_audio_file(const std::string& path);

}  // namespace lmac
