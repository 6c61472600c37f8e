// The Llama forward pass against Hugging Face transformers (float64, same stored weights): see
// tools/make_llama_fixtures.py for how tests/data/llama was made.
#include <gtest/gtest.h>

#include <cmath>

#include "llama_test_support.hpp"
#include "model/llama_loader.hpp"
#include "model/llama_model.hpp"
#include "model/llama_rope.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using namespace llama_test;

constexpr double kTolerance = 2e-4;  // natural log, max abs

std::vector<uint32_t> speech_symbols(bool ascii) {
  NpyArray x = read_npy(data_dir() / "speech_bytes.npy");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 128}));
  std::vector<uint32_t> s(x.u8.begin(), x.u8.end());
  if (ascii)
    for (auto& v : s) v >>= 1;
  return s;
}

// Scores both fixture sequences and returns the max abs difference to the reference.
double max_error(const std::string& dir, const LlamaOptions& options, const std::string& reference_npy) {
  auto model = load_llama_model(dir, options);
  const bool ascii = options.byte_mapping == "ascii";
  EXPECT_EQ(model->alphabet_size(), ascii ? 128 : 256);
  std::vector<uint32_t> symbols = speech_symbols(ascii);
  NpyArray ref = read_npy(data_dir() / reference_npy);
  EXPECT_EQ(ref.shape, (std::vector<int64_t>{2, 128, model->alphabet_size()}));
  std::vector<float> out(ref.f32.size());
  model->log_probs(symbols, 2, 128, out);
  double err = 0;
  for (size_t i = 0; i < out.size(); ++i) err = std::max(err, std::abs(double(out[i]) - ref.f32[i]));
  std::printf("  %s vs transformers float64: max abs error %.3g\n", reference_npy.c_str(), err);
  return err;
}

TEST(LlamaForward, Llama2LayoutMatchesTransformers) {
  EXPECT_LT(max_error((data_dir() / "tiny-llama2").string(), {}, "tiny-llama2.bytes.npy"), kTolerance);
}

TEST(LlamaForward, Llama2PieceMappingMatchesTransformers) {
  EXPECT_LT(max_error((data_dir() / "tiny-llama2").string(), {.byte_mapping = "piece"}, "tiny-llama2.piece.npy"),
            kTolerance);
}

TEST(LlamaForward, Llama2AsciiMappingMatchesTransformers) {
  EXPECT_LT(max_error((data_dir() / "tiny-llama2").string(), {.byte_mapping = "ascii"}, "tiny-llama2.ascii.npy"),
            kTolerance);
}

TEST(LlamaForward, SentencePieceModelGivesTheSameResult) {
  // The same checkpoint with only tokenizer.model: the byte map comes through libsentencepiece.
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama2");
  fs::remove(dir / "tokenizer.json");
  EXPECT_LT(max_error(dir.string(), {}, "tiny-llama2.bytes.npy"), kTolerance);
  EXPECT_LT(max_error(dir.string(), {.byte_mapping = "piece"}, "tiny-llama2.piece.npy"), kTolerance);
}

TEST(LlamaForward, Llama3LayoutMatchesTransformers) {
  EXPECT_LT(max_error((data_dir() / "tiny-llama3").string(), {}, "tiny-llama3.bytes.npy"), kTolerance);
}

TEST(LlamaForward, Llama3AsciiMappingMatchesTransformers) {
  EXPECT_LT(max_error((data_dir() / "tiny-llama3").string(), {.byte_mapping = "ascii"}, "tiny-llama3.ascii.npy"),
            kTolerance);
}

TEST(LlamaForward, TopKMatchesTheDocumentedRule) {
  // Reference: transformers' log-probs with the top-k rule applied in numpy (expected.json top_k, top_k_floor).
  EXPECT_LT(max_error((data_dir() / "tiny-llama3").string(), {.top_k = 16}, "tiny-llama3.top16.npy"), kTolerance);
}

