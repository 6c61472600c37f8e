// The WAV layout parser against libsndfile (the reference for what the samples are), and the byte-exact split
// of a file into head, samples and tail.
#include "audio/wav_layout.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "audio/decoded_audio.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class WavLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::path("lmac_wav_layout_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // libsndfile writes `frames` frames of random left-justified samples in `format`.
  std::string write(const std::string& name, int format, int channels, int frames) {
    const std::string path = (dir_ / name).string();
    SF_INFO info{};
    info.samplerate = 22050;
    info.channels = channels;
    info.format = format;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
    std::mt19937 rng(static_cast<unsigned>(format));
    std::vector<int> samples(static_cast<size_t>(frames) * channels);
    for (int& s : samples) s = static_cast<int>(rng());
    sf_writef_int(f, samples.data(), frames);
    sf_close(f);
    return path;
  }

  static Bytes read(const std::string& path) { return read_file(path); }

  fs::path dir_;
};

// The parser's samples equal libsndfile's, and head + samples + tail is the file.
void expect_matches_libsndfile(const std::string& path, int bits, int channels) {
  const Bytes file = read_file(path);
  const WavParse p = parse_wav_layout(file, path);
  ASSERT_EQ(p.kind, WavKind::pcm) << path << " " << p.details;
  EXPECT_EQ(p.layout.container_bits, bits);
  EXPECT_EQ(p.layout.channels, channels);
  EXPECT_EQ(p.layout.sample_rate, 22050);
  const std::optional<DecodedAudio> reference = decode_audio_file(path);
  ASSERT_TRUE(reference);
  EXPECT_EQ(p.layout.frames, static_cast<uint64_t>(reference->frames));
  const ByteView data = ByteView(file).subspan(p.layout.data_offset, p.layout.data_end() - p.layout.data_offset);
  const std::vector<int32_t> samples = read_pcm_samples(data, bits);
  EXPECT_EQ(samples, reference->samples) << path;
  Bytes rebuilt(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(p.layout.data_offset));
  append_pcm_samples(samples, bits, rebuilt);
  rebuilt.insert(rebuilt.end(), file.begin() + static_cast<std::ptrdiff_t>(p.layout.data_end()), file.end());
  EXPECT_EQ(rebuilt, file);
}

