// Decoding through libsndfile: every sample width and float conversion of DESIGN.md section 2, and the
// damaged files a user may hand us.
#include "audio/decoded_audio.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>

#include <filesystem>
#include <fstream>

#include "audio/symbol_stream.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class DecodedAudioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::path("lmac_audio_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `samples` (interleaved, as doubles in [-1, 1)) in the given libsndfile format.
  std::string write(const std::string& name, int format, int channels, const std::vector<double>& samples) {
    std::string path = (dir_ / name).string();
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = channels;
    info.format = format;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
    // Integer formats must store exact values, not scaled and clipped ones.
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_FALSE);
    sf_writef_double(f, samples.data(), static_cast<sf_count_t>(samples.size()) / channels);
    sf_close(f);
    return path;
  }

  // Writes left-justified 32-bit integer samples, which libsndfile stores exactly in any integer width.
  std::string write_ints(const std::string& name, int format, const std::vector<int>& samples) {
    std::string path = (dir_ / name).string();
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = 1;
    info.format = format;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
    sf_writef_int(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(f);
    return path;
  }

  fs::path dir_;
};

Bytes eight_bit(const DecodedAudio& a) { return make_symbol_stream(a, {8, ByteOrder::msb, 1024}); }

TEST_F(DecodedAudioTest, SixteenBitWavIsExact) {
  std::vector<double> s = {0.0, 1 / 32768.0, -1 / 32768.0, 256 / 32768.0, -32768 / 32768.0};
  auto a = decode_audio_file(write("a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, s));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source_bits, 16);
  EXPECT_EQ(a->sample_rate, 8000);
  EXPECT_EQ(eight_bit(*a), (Bytes{128, 128, 127, 129, 0}));
}

TEST_F(DecodedAudioTest, UnsignedEightBitWavIsUsedAsItIs) {
  // u8 byte values 0, 127, 128, 200 are written as (u - 128) << 24.
  std::vector<int> s;
  for (int u : {0, 127, 128, 200}) s.push_back((u - 128) * (1 << 24));
  auto a = decode_audio_file(write_ints("u8.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, s));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source_bits, 8);
  EXPECT_EQ(eight_bit(*a), (Bytes{0, 127, 128, 200}));
}

TEST_F(DecodedAudioTest, TwentyFourAndThirtyTwoBitAreShiftedTo16) {
  // 24-bit value 0x012345 -> 16-bit 0x0123 -> byte 0x01 + 128; -1 (24-bit) -> -1 (16-bit) -> 127.
  std::vector<double> s = {0x012345 / 8388608.0, -1 / 8388608.0};
  auto a24 = decode_audio_file(write("a24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1, s));
  ASSERT_TRUE(a24);
  EXPECT_EQ(a24->source_bits, 24);
  EXPECT_EQ(make_symbol_stream(*a24, {16, ByteOrder::msb, 1024}), (Bytes{0x81, 0x23, 0x7F, 0xFF}));
  auto a32 = decode_audio_file(write("a32.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1, s));
  ASSERT_TRUE(a32);
  EXPECT_EQ(make_symbol_stream(*a32, {16, ByteOrder::msb, 1024}), (Bytes{0x81, 0x23, 0x7F, 0xFF}));
}

TEST_F(DecodedAudioTest, FloatIsScaledRoundedHalfToEvenAndClipped) {
  // x * 32768: 0.5 -> 0 (half to even), 1.5 -> 2, 2.5 -> 2, -1.5 -> -2, 2.0 -> clipped to 32767, -2.0 -> -32768.
  std::vector<double> s = {0.5 / 32768, 1.5 / 32768, 2.5 / 32768, -1.5 / 32768, 2.0, -2.0};
  auto a = decode_audio_file(write("f.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, s));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->source_is_float());
  Bytes b = make_symbol_stream(*a, {16, ByteOrder::msb, 1024});
  std::vector<int> values;
  for (size_t i = 0; i < b.size(); i += 2) values.push_back(((b[i] << 8) | b[i + 1]) - 32768);
  EXPECT_EQ(values, (std::vector<int>{0, 2, 2, -2, 32767, -32768}));
}

TEST_F(DecodedAudioTest, FlacAiffAndOggDecode) {
  std::vector<double> s;
  for (int i = 0; i < 4000; ++i) s.push_back(((i * 37) % 2000 - 1000) / 32768.0);
  for (int format : {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_AIFF | SF_FORMAT_PCM_16}) {
    auto a = decode_audio_file(write("x" + std::to_string(format), format, 1, s));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->frames, 4000);
    EXPECT_EQ(sample16(a->samples[1]), 37 - 1000);
  }
  auto ogg = decode_audio_file(write("x.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 1, s));
  ASSERT_TRUE(ogg);
  EXPECT_TRUE(ogg->source_is_float());
  EXPECT_GT(ogg->frames, 3000);
}

TEST_F(DecodedAudioTest, NonAudioIsSkippedNotFatal) {
  std::ofstream(dir_ / "notes.txt") << "hello, this is not audio";
  EXPECT_FALSE(decode_audio_file((dir_ / "notes.txt").string()));
}

TEST_F(DecodedAudioTest, TruncatedWavNamesTheFile) {
  std::vector<double> s(1000, 0.25);
  std::string path = write("t.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, s);
  fs::resize_file(path, fs::file_size(path) - 500);
  try {
    decode_audio_file(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.wav"));
    EXPECT_THAT(e.what(), HasSubstr("truncated"));
  }
}

TEST_F(DecodedAudioTest, CorruptWavHeaderNamesTheFile) {
  std::string path = (dir_ / "c.wav").string();
  std::ofstream(path, std::ios::binary) << std::string("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbagegarbage!!", 32);
  try {
    decode_audio_file(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("c.wav"));
  }
}

TEST_F(DecodedAudioTest, DanglingLinkIsAnIoError) {
  fs::create_symlink(dir_ / "nowhere.wav", dir_ / "link.wav");
  try {
    decode_audio_file((dir_ / "link.wav").string());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_THAT(e.what(), HasSubstr("link.wav"));
  }
}

}  // namespace
}  // namespace lmac
