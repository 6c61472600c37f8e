// The WAV layout parser sees every byte of every WAV file `lmac compress` reads. Beyond not crashing, a PCM
// layout must lie inside the file, and its samples must turn back into exactly the bytes they came from
// (the byte-identical restore that decompress relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "audio/wav_layout.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const lmac::ByteView file(data, size);
  try {
    const lmac::WavParse p = lmac::parse_wav_layout(file, "fuzz.wav");
    if (p.kind != lmac::WavKind::pcm) return 0;
    const lmac::WavLayout& w = p.layout;
    if (w.data_offset > size || w.data_end() > size || w.data_end() < w.data_offset) std::abort();
    const lmac::ByteView region = file.subspan(w.data_offset, w.data_end() - w.data_offset);
    const std::vector<int32_t> samples = lmac::read_pcm_samples(region, w.container_bits);
    if (samples.size() != w.frames * w.channels) std::abort();
    lmac::Bytes back;
    lmac::append_pcm_samples(samples, w.container_bits, back);
    // An empty region has no data pointer to compare (memcmp with a null pointer is undefined even for 0 bytes).
    if (back.size() != region.size()) std::abort();
    if (!back.empty() && std::memcmp(back.data(), region.data(), back.size()) != 0) std::abort();
  } catch (const lmac::Error&) {
  }
  return 0;
}
