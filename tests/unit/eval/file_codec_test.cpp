// The .lmac file path end to end, in-process, with the deterministic stand-in models of
// eval/file_codec_test_model.hpp: exact round trips of real speech in every width and layout, identical files
// at any thread count, and damage that is always caught and named.
#include "eval/file_codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "audio/decoded_audio.hpp"
#include "audio/wav_layout.hpp"
#include "eval/file_codec_test_model.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using ::testing::HasSubstr;

const char* kSpeech16k = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
const char* kSpeech8k = "/usr/share/codec2/wav/hts1a.wav";

// `count` samples of a real recording from `offset` on, left-justified.
std::vector<int32_t> speech(const char* path, size_t offset, size_t count) {
  const std::optional<DecodedAudio> a = decode_audio_file(path);
  EXPECT_TRUE(a && a->samples.size() >= offset + count) << path;
  return std::vector<int32_t>(a->samples.begin() + offset, a->samples.begin() + offset + count);
}

// A WAV file: a canonical header, the samples at `bits`, then `tail`.
Bytes wav(const std::vector<int32_t>& samples, int channels, int rate, int bits, const Bytes& tail = {}) {
  Bytes f = canonical_wav_header(channels, rate, bits, samples.size() / channels);
  append_pcm_samples(samples, bits, f);
  f.insert(f.end(), tail.begin(), tail.end());
  return f;
}

// Real speech widened to 24 bits with pseudo-random low bytes, in two channels (two excerpts).
Bytes stereo24() {
  const auto left = speech(kSpeech16k, 20000, 3000), right = speech(kSpeech16k, 60000, 3000);
  std::mt19937 rng(3);
  std::vector<int32_t> s;
  for (size_t i = 0; i < left.size(); ++i) {
    s.push_back(left[i] | static_cast<int32_t>((rng() & 0xFF) << 8));
    s.push_back(right[i] | static_cast<int32_t>((rng() & 0xFF) << 8));
  }
  return wav(s, 2, 44100, 24, {'L', 'I', 'S', 'T', 4, 0, 0, 0, 'I', 'N', 'F', 'O'});
}

struct Coded {
  CompressResult result;
  Bytes restored;
};

Coded round_trip(const Bytes& original, const std::string& model_path, FileCodecOptions options = {},
                 ModelOptions model_options = {}) {
  auto model = load_model_for_files(model_path, model_options);
  const AudioForCoding in = audio_for_coding(original, "in.wav", std::nullopt);
  Coded c;
  c.result = compress_audio(in, *model, model_options, options);
  const LmacFile parsed = read_lmac_file(c.result.lmac, "in.wav.lmac");
  auto decoder_model = load_model_for_files(model_path, model_options_of(parsed.header));
  c.restored = decompress_lmac(c.result.lmac, parsed, *decoder_model, DecodeOptions{options.threads, 3}, "in.wav.lmac");
  return c;
}

void expect_exact(const Bytes& original, const std::string& model_path, FileCodecOptions options = {},
                  ModelOptions model_options = {}) {
  const Coded c = round_trip(original, model_path, options, model_options);
  EXPECT_EQ(c.restored, original);
}

TEST(TestModels, FullPassAndStepsGiveIdenticalRows) {
  for (const char* name : {"test:order1", "test:order0-65536"}) {
    auto model = make_test_model(name, {});
    auto scorer = model->exact_scorer();
    const int A = scorer->alphabet_size(), batch = 2, length = 40;
    std::mt19937 rng(1);
    std::vector<uint32_t> x(batch * length);
    for (uint32_t& s : x) s = rng() % A;
    std::vector<float> full(x.size() * A), rows(batch * A);
    scorer->log_probs(x, batch, length, full);
    scorer->begin(batch);
    std::vector<uint32_t> previous(batch, 0);
    for (int t = 0; t < length; ++t) {
      scorer->step(previous, rows);
      for (int b = 0; b < batch; ++b) {
        ASSERT_EQ(0, std::memcmp(&rows[b * A], &full[(b * length + t) * A], sizeof(float) * A)) << name << " t=" << t;
        previous[b] = x[b * length + t];
      }
    }
  }
}

