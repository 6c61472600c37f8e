// The Llama model's exact scorer (model/llama_exact.hpp): close to Hugging Face transformers on the fixtures of
// tools/make_llama_fixtures.py (tiny-llama2: fp16, multi-head, linear RoPE; tiny-llama3: bf16, grouped-query,
// llama3 RoPE, tied embeddings), and bit-identical between its full pass and its incremental steps, across batch
// sizes, lengths, instruction-set variants and thread counts, with and without --top_k.
#include <gtest/gtest.h>

#include <cmath>

#include "exact_scorer_checks.hpp"
#include "llama_test_support.hpp"
#include "model/llama_exact.hpp"
#include "model/llama_loader.hpp"
#include "model/llama_model.hpp"
#include "model/llama_rope.hpp"

namespace lmac {
namespace {

using namespace llama_test;
using namespace exact_checks;

std::vector<uint32_t> speech_symbols(bool ascii) {
  NpyArray x = read_npy(data_dir() / "speech_bytes.npy");
  std::vector<uint32_t> s(x.u8.begin(), x.u8.end());
  if (ascii) {
    for (auto& v : s) v >>= 1;
  }
  return s;
}

struct Case {
  const char* model;
  LlamaOptions options;
  const char* reference;
};

const Case kCases[] = {
    {"tiny-llama2", {}, "tiny-llama2.bytes.npy"},
    {"tiny-llama2", {.byte_mapping = "ascii"}, "tiny-llama2.ascii.npy"},
    {"tiny-llama3", {}, "tiny-llama3.bytes.npy"},
    {"tiny-llama3", {.byte_mapping = "ascii"}, "tiny-llama3.ascii.npy"},
    {"tiny-llama3", {.top_k = 16}, "tiny-llama3.top16.npy"},
};

TEST(LlamaExact, MatchesTransformersAndTheFloatModel) {
  for (const Case& c : kCases) {
    auto model = load_llama_model((data_dir() / c.model).string(), c.options);
    auto scorer = model->exact_scorer();
    ASSERT_NE(scorer, nullptr);
    EXPECT_EQ(scorer->kernel_id(), "cpu-exact-v1");
    EXPECT_EQ(scorer->alphabet_size(), model->alphabet_size());
    std::vector<uint32_t> x = speech_symbols(c.options.byte_mapping == "ascii");
    NpyArray ref = read_npy(data_dir() / c.reference);
    std::vector<float> exact = full_pass(*scorer, x, 2, 128), fast(exact.size());
    ASSERT_EQ(ref.f32.size(), exact.size());
    model->log_probs(x, 2, 128, fast);
    double to_ref = 0, to_float = 0;
    for (size_t i = 0; i < exact.size(); ++i) {
      to_ref = std::max(to_ref, std::abs(double(exact[i]) - ref.f32[i]));
      to_float = std::max(to_float, double(std::abs(exact[i] - fast[i])));
    }
    EXPECT_LT(to_ref, 2e-4) << c.reference;
    EXPECT_LT(to_float, 2e-4) << c.reference;
    std::printf("  %s: max |exact - transformers| %.2e, max |exact - float| %.2e\n", c.reference, to_ref, to_float);
  }
}

// Sequences cut from the fixture's speech at several offsets.
std::vector<uint32_t> sequences(int batch, int length, bool ascii) {
  const std::vector<uint32_t> s = speech_symbols(ascii);
  std::vector<uint32_t> x;
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < length; ++t) x.push_back(s[(size_t(b) * 37 + t) % s.size()]);
  }
  return x;
}

// Every architecture feature at least once: fp16 multi-head linear RoPE, bf16 grouped-query llama3 RoPE, top-k.
const Case kBitCases[] = {kCases[0], kCases[2], kCases[4]};

TEST(LlamaExact, StepRowsEqualFullPassRowsBitForBit) {
  for (const Case& c : kBitCases) {
    auto model = load_llama_model((data_dir() / c.model).string(), c.options);
    auto scorer = model->exact_scorer();
    const int T = 260;  // past 256: the step path's cache grows once
    expect_steps_equal_full_pass(*scorer, sequences(8, T, c.options.byte_mapping == "ascii"), T, {1, 9, 100},
                                 c.reference);
  }
}

TEST(LlamaExact, BitsDoNotDependOnThreadsOrInstructionSet) {
  for (const Case& c : kBitCases) {
    auto model = load_llama_model((data_dir() / c.model).string(), c.options);
    auto scorer = model->exact_scorer();
    const int T = 80, B = 4;
    expect_bits_independent_of_threads_and_isa(*scorer, sequences(B, T, c.options.byte_mapping == "ascii"), B, T,
                                               c.reference);
  }
}

TEST(LlamaExact, RejectsSymbolsOutsideTheAlphabet) {
  auto model = load_llama_model((data_dir() / "tiny-llama3").string(), {.byte_mapping = "ascii"});
  auto scorer = model->exact_scorer();
  std::vector<uint32_t> x = {1, 2, 200};
  std::vector<float> out(3 * 128);
  EXPECT_THROW(scorer->log_probs(x, 1, 3, out), Error);
  std::vector<float> row(128);
  scorer->begin(1);
  scorer->step(std::vector<uint32_t>{0}, row);
  EXPECT_THROW(scorer->step(std::vector<uint32_t>{128}, row), Error);
}

// lmac's own pow gives transformers' float32 inverse frequencies (as libm's powf does here) for every rope type.
TEST(LlamaExact, InverseFrequenciesMatchTheFloatModel) {
  for (const char* name : {"tiny-llama2", "tiny-llama3"}) {
    const LlamaConfig c = load_llama_config((data_dir() / name).string());
    const std::vector<float> exact = llama_exact_inv_freq(c.rope, c.head_dim);
    const std::vector<float> libm = rope_inv_freq(c.rope, c.head_dim);
    ASSERT_EQ(exact.size(), libm.size());
    for (size_t i = 0; i < exact.size(); ++i) EXPECT_NEAR(exact[i], libm[i], 2e-7 * libm[i]) << name << " " << i;
  }
  RopeConfig plain;
  plain.theta = 10000.0;
  const std::vector<float> exact = llama_exact_inv_freq(plain, 128);
  for (size_t i = 0; i < exact.size(); ++i) {
    EXPECT_NEAR(exact[i], 1.0 / std::pow(10000.0, double(2 * i) / 128.0), 1.2e-7 * exact[i]) << i;
  }
}

TEST(LlamaExact, TopKFollowsTheFloatModelsRule) {
  std::vector<float> row(256);
  for (int s = 0; s < 256; ++s) row[size_t(s)] = -0.05f * float((s * 37) % 256) - 1.0f;
  std::vector<float> a = row, b = row;
  exact_apply_top_k(a.data(), 256, 16);
  apply_top_k(b.data(), 256, 16);
  double total = 0;
  for (int s = 0; s < 256; ++s) {
    EXPECT_NEAR(a[size_t(s)], b[size_t(s)], 1e-6) << s;
    total += std::exp(double(a[size_t(s)]));
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
}

}  // namespace
}  // namespace lmac