TEST(LlamaForward, TopKRowIsADistributionWithAFloor) {
  std::vector<float> row(256);
  for (int s = 0; s < 256; ++s) row[s] = float(-0.01 * s - std::log(256.0));  // symbol 0 most likely
  apply_top_k(row.data(), 256, 4);
  double total = 0;
  for (float v : row) total += std::exp(double(v));
  EXPECT_NEAR(total, 1.0, 1e-6);
  for (int s = 4; s < 256; ++s) EXPECT_FLOAT_EQ(row[s], float(std::log(kTopKFloor)));
  EXPECT_GT(row[0], row[3]);
  EXPECT_GT(row[3], row[4]);
}

TEST(LlamaForward, BatchOfOneEqualsBatchOfTwo) {
  auto model = load_llama_model((data_dir() / "tiny-llama3").string(), {});
  std::vector<uint32_t> symbols = speech_symbols(false);
  std::vector<float> both(2 * 128 * 256), second(128 * 256);
  model->log_probs(symbols, 2, 128, both);
  model->log_probs(std::span(symbols).subspan(128), 1, 128, second);
  for (size_t i = 0; i < second.size(); ++i) ASSERT_NEAR(both[128 * 256 + i], second[i], 1e-5) << i;
}

TEST(LlamaForward, IncrementalSessionEqualsBatch) {
  for (const char* name : {"tiny-llama2", "tiny-llama3"}) {
    auto model = load_llama_model((data_dir() / name).string(), {});
    auto* llama = dynamic_cast<LlamaModel*>(model.get());
    ASSERT_NE(llama, nullptr);
    std::vector<uint32_t> symbols = speech_symbols(false);
    const int T = 128, A = 256;
    std::vector<float> batch(2 * T * A);
    model->log_probs(symbols, 2, T, batch);

    LlamaSession session(*llama, 2, T);
    std::vector<float> row(2 * A);
    double err = 0;
    for (int t = 0; t < T; ++t) {
      session.current(row);
      for (int b = 0; b < 2; ++b)
        for (int s = 0; s < A; ++s)
          err = std::max(err, std::abs(double(row[b * A + s]) - batch[(size_t(b) * T + t) * A + s]));
      if (t + 1 < T) {
        uint32_t next[2] = {symbols[t], symbols[T + t]};
        session.append(next);
      }
    }
    EXPECT_LT(err, 1e-4) << name;
    EXPECT_EQ(session.length(), T);
    uint32_t more[2] = {0, 0};
    EXPECT_THROW(session.append(more), Error);  // capacity reached
  }
}

TEST(LlamaForward, RejectsSymbolsOutsideTheAlphabet) {
  auto model = load_llama_model((data_dir() / "tiny-llama3").string(), {.byte_mapping = "ascii"});
  std::vector<uint32_t> symbols = {1, 2, 200};
  std::vector<float> out(3 * 128);
  EXPECT_THROW(model->log_probs(symbols, 1, 3, out), Error);
}

TEST(LlamaInfo, DescribesTheModel) {
  nlohmann::json exp = expected();
  auto m2 = load_llama_model((data_dir() / "tiny-llama2").string(), {});
  const ModelInfo& a = m2->info();
  EXPECT_EQ(a.model_type, "llama");
  EXPECT_EQ(a.format, "safetensors");
  EXPECT_EQ(a.name, "tiny-llama2");
  EXPECT_EQ(a.stored_dtype, "f16");
  EXPECT_EQ(a.bos_token, 1);
  EXPECT_EQ(a.bos_source, "config.json bos_token_id");
  EXPECT_EQ(a.byte_tokens, exp["tiny-llama2"]["bytes"].get<std::vector<int>>());
  // embed + lm_head (340 x 64) + 2 layers (norms, 4 x 64x64 attention, 3 x 160x64 MLP) + final norm
  EXPECT_EQ(a.parameter_count, 2u * 340 * 64 + 2 * (2 * 64 + 4 * 64 * 64 + 3 * 160 * 64) + 64);
  EXPECT_EQ(a.fingerprint.size(), 16u);

  auto m3 = load_llama_model((data_dir() / "tiny-llama3").string(), {});
  const ModelInfo& b = m3->info();
  EXPECT_EQ(b.stored_dtype, "bf16");
  EXPECT_EQ(b.bos_token, exp["tiny-llama3"]["bos"].get<int>());
  EXPECT_EQ(b.byte_tokens, exp["tiny-llama3"]["bytes"].get<std::vector<int>>());
  EXPECT_NE(b.architecture.find("kv_heads=2"), std::string::npos) << b.architecture;
  EXPECT_NE(b.architecture.find("tied"), std::string::npos) << b.architecture;
  EXPECT_NE(b.architecture.find("llama3"), std::string::npos) << b.architecture;
}

