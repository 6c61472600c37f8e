// evaluate_model's batching rules (DESIGN.md section 1): out of memory halves the batch and retries the same chunks,
// so the result equals an unconstrained run; at batch 1 it is an error with the model's message; a model on a
// device has its batches coded on host threads while the next is scored, with the same result; the record says
// where the model ran.
#include "eval/model_eval.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "util/error.hpp"
#include "util/progress_bar.hpp"

namespace lmac {
namespace {

// A byte model whose prediction depends on the previous symbol (so the code length depends on every chunk's
// content and order), and which runs out of memory above `max_batch` chunks per call, like a GPU model.
class LimitedModel : public LanguageModel {
 public:
  LimitedModel(int max_batch, bool on_gpu) : max_batch_(max_batch), on_gpu_(on_gpu) { info_.name = "limited"; }
  const ModelInfo& info() const override { return info_; }
  int alphabet_size() const override { return 256; }
  ComputePlacement placement() const override {
    if (!on_gpu_) return {};
    return {"cuda:7 (Imaginary GPU)", "bf16", 12345, true};
  }
  int automatic_batch_size(int length) const override { return on_gpu_ ? 64 : 0; }
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override {
    if (batch > max_batch_)
      throw_error(ErrorCode::out_of_memory, "imaginary GPU: {} chunks do not fit, {} do", batch, max_batch_);
    largest_batch = std::max(largest_batch, batch);
    for (int b = 0; b < batch; ++b)
      for (int t = 0; t < length; ++t) {
        const uint32_t prev = t == 0 ? 0 : symbols[size_t(b) * length + t - 1];
        float* row = &out[(size_t(b) * length + t) * 256];
        double z = 0;
        for (int s = 0; s < 256; ++s) z += std::exp(-std::abs(int(s) - int(prev)) / 8.0);
        for (int s = 0; s < 256; ++s) row[s] = float(-std::abs(int(s) - int(prev)) / 8.0 - std::log(z));
      }
  }
  int largest_batch = 0;

 private:
  ModelInfo info_;
  int max_batch_;
  bool on_gpu_;
};

Corpus speech_like_corpus(int chunks) {
  Corpus c;
  c.chunk_size = 256;
  CorpusFile f;
  f.path = "wave.wav";
  f.sample_rate = 16000;
  for (int i = 0; i < chunks * 256; ++i) f.stream.push_back(uint8_t(128 + 100 * std::sin(i * 0.05) + (i * 7919) % 13));
  c.files.push_back(f);
  for (int i = 0; i < chunks; ++i) c.chunks.push_back({0, size_t(i) * 256});
  c.stream.bits = 8;
  return c;
}

ResultRecord run(LimitedModel& model, const Corpus& corpus, int batch_size) {
  EvalConfig config;
  config.batch_size = batch_size;
  ProgressBar progress("test", corpus.chunks.size());
  return evaluate_model(model, config, corpus, progress);
}

TEST(EvaluateModel, OutOfMemoryHalvesTheBatchWithoutLosingChunks) {
  const Corpus corpus = speech_like_corpus(37);
  LimitedModel unlimited(1000, false), limited(3, false);
  const ResultRecord full = run(unlimited, corpus, 16);
  const ResultRecord halved = run(limited, corpus, 16);
  EXPECT_EQ(unlimited.largest_batch, 16);
  EXPECT_EQ(limited.largest_batch, 2);  // 16 -> 8 -> 4 -> 2
  EXPECT_EQ(halved.details["batch_size"], 2);
  EXPECT_EQ(halved.num_chunks, 37u);
  EXPECT_EQ(halved.compressed_bytes, full.compressed_bytes);
  EXPECT_EQ(halved.details["bits_per_symbol"], full.details["bits_per_symbol"]);
  EXPECT_EQ(full.details["device"], "cpu");
  EXPECT_FALSE(full.details.contains("peak_device_memory_bytes"));
}

TEST(EvaluateModel, OutOfMemoryAtBatchOneIsAnErrorWithTheModelsMessage) {
  const Corpus corpus = speech_like_corpus(4);
  LimitedModel none(0, false);
  try {
    run(none, corpus, 4);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_memory);
    const std::string what = e.what();
    EXPECT_NE(what.find("at batch size 1"), std::string::npos) << what;
    EXPECT_NE(what.find("0 do"), std::string::npos) << what;  // the model's own numbers
  }
}

TEST(EvaluateModel, OverlappedCodingOnADeviceGivesTheSameResult) {
  const Corpus corpus = speech_like_corpus(37);
  LimitedModel cpu(1000, false), gpu(5, true);
  const ResultRecord serial = run(cpu, corpus, 4);
  const ResultRecord overlapped = run(gpu, corpus, 0);  // automatic: the model's 64, halved to 4 by its limit
  EXPECT_EQ(gpu.largest_batch, 4);
  EXPECT_EQ(overlapped.compressed_bytes, serial.compressed_bytes);
  EXPECT_EQ(overlapped.num_chunks, 37u);
  EXPECT_EQ(overlapped.details["device"], "cuda:7 (Imaginary GPU)");
  EXPECT_EQ(overlapped.details["dtype"], "bf16");
  EXPECT_EQ(overlapped.details["peak_device_memory_bytes"], 12345);
}

}  // namespace
}  // namespace lmac