TEST(FileCodec, Speech16kMonoExact) {
  const Bytes original = wav(speech(kSpeech16k, 10000, 5000), 1, 16000, 16);
  FileCodecOptions o;
  expect_exact(original, "test:order1", o);  // default: 16-bit symbols, two bytes each
  o.bits = 8;                                 // the low byte stored raw
  const Coded c = round_trip(original, "test:order1", o);
  EXPECT_EQ(c.restored, original);
  EXPECT_EQ(c.result.symbol_bits, 8);
  EXPECT_EQ(c.result.raw_bits, 5000u * 8);
  o.byte_order = ByteOrder::lsb;
  o.bits = 16;
  expect_exact(original, "test:order1", o);
}

TEST(FileCodec, Speech8kFromCodec2Exact) {
  const std::optional<DecodedAudio> a = decode_audio_file(kSpeech8k);
  ASSERT_TRUE(a);
  const Bytes original = wav(std::vector<int32_t>(a->samples.begin(), a->samples.begin() + 4000), 1, 8000, 16);
  expect_exact(original, "test:order1");
  FileCodecOptions o;
  o.bits = 8;
  expect_exact(original, "test:order1", o);
}

TEST(FileCodec, Stereo24BitWithTrailingChunkExact) {
  const Bytes original = stereo24();
  FileCodecOptions o;
  o.stereo_blocking_n = 100;
  const Coded c = round_trip(original, "test:order1", o);
  EXPECT_EQ(c.restored, original);
  EXPECT_EQ(c.result.symbol_bits, 16);       // the audio's own width, capped at 16
  EXPECT_EQ(c.result.raw_bits, 6000u * 8);   // the lowest 8 bits of every sample
  o.bits = 8;
  expect_exact(original, "test:order1", o);
}

TEST(FileCodec, EightAndThirtyTwoBitExact) {
  std::vector<int32_t> s = speech(kSpeech16k, 30000, 3000);
  std::vector<int32_t> s8 = s, s32 = s;
  for (int32_t& v : s8) v = static_cast<int32_t>(static_cast<uint32_t>(v) & 0xFF000000u);
  for (size_t i = 0; i < s32.size(); ++i) s32[i] |= static_cast<int32_t>(i * 2654435761u & 0xFFFF);
  for (std::optional<int> bits : {std::optional<int>(), std::optional<int>(8), std::optional<int>(16)}) {
    FileCodecOptions o;
    o.bits = bits;
    expect_exact(wav(s8, 1, 8000, 8), "test:order1", o);
    expect_exact(wav(s32, 1, 8000, 32), "test:order1", o);
  }
}

TEST(FileCodec, ShortEmptyAndPartialFrameExact) {
  expect_exact(wav(speech(kSpeech16k, 5000, 77), 1, 16000, 16), "test:order1");  // shorter than a chunk
  expect_exact(wav({}, 1, 16000, 16), "test:order1");                            // no samples at all
  expect_exact(wav({}, 2, 44100, 24), "test:order1");
  // A data chunk that ends in half a frame: the odd byte is kept.
  Bytes odd = canonical_wav_header(2, 8000, 16, 10);
  const auto s = speech(kSpeech16k, 5000, 20);
  append_pcm_samples(s, 16, odd);
  odd.push_back(0x5A);
  odd[40] = static_cast<uint8_t>(odd[40] + 1);  // the data size counts the extra byte
  const Coded c = round_trip(odd, "test:order1");
  EXPECT_EQ(c.restored, odd);
}

