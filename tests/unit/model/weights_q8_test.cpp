// --weights q8_0 (engine/quant_quantize.hpp, model/llama_loader.cpp) against llama.cpp's own Python package `gguf`
// and Hugging Face transformers; fixtures in tests/data/q8 from tools/make_q8_fixtures.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/quant_dequantize.hpp"
#include "engine/quant_quantize.hpp"
#include "llama_test_support.hpp"
#include "model/llama_loader.hpp"
#include "model/llama_model.hpp"
#include "model/model_resolver.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using namespace llama_test;

fs::path q8_dir() { return fs::path(LMAC_TEST_DATA_DIR) / "q8"; }

// The same bound as the stored-weights forward test (llama_forward_test.cpp): float32 CPU vs float64 transformers.
constexpr double kForwardTolerance = 2e-4;

TEST(QuantizeQ8_0, MatchesGgufPythonPackageBitForBit) {
  NpyArray x = read_npy(q8_dir() / "quantize_input.npy");
  NpyArray want = read_npy(q8_dir() / "quantize_expected.npy");
  ASSERT_EQ(x.shape, (std::vector<int64_t>{16, 256}));
  ASSERT_EQ(want.shape, (std::vector<int64_t>{16, 8 * kQ8_0BlockBytes}));
  std::vector<uint8_t> got(want.u8.size());
  for (int r = 0; r < 16; ++r)
    quantize_row_q8_0(x.f32.data() + r * 256, got.data() + r * 8 * kQ8_0BlockBytes, 256);
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want.u8[i] && mismatches++ < 8)
      ADD_FAILURE() << "block " << i / kQ8_0BlockBytes << " byte " << i % kQ8_0BlockBytes << ": lmac "
                    << int(got[i]) << ", gguf " << int(want.u8[i]);
  EXPECT_EQ(mismatches, 0);
}

TEST(QuantizeQ8_0, FixtureCoversTheEdgeCases) {
  // The blocks the fixture was built to hold, read from gguf's output: without them the test above proves less.
  NpyArray want = read_npy(q8_dir() / "quantize_expected.npy");
  auto scale = [&](int block) { return uint16_t(want.u8[block * 34] | (want.u8[block * 34 + 1] << 8)); };
  auto q = [&](int block, int j) { return int8_t(want.u8[block * 34 + 2 + j]); };
  EXPECT_EQ(scale(0), 0);                 // all zeros
  EXPECT_EQ(scale(2), 0x3c00);            // d = 1.0
  EXPECT_EQ(q(2, 1), -10);                // -9.5 rounds away from zero (rint would give -10 too) ...
  EXPECT_EQ(q(2, 2), -9);                 // ... -8.5 -> -9, where rint gives -8
  EXPECT_EQ(q(2, 11), 1);                 // 0.5 -> 1, where rint gives 0
  EXPECT_EQ(q(2, 13), 3);                 // 2.5 -> 3, where rint gives 2
  EXPECT_EQ(q(3, 17), -127);              // the lone negative maximum
  EXPECT_EQ(scale(4), 0);                 // d underflows fp16
  EXPECT_LT(scale(5), 0x0400);            // d a fp16 subnormal
  EXPECT_GT(scale(5), 0);
  EXPECT_EQ(scale(6), 0x7c00);            // d overflows to infinity
}

TEST(QuantizeQ8_0, RoundTripsThroughTheDequantizerWithinHalfAStep) {
  NpyArray x = read_npy(q8_dir() / "quantize_input.npy");
  std::vector<uint8_t> q(8 * kQ8_0BlockBytes);
  std::vector<float> back(256);
  for (int r = 0; r < 16; ++r) {
    const float* row = x.f32.data() + r * 256;
    quantize_row_q8_0(row, q.data(), 256);
    dequantize_row(GgmlType::q8_0, q.data(), back.data(), 256);
    for (int b = 0; b < 8; ++b) {
      const uint16_t d16 = uint16_t(q[b * 34] | (q[b * 34 + 1] << 8));
      const float d = f16_to_f32(d16);
      // Only normal fp16 scales have the 2^-11 relative precision the bound assumes (subnormal or overflowed ones are
      // ggml's behaviour too, checked bit for bit above).
      if (!std::isfinite(d) || d16 < 0x0400) continue;
      for (int j = 0; j < 32; ++j) {
        const float v = row[b * 32 + j];
        // 0.5 step of rounding, plus the fp16 rounding of d (relative 2^-11) scaled by |q| <= 127.
        EXPECT_LE(std::abs(back[b * 32 + j] - v), 0.5f * d + 127 * d * 0x1p-11f + 1e-6f * std::abs(v))
            << "row " << r << " block " << b << " element " << j;
      }
    }
  }
}

TEST(QuantizeQ8_0, F16ConversionRoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);                 // the tie above the largest half goes to infinity
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);          // a tie to even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);      // a tie to even (up)
  EXPECT_EQ(f32_to_f16(0x1p-24f), 0x0001);                 // smallest subnormal
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);                 // half of it: a tie to even (zero)
  EXPECT_EQ(f32_to_f16(0x1.8p-24f), 0x0002);               // 1.5 units: a tie to even (2)
  EXPECT_EQ(f32_to_f16(0x1.ffcp-15f), 0x0400);             // a subnormal rounding up into the smallest normal
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(f32_to_f16(f16_to_f32(uint16_t(h))), h) << h;  // exact round trip
}

TEST(QuantizeQ8_0, ARowNotOfWholeBlocksIsRefused) {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> out(68);
  EXPECT_THROW(quantize_row_q8_0(x.data(), out.data(), 40), Error);
}

