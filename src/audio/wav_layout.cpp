#include "audio/wav_layout.hpp"

#include <cstring>

#include "util/error.hpp"

namespace lmac {

namespace {

uint16_t u16_at(ByteView b, uint64_t at) { return static_cast<uint16_t>(b[at] | (b[at + 1] << 8)); }
uint32_t u32_at(ByteView b, uint64_t at) {
  return static_cast<uint32_t>(b[at]) | (static_cast<uint32_t>(b[at + 1]) << 8) |
         (static_cast<uint32_t>(b[at + 2]) << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}
bool id_is(ByteView b, uint64_t at, const char* id) { return std::memcmp(b.data() + at, id, 4) == 0; }

constexpr uint16_t kFormatPcm = 0x0001, kFormatFloat = 0x0003, kFormatExtensible = 0xFFFE;
// The 14 bytes after the 2-byte format tag in a KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00AA00389B71).
constexpr uint8_t kGuidSuffix[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

struct Format {
  WavKind kind = WavKind::other;
  std::string details;
  WavLayout layout;
};

Format read_fmt(ByteView file, uint64_t at, uint32_t size, const std::string& name) {
  if (size < 16) throw_error(ErrorCode::bad_audio, "{}: the fmt chunk holds {} bytes, fewer than 16", name, size);
  Format f;
  uint16_t tag = u16_at(file, at);
  const int channels = u16_at(file, at + 2);
  const uint32_t rate = u32_at(file, at + 4);
  const int block_align = u16_at(file, at + 12);
  const int bits = u16_at(file, at + 14);
  if (tag == kFormatExtensible) {
    if (size < 40) throw_error(ErrorCode::bad_audio, "{}: WAVE_FORMAT_EXTENSIBLE fmt chunk holds {} bytes, fewer than 40", name, size);
    if (std::memcmp(file.data() + at + 26, kGuidSuffix, sizeof(kGuidSuffix)) != 0) {
      f.details = "WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID";
      return f;
    }
    tag = u16_at(file, at + 24);
  }
  if (tag == kFormatFloat) {
    f.kind = WavKind::float_pcm;
    f.details = fmt::format("{}-bit IEEE float", bits);
    return f;
  }
  if (tag != kFormatPcm) {
    f.details = fmt::format("format tag 0x{:04x}", tag);
    return f;
  }
  // The container width follows from block_align; bits_per_sample may name fewer significant bits.
  const int container_bits = channels > 0 && block_align % channels == 0 ? block_align / channels * 8 : 0;
  if (channels == 0 || rate == 0 || rate > 0x7FFFFFFF || bits == 0 || bits > container_bits ||
      (container_bits != 8 && container_bits != 16 && container_bits != 24 && container_bits != 32)) {
    f.details = fmt::format("PCM with {} channels, {} Hz, {} bits in blocks of {} bytes", channels, rate, bits, block_align);
    return f;
  }
  f.kind = WavKind::pcm;
  f.layout.channels = channels;
  f.layout.sample_rate = static_cast<int>(rate);
  f.layout.container_bits = container_bits;
  return f;
}

}  // namespace

WavParse parse_wav_layout(ByteView file, const std::string& name) {
  WavParse result;
  if (file.size() < 12 || !id_is(file, 0, "RIFF") || !id_is(file, 8, "WAVE")) return result;
  std::optional<Format> format;
  uint64_t pos = 12;
  while (pos + 8 <= file.size()) {
    const uint32_t size = u32_at(file, pos + 4);
    const uint64_t body = pos + 8;
    const uint64_t available = file.size() - body;
    const std::string id(reinterpret_cast<const char*>(file.data() + pos), 4);
    if (size > available) {
      throw_error(ErrorCode::bad_audio, "{}: truncated: the '{}' chunk at byte {} claims {} bytes but only {} follow",
                  name, id, pos, size, available);
    }
    if (id == "fmt ") {
      if (format) throw_error(ErrorCode::bad_audio, "{}: a second fmt chunk at byte {}", name, pos);
      format = read_fmt(file, body, size, name);
      if (format->kind != WavKind::pcm) {
        result.kind = format->kind;
        result.details = format->details;
        return result;
      }
    } else if (id == "data") {
      if (!format) throw_error(ErrorCode::bad_audio, "{}: the data chunk at byte {} comes before any fmt chunk", name, pos);
      result.kind = WavKind::pcm;
      result.layout = format->layout;
      result.layout.data_offset = body;
      result.layout.frames = size / static_cast<uint64_t>(result.layout.block_align());
      return result;
    }
    pos = body + size + (size & 1);
  }
  throw_error(ErrorCode::bad_audio, "{}: {}", name, format ? "no data chunk" : "no fmt chunk before the end of the file");
}

std::vector<int32_t> read_pcm_samples(ByteView data, int container_bits) {
  const size_t width = static_cast<size_t>(container_bits / 8);
  std::vector<int32_t> samples(data.size() / width);
  for (size_t i = 0; i < samples.size(); ++i) {
    const uint8_t* p = data.data() + i * width;
    uint32_t v = 0;
    for (size_t k = 0; k < width; ++k) v |= static_cast<uint32_t>(p[k]) << (8 * k);
    v <<= 32 - container_bits;  // left-justify
    if (container_bits == 8) v ^= 0x80000000u;  // unsigned 8-bit: u - 128
    samples[i] = static_cast<int32_t>(v);
  }
  return samples;
}

void append_pcm_samples(std::span<const int32_t> samples, int container_bits, Bytes& out) {
  const int width = container_bits / 8;
  out.reserve(out.size() + samples.size() * static_cast<size_t>(width));
  for (int32_t s : samples) {
    uint32_t v = static_cast<uint32_t>(s);
    if (container_bits == 8) v ^= 0x80000000u;
    v >>= 32 - container_bits;
    for (int k = 0; k < width; ++k) out.push_back(static_cast<uint8_t>(v >> (8 * k)));
  }
}

Bytes canonical_wav_header(int channels, int sample_rate, int container_bits, uint64_t frames) {
  const uint64_t block_align = static_cast<uint64_t>(channels) * (container_bits / 8);
  const uint64_t data_size = frames * block_align;
  if (channels <= 0 || channels > 0xFFFF || block_align > 0xFFFF || data_size + (data_size & 1) + 36 > 0xFFFFFFFFu) {
    throw_error(ErrorCode::unsupported, "{} frames of {} channels at {} bits do not fit a WAV file (4 GiB at most)",
                frames, channels, container_bits);
  }
  Bytes h;
  auto put = [&](uint64_t v, int n) {
    for (int k = 0; k < n; ++k) h.push_back(static_cast<uint8_t>(v >> (8 * k)));
  };
  auto tag = [&](const char* id) { h.insert(h.end(), id, id + 4); };
  tag("RIFF");
  put(36 + data_size + (data_size & 1), 4);
  tag("WAVE");
  tag("fmt ");
  put(16, 4);
  put(kFormatPcm, 2);
  put(static_cast<uint64_t>(channels), 2);
  put(static_cast<uint64_t>(sample_rate), 4);
  put(static_cast<uint64_t>(sample_rate) * block_align, 4);
  put(block_align, 2);
  put(static_cast<uint64_t>(container_bits), 2);
  tag("data");
  put(data_size, 4);
  return h;
}

}  // namespace lmac