TEST(LlamaInfo, FingerprintFollowsEverythingThatChangesAPdf) {
  const std::string dir = (data_dir() / "tiny-llama3").string();
  const std::string base = load_llama_model(dir, {})->info().fingerprint;
  EXPECT_EQ(load_llama_model(dir, {})->info().fingerprint, base);
  EXPECT_NE(load_llama_model(dir, {.top_k = 16})->info().fingerprint, base);
  EXPECT_NE(load_llama_model(dir, {.byte_mapping = "ascii"})->info().fingerprint, base);

  ScratchDir scratch;
  fs::path copy = copy_fixture(scratch, "tiny-llama3");
  EXPECT_EQ(load_llama_model(copy.string(), {})->info().fingerprint, base);  // the directory name is not hashed
  // One weight byte changed.
  fs::path shard = copy / "model-00002-of-00002.safetensors";
  std::string bytes = read_text(shard);
  bytes[bytes.size() - 3] ^= 1;
  write_text(shard, bytes);
  EXPECT_NE(load_llama_model(copy.string(), {})->info().fingerprint, base);
}

TEST(LlamaInfo, BosFallsBackToTheTokenizerThenToEndOfText) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  nlohmann::json exp = expected();
  edit_json(dir / "config.json", [](nlohmann::json& j) { j.erase("bos_token_id"); });
  auto m = load_llama_model(dir.string(), {});
  EXPECT_EQ(m->info().bos_token, exp["tiny-llama3"]["bos"].get<int>());
  EXPECT_EQ(m->info().bos_source, "tokenizer.json token '<|begin_of_text|>'");

  // No BOS anywhere: the end-of-text token of config.json plays BOS.
  edit_json(dir / "tokenizer.json", [](nlohmann::json& j) {
    for (auto& t : j["added_tokens"])
      if (t["content"] == "<|begin_of_text|>") t["content"] = "<|reserved_0|>";
  });
  m = load_llama_model(dir.string(), {});
  EXPECT_EQ(m->info().bos_token, exp["tiny-llama3"]["eos"].get<int>());
  EXPECT_EQ(m->info().bos_source, "config.json eos_token_id (end of text; no BOS defined)");
}

TEST(LlamaRope, InverseFrequenciesMatchTransformers) {
  nlohmann::json rope = expected()["rope"];
  for (const char* type : {"default", "linear", "llama3"}) {
    const nlohmann::json& c = rope[type];
    RopeConfig cfg;
    cfg.type = type;
    cfg.theta = c["rope_parameters"]["rope_theta"].get<double>();
    if (c["rope_parameters"].contains("factor")) cfg.factor = c["rope_parameters"]["factor"].get<double>();
    if (cfg.type == "llama3") {
      cfg.low_freq_factor = c["rope_parameters"]["low_freq_factor"].get<double>();
      cfg.high_freq_factor = c["rope_parameters"]["high_freq_factor"].get<double>();
      cfg.original_max_position_embeddings = c["rope_parameters"]["original_max_position_embeddings"].get<int>();
    }
    std::vector<float> inv = rope_inv_freq(cfg, c["head_dim"].get<int>());
    std::vector<double> ref = c["inv_freq"].get<std::vector<double>>();
    ASSERT_EQ(inv.size(), ref.size());
    for (size_t i = 0; i < inv.size(); ++i) EXPECT_NEAR(inv[i], ref[i], 2e-6 * ref[i]) << type << " " << i;
  }
}

}  // namespace
}  // namespace lmac