TEST(FileCodec, AsciiMappingStoresTheDroppedBit) {
  const Bytes original = wav(speech(kSpeech16k, 10000, 3000), 1, 16000, 16);
  ModelOptions m;
  m.byte_mapping = "ascii";  // 128 symbols: one bit per byte stored raw
  FileCodecOptions o;
  const Coded c = round_trip(original, "test:order1", o, m);
  EXPECT_EQ(c.restored, original);
  EXPECT_EQ(c.result.raw_bits, 3000u * 2);
  o.bits = 8;
  expect_exact(original, "test:order1", o, m);
}

TEST(FileCodec, SixteenBitAlphabetUsesDeclaredWidth) {
  const Bytes original = wav(speech(kSpeech16k, 10000, 1500), 1, 16000, 16);
  FileCodecOptions o;
  o.chunk_size = 1000;
  const Coded c = round_trip(original, "test:order0-65536", o);
  EXPECT_EQ(c.restored, original);
  EXPECT_EQ(c.result.symbol_bits, 16);
  o.bits = 8;
  EXPECT_THROW(round_trip(original, "test:order0-65536", o), Error);
}

TEST(FileCodec, WindowsLongerThanMaxLengthExact) {
  const Bytes original = wav(speech(kSpeech16k, 10000, 3000), 1, 16000, 16);
  FileCodecOptions o;
  o.max_length = 101;  // every 2048-byte chunk is coded in many windows
  o.chunk_size = 2048;
  expect_exact(original, "test:order1", o);
}

TEST(FileCodec, SameFileAtAnyThreadCountAndBatch) {
  const Bytes original = stereo24();
  FileCodecOptions o;
  o.chunk_size = 700;
  Bytes first;
  for (int threads : {1, 2, 7}) {
    for (int batch : {1, 3, 8}) {
      o.threads = threads;
      o.batch_size = batch;
      const Coded c = round_trip(original, "test:order1", o);
      EXPECT_EQ(c.restored, original) << threads << " threads, batch " << batch;
      if (first.empty()) first = c.result.lmac;
      EXPECT_EQ(c.result.lmac, first) << threads << " threads, batch " << batch;
    }
  }
}