TEST_F(WavLayoutTest, EveryPcmWidthMatchesLibsndfile) {
  expect_matches_libsndfile(write("u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 1, 1001), 8, 1);
  expect_matches_libsndfile(write("s16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 1001), 16, 2);
  expect_matches_libsndfile(write("s24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, 777), 24, 1);
  expect_matches_libsndfile(write("s32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 3, 500), 32, 3);
}

TEST_F(WavLayoutTest, ExtensiblePcmMatchesLibsndfile) {
  expect_matches_libsndfile(write("x24.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, 2, 600), 24, 2);
  expect_matches_libsndfile(write("x16.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 6, 300), 16, 6);
}

TEST_F(WavLayoutTest, FloatAndOtherEncodingsAreNotLaidOut) {
  const std::string f32 = write("f.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 100);
  EXPECT_EQ(parse_wav_layout(read(f32), f32).kind, WavKind::float_pcm);
  const std::string xf = write("xf.wav", SF_FORMAT_WAVEX | SF_FORMAT_FLOAT, 2, 100);
  EXPECT_EQ(parse_wav_layout(read(xf), xf).kind, WavKind::float_pcm);
  const std::string ulaw = write("ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 1, 100);
  const WavParse p = parse_wav_layout(read(ulaw), ulaw);
  EXPECT_EQ(p.kind, WavKind::other);
  EXPECT_THAT(p.details, HasSubstr("0x0007"));
  const std::string aiff = write("a.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 1, 100);
  EXPECT_EQ(parse_wav_layout(read(aiff), aiff).kind, WavKind::not_wav);
}

// A hand-made file: fmt, a LIST chunk, an odd-sized data chunk with a partial frame and a pad byte, then a
// trailing chunk. Everything but the whole frames is head or tail.
TEST_F(WavLayoutTest, ChunksAroundTheDataAreHeadAndTail) {
  Bytes f;
  auto put = [&](uint32_t v, int n) {
    for (int k = 0; k < n; ++k) f.push_back(static_cast<uint8_t>(v >> (8 * k)));
  };
  auto tag = [&](const char* id) { f.insert(f.end(), id, id + 4); };
  tag("RIFF"); put(0, 4); tag("WAVE");
  tag("fmt "); put(16, 4); put(1, 2); put(2, 2); put(8000, 4); put(32000, 4); put(4, 2); put(16, 2);
  tag("LIST"); put(5, 4); tag("INFO"); f.push_back('x'); f.push_back(0);  // odd size, padded
  tag("data"); put(4 * 3 + 3, 4);
  const size_t data_offset = f.size();
  for (int i = 0; i < 15; ++i) f.push_back(static_cast<uint8_t>(i * 17));
  f.push_back(0);  // pad
  tag("id3 "); put(2, 4); put(0xBEEF, 2);
  const WavParse p = parse_wav_layout(f, "hand.wav");
  ASSERT_EQ(p.kind, WavKind::pcm);
  EXPECT_EQ(p.layout.data_offset, data_offset);
  EXPECT_EQ(p.layout.frames, 3u);
  EXPECT_EQ(p.layout.data_end(), data_offset + 12);
  const auto samples = read_pcm_samples(ByteView(f).subspan(data_offset, 12), 16);
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples[0], static_cast<int32_t>((17u << 8 | 0u) << 16));
}

TEST_F(WavLayoutTest, DamagedStructureIsAnError) {
  const std::string path = write("s16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 1000);
  const Bytes file = read(path);
  try {
    parse_wav_layout(ByteView(file).first(file.size() - 10), "cut.wav");
    FAIL() << "a truncated data chunk was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::bad_audio);
    EXPECT_THAT(e.what(), HasSubstr("cut.wav: truncated"));
  }
  // No fmt chunk before data.
  Bytes no_fmt = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'd', 'a', 't', 'a', 2, 0, 0, 0, 1, 2};
  EXPECT_THROW(parse_wav_layout(no_fmt, "x.wav"), Error);
  // A short fmt chunk.
  Bytes short_fmt = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 4, 0, 0, 0, 1, 0, 1, 0};
  EXPECT_THROW(parse_wav_layout(short_fmt, "x.wav"), Error);
  // Header only, no data chunk.
  EXPECT_THROW(parse_wav_layout(ByteView(file).first(36), "x.wav"), Error);
  EXPECT_EQ(parse_wav_layout(ByteView(file).first(11), "x.wav").kind, WavKind::not_wav);
}

TEST_F(WavLayoutTest, CanonicalHeaderIsReadByLibsndfile) {
  std::vector<int32_t> samples = {0x12345600, -0x7FFFFF00, 0, 0x100, 0x7FFFFF00, -256};
  for (int bits : {8, 16, 24, 32}) {
    std::vector<int32_t> s = samples;
    // Keep the top `bits` bits (a shift by 32 would be undefined, so 32 bits keep everything).
    const uint32_t keep = bits == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> bits);
    for (int32_t& v : s) v = static_cast<int32_t>(static_cast<uint32_t>(v) & keep);
    Bytes f = canonical_wav_header(2, 44100, bits, 3);
    append_pcm_samples(s, bits, f);
    if (f.size() & 1) f.push_back(0);
    const std::string path = (dir_ / ("c" + std::to_string(bits) + ".wav")).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    const auto reference = decode_audio_file(path);
    ASSERT_TRUE(reference);
    EXPECT_EQ(reference->channels, 2);
    EXPECT_EQ(reference->sample_rate, 44100);
    EXPECT_EQ(reference->source_bits, bits);
    EXPECT_EQ(reference->samples, s) << bits;
  }
  EXPECT_THROW(canonical_wav_header(2, 8000, 32, uint64_t{1} << 30), Error);
}

}  // namespace
}  // namespace lmac
