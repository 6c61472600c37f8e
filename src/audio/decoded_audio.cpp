#include "audio/decoded_audio.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "audio/riff_check.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

// Bits of integer PCM, or 0 for encodings libsndfile decodes to floating point (float PCM, Vorbis, Opus,
// MP3). Companded and ADPCM encodings decode to 16-bit integers.
int integer_bits(int format) {
  switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_DPCM_8: return 8;
    case SF_FORMAT_PCM_24:
    case SF_FORMAT_DWVW_24:
    case SF_FORMAT_ALAC_20:
    case SF_FORMAT_ALAC_24: return 24;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_ALAC_32: return 32;
    case SF_FORMAT_FLOAT:
    case SF_FORMAT_DOUBLE:
    case SF_FORMAT_VORBIS:
    case SF_FORMAT_OPUS:
    case SF_FORMAT_MPEG_LAYER_I:
    case SF_FORMAT_MPEG_LAYER_II:
    case SF_FORMAT_MPEG_LAYER_III: return 0;
    default: return 16;
  }
}

std::string format_name(int format) {
  SF_FORMAT_INFO major{}, minor{};
  major.format = format & SF_FORMAT_TYPEMASK;
  minor.format = format & SF_FORMAT_SUBMASK;
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof(major));
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &minor, sizeof(minor));
  return fmt::format("{} {}", major.name ? major.name : "?", minor.name ? minor.name : "?");
}

// Container magics: a file that starts with one of these is audio, so failing to open it is an error
// rather than a reason to skip it.
bool looks_like_audio(ByteView head) {
  static const char* magics[] = {"RIFF", "RIFX", "RF64", "FORM", "fLaC", "OggS", ".snd", "caff", "ID3"};
  for (const char* m : magics) {
    size_t n = std::strlen(m);
    if (head.size() >= n && std::memcmp(head.data(), m, n) == 0) return true;
  }
  return false;
}

Bytes read_head(const std::string& path, uint64_t& file_size) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw_error(ErrorCode::io, "{}: cannot read: {}", path, std::strerror(errno));
  file_size = static_cast<uint64_t>(in.tellg());
  Bytes head(std::min<uint64_t>(file_size, 1 << 16));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (!in) throw_error(ErrorCode::io, "{}: read failed", path);
  return head;
}

int32_t float_to_left_justified_16(double x) {
  double s = std::nearbyint(x * 32768.0);  // the default rounding mode rounds half to even
  s = std::clamp(s, -32768.0, 32767.0);
  return static_cast<int32_t>(s) * 65536;
}

}  // namespace

std::optional<DecodedAudio> decode_audio_file(const std::string& path) {
  uint64_t file_size = 0;
  Bytes head = read_head(path, file_size);
  if (auto problem = find_riff_problem(head, file_size)) throw_error(ErrorCode::bad_audio, "{}: {}", path, *problem);

  SF_INFO info{};
  SndfileHandle file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    int err = sf_error(nullptr);
    if (err == SF_ERR_UNRECOGNISED_FORMAT && !looks_like_audio(head)) return std::nullopt;
    throw_error(ErrorCode::bad_audio, "{}: not a readable audio file: {}", path, sf_strerror(nullptr));
  }
  if (info.channels <= 0 || info.samplerate <= 0 || info.frames < 0) {
    throw_error(ErrorCode::bad_audio, "{}: invalid header ({} channels, {} Hz)", path, info.channels, info.samplerate);
  }

  DecodedAudio audio;
  audio.path = path;
  audio.format_name = format_name(info.format);
  audio.sample_rate = info.samplerate;
  audio.channels = info.channels;
  audio.source_bits = integer_bits(info.format);

  // Read in blocks until the decoder stops: frame counts of compressed formats are estimates.
  const sf_count_t block = 1 << 14;
  std::vector<double> float_block;
  std::vector<int32_t>& out = audio.samples;
  if (info.frames > 0) out.reserve(static_cast<size_t>(info.frames) * info.channels);
  for (;;) {
    size_t at = out.size();
    out.resize(at + block * info.channels);
    sf_count_t got;
    if (audio.source_is_float()) {
      float_block.resize(block * info.channels);
      got = sf_readf_double(file.get(), float_block.data(), block);
      for (sf_count_t i = 0; i < got * info.channels; ++i) out[at + i] = float_to_left_justified_16(float_block[i]);
    } else {
      got = sf_readf_int(file.get(), out.data() + at, block);
    }
    out.resize(at + got * info.channels);
    if (got < block) break;
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    throw_error(ErrorCode::bad_audio, "{}: decoding failed: {}", path, sf_strerror(file.get()));
  }
  audio.frames = static_cast<int64_t>(out.size() / info.channels);
  if (info.frames > 0 && audio.frames < info.frames && (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_OGG &&
      (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG) {
    throw_error(ErrorCode::bad_audio, "{}: truncated: the header promises {} frames but only {} could be read", path,
                info.frames, audio.frames);
  }
  return audio;
}

}  // namespace lmac