TEST(FileCodec, FloatInputIsRefused) {
  Bytes f = canonical_wav_header(1, 8000, 32, 4);
  f[20] = 3;  // IEEE float
  f.resize(f.size() + 16, 0);
  try {
    audio_for_coding(f, "float.wav", std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_THAT(e.what(), HasSubstr("float.wav: a float WAV"));
  }
}

TEST(FileCodec, ModelWithoutScorerIsRefused) {
  auto model = load_model_for_files("test:noscorer", {});
  const AudioForCoding in = audio_for_coding(wav(speech(kSpeech16k, 0, 100), 1, 16000, 16), "a.wav", std::nullopt);
  try {
    compress_audio(in, *model, {}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_THAT(e.what(), HasSubstr("model noscorer has no deterministic scorer yet"));
  }
}

// The order-1 stand-in under another backend name, or with a step() path that drifts from log_probs().
class AlteredModel : public LanguageModel {
 public:
  AlteredModel(std::string kernel, bool drift) : inner_(make_test_model("test:order1", {})), kernel_(kernel), drift_(drift) {}
  const ModelInfo& info() const override { return inner_->info(); }
  int alphabet_size() const override { return inner_->alphabet_size(); }
  void log_probs(std::span<const uint32_t> s, int b, int l, std::span<float> out) override { inner_->log_probs(s, b, l, out); }
  std::unique_ptr<ExactScorer> exact_scorer() override {
    class Scorer : public ExactScorer {
     public:
      Scorer(std::unique_ptr<ExactScorer> in, std::string k, bool d) : in_(std::move(in)), k_(std::move(k)), d_(d) {}
      int alphabet_size() const override { return in_->alphabet_size(); }
      std::string kernel_id() const override { return k_; }
      void log_probs(std::span<const uint32_t> s, int b, int l, std::span<float> out) override { in_->log_probs(s, b, l, out); }
      void begin(int batch) override { in_->begin(batch); }
      void step(std::span<const uint32_t> previous, std::span<float> out) override {
        in_->step(previous, out);
        if (d_) {
          for (size_t i = 0; i < out.size(); i += 3) out[i] *= 1.5f;  // an encoder/decoder pdf mismatch
        }
      }
     private:
      std::unique_ptr<ExactScorer> in_;
      std::string k_;
      bool d_;
    };
    return std::make_unique<Scorer>(inner_->exact_scorer(), kernel_, drift_);
  }

 private:
  std::unique_ptr<LanguageModel> inner_;
  std::string kernel_;
  bool drift_;
};

Bytes small_lmac(FileCodecOptions o = {}) {
  auto model = load_model_for_files("test:order1", {});
  o.bits = 8;
  o.chunk_size = 400;
  const AudioForCoding in = audio_for_coding(wav(speech(kSpeech16k, 40000, 2000), 1, 16000, 16), "a.wav", std::nullopt);
  return compress_audio(in, *model, {}, o).lmac;
}

std::string decode_error(ByteView file, LanguageModel& model) {
  try {
    const LmacFile parsed = read_lmac_file(file, "a.lmac");
    decompress_lmac(file, parsed, model, {}, "a.lmac");
    return "";
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + ": " + e.what();
  }
}

TEST(FileCodec, OtherModelOrBackendIsRefusedNamingBothSides) {
  const Bytes file = small_lmac();
  auto wide = load_model_for_files("test:order0-65536", {});
  const std::string m = decode_error(file, *wide);
  EXPECT_THAT(m, HasSubstr("mismatch"));
  EXPECT_THAT(m, HasSubstr("compressed with model 'order1'"));
  EXPECT_THAT(m, HasSubstr("gives model 'order0-65536'"));
  AlteredModel gpu("cuda-sm90-v1", false);
  const std::string k = decode_error(file, gpu);
  EXPECT_THAT(k, HasSubstr("coded on backend 'test-adaptive-v1'"));
  EXPECT_THAT(k, HasSubstr("backend 'cuda-sm90-v1'"));
}

TEST(FileCodec, DriftingPdfsNeverGiveWrongAudio) {
  const Bytes file = small_lmac();
  AlteredModel drifting("test-adaptive-v1", true);
  const std::string m = decode_error(file, drifting);
  EXPECT_THAT(m, HasSubstr("corrupt_stream"));
  EXPECT_THAT(m, HasSubstr("chunk"));
}

TEST(FileCodec, ThousandRandomBitFlipsAndTruncationsAreCaught) {
  const Bytes file = small_lmac();
  auto model = load_model_for_files("test:order1", {});
  ASSERT_EQ(decode_error(file, *model), "");
  const LmacFile parsed = read_lmac_file(file, "a.lmac");
  const uint64_t header_end = parsed.payload_offsets[0];
  std::mt19937_64 rng(2024);
  for (int i = 0; i < 1200; ++i) {
    const size_t bit = rng() % (file.size() * 8);
    Bytes damaged = file;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const std::string m = decode_error(damaged, *model);
    ASSERT_FALSE(m.empty()) << "bit " << bit << " flipped unnoticed";
    if (bit / 8 < header_end) {
      EXPECT_THAT(m, HasSubstr("header")) << bit;
    } else {
      size_t k = 0;
      while (k + 1 < parsed.payload_offsets.size() && parsed.payload_offsets[k + 1] <= bit / 8) ++k;
      EXPECT_THAT(m, HasSubstr("damaged: chunk " + std::to_string(k) + " of ")) << bit;
    }
  }
  for (int i = 0; i < 300; ++i) {
    const size_t n = rng() % file.size();
    const std::string m = decode_error(ByteView(file).first(n), *model);
    ASSERT_FALSE(m.empty()) << "truncated to " << n;
    EXPECT_TRUE(m.find("header") != std::string::npos || m.find("chunk") != std::string::npos ||
                m.find("not an .lmac file") != std::string::npos)
        << m;
  }
}

}  // namespace
}  // namespace lmac