// The log-probs `model` gives the fixture's two speech sequences (tests/data/llama/speech_bytes.npy).
std::vector<float> score(LanguageModel& model) {
  NpyArray x = read_npy(data_dir() / "speech_bytes.npy");
  std::vector<uint32_t> symbols(x.u8.begin(), x.u8.end());
  std::vector<float> out(size_t(2) * 128 * model.alphabet_size());
  model.log_probs(symbols, 2, 128, out);
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double err = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) err = std::max(err, std::abs(double(a[i]) - b[i]));
  return err;
}

const std::string kLlama2 = (data_dir() / "tiny-llama2").string();

TEST(WeightsQ8_0, LogProbsMatchTransformersOnGgufQuantizedWeights) {
  // The reference replaced every linear layer by gguf's dequantize(quantize(W, Q8_0)); if lmac's quantizer or its
  // choice of layers differed, the error would be of the size of the quantization effect (~1 nat), not 1e-4.
  auto model = load_llama_model(kLlama2, {.weights = "q8_0"});
  const double err = max_abs_diff(score(*model), read_npy(q8_dir() / "tiny-llama2.q8_0.bytes.npy").f32);
  std::printf("  q8_0 vs transformers (float64, gguf-quantized weights): max abs error %.3g\n", err);
  EXPECT_LT(err, kForwardTolerance);
}

TEST(WeightsQ8_0, LogProbsStayCloseToStoredWeights) {
  // How far q8_0 may move the log-probs is not a constant of lmac but of the model: the fixture records the distance
  // between the two float64 transformers references (stored vs gguf-quantized weights). lmac's distance must equal it
  // up to the forward tolerance of each side. It is large on this tiny random model (peaked, untrained
  // distributions, ~1.4 nats at worst); it must also be non-zero, or the flag did nothing.
  const nlohmann::json meta = nlohmann::json::parse(read_text(q8_dir() / "expected.json"));
  const double reference = meta["q8_vs_stored_max_abs_log_prob"].get<double>();
  auto stored = load_llama_model(kLlama2, {});
  auto q8 = load_llama_model(kLlama2, {.weights = "q8_0"});
  const double diff = max_abs_diff(score(*stored), score(*q8));
  std::printf("  q8_0 vs stored weights: max abs log-prob change %.4g (transformers: %.4g)\n", diff, reference);
  EXPECT_GT(diff, 1e-3);
  EXPECT_NEAR(diff, reference, 2 * kForwardTolerance);
}

TEST(WeightsQ8_0, LinearLayersBecomeQ8_0AndTheRestStaysStored) {
  auto model = load_llama_model(kLlama2, {.weights = "q8_0"});
  const auto& w = dynamic_cast<LlamaModel&>(*model).weights();
  EXPECT_EQ(w.embed.dtype, WeightDType::f16);
  for (const LlamaLayerWeights& lw : w.layers)
    for (const WeightMatrix* m : {&lw.q, &lw.k, &lw.v, &lw.o, &lw.gate, &lw.up, &lw.down})
      EXPECT_EQ(m->dtype, WeightDType::q8_0);
  EXPECT_NE(model->info().architecture.find("quantized to q8_0"), std::string::npos) << model->info().architecture;
  EXPECT_EQ(model->info().stored_dtype, "f16");
}

TEST(WeightsQ8_0, FingerprintNamesTheWeights) {
  const std::string stored = load_llama_model(kLlama2, {})->info().fingerprint;
  const std::string q8 = load_llama_model(kLlama2, {.weights = "q8_0"})->info().fingerprint;
  EXPECT_NE(stored, q8);
  EXPECT_EQ(q8, load_llama_model(kLlama2, {.weights = "q8_0"})->info().fingerprint);  // and is deterministic
  // Stored-weight fingerprints are as before --weights existed: the one the .lmac files of stored models carry.
  EXPECT_EQ(stored, load_llama_model(kLlama2, {.weights = "stored"})->info().fingerprint);
}

TEST(WeightsQ8_0, ColumnsNotOfWholeBlocksAreRefusedNamingTheTensor) {
  // tiny-llama3 has hidden_size 48: its q_proj rows are 48 wide, not a multiple of 32.
  const std::string msg = error_of([] { load_llama_model((data_dir() / "tiny-llama3").string(), {.weights = "q8_0"}); });
  EXPECT_NE(msg.find("model.layers.0.self_attn.q_proj.weight has 48 columns"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--weights q8_0"), std::string::npos) << msg;
}

TEST(WeightsQ8_0, UnknownWeightsValueIsRefused) {
  const std::string msg = error_of([] { load_llama_model(kLlama2, {.weights = "q4_0"}); });
  EXPECT_NE(msg.find("--weights must be stored or q8_0, not 'q4_0'"), std::string::npos) << msg;
}

TEST(WeightsQ8_0, FrameworkAndGgufModelsRefuseIt) {
  ModelOptions q8;
  q8.weights = "q8_0";
  const std::string npz = error_of([&] { check_model_options({ModelKind::framework_npz, "m.npz"}, q8); });
  EXPECT_NE(npz.find("--weights q8_0: m.npz is a framework .npz model"), std::string::npos) << npz;
  const std::string gguf = error_of([&] { check_model_options({ModelKind::gguf, "m.gguf"}, q8); });
  EXPECT_NE(gguf.find("--weights q8_0: m.gguf is a GGUF file"), std::string::npos) << gguf;
  EXPECT_NO_THROW(check_model_options({ModelKind::llama_dir, kLlama2}, q8));
  EXPECT_NO_THROW(check_model_options({ModelKind::gguf, "m.gguf"}, ModelOptions{}));
}

}  // namespace
}  // namespace lmac
