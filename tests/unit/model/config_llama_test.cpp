// config.json of Llama checkpoints: both generations of field names, and every refusal with its message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llama_test_support.hpp"
#include "model/hf_config.hpp"
#include "model/llama_loader.hpp"

namespace lmac {
namespace {

using namespace llama_test;
using ::testing::HasSubstr;

const char* kBase = R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
  "num_attention_heads": 4, "vocab_size": 340})";

LlamaConfig parse(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(kBase);
  edit(j);
  return parse_llama_config(j.dump(), "dir/config.json");
}

std::string parse_error(const std::function<void(nlohmann::json&)>& edit) {
  return error_of([&] { parse(edit); });
}

TEST(LlamaConfig, DefaultsFollowTransformers) {
  LlamaConfig c = parse([](nlohmann::json&) {});
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope.type, "default");
  EXPECT_EQ(c.rope.theta, 10000.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.bos_token_id.has_value());
}

TEST(LlamaConfig, OlderGenerationFields) {
  // The fixture written in transformers 4.x style.
  LlamaConfig c = parse_llama_config(read_text(data_dir() / "tiny-llama2" / "config.json"), "config.json");
  EXPECT_EQ(c.rope.type, "linear");
  EXPECT_EQ(c.rope.factor, 2.0);
  EXPECT_EQ(c.rope.theta, 10000.0);
  EXPECT_EQ(c.stored_dtype, "float16");
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  // rope_scaling with rope_type instead of type, and a llama3 block.
  c = parse([](nlohmann::json& j) {
    j["rope_theta"] = 500000.0;
    j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
    j["torch_dtype"] = "bfloat16";
  });
  EXPECT_EQ(c.rope.type, "llama3");
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.stored_dtype, "bfloat16");
  EXPECT_EQ(parse([](nlohmann::json& j) { j["rope_scaling"] = nullptr; }).rope.type, "default");
}

TEST(LlamaConfig, TransformersFiveFields) {
  // The fixture written by transformers 5.x save_pretrained.
  LlamaConfig c = parse_llama_config(read_text(data_dir() / "tiny-llama3" / "config.json"), "config.json");
  EXPECT_EQ(c.rope.type, "llama3");
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.rope.factor, 8.0);
  EXPECT_EQ(c.rope.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 64);
  EXPECT_EQ(c.stored_dtype, "bfloat16");
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.hidden_size, 48);
  EXPECT_TRUE(c.tie_word_embeddings);
  c = parse([](nlohmann::json& j) { j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}}; });
  EXPECT_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(parse([](nlohmann::json& j) { j["eos_token_id"] = {7, 9}; }).eos_token_id, 7);
}

TEST(LlamaConfig, RefusesWhatTheForwardPassDoesNotImplement) {
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["attention_bias"] = true; }),
              HasSubstr("dir/config.json: field 'attention_bias' is true"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["mlp_bias"] = true; }),
              HasSubstr("dir/config.json: field 'mlp_bias' is true"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["hidden_act"] = "gelu"; }),
              HasSubstr("dir/config.json: field 'hidden_act' is \"gelu\""));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}}; }),
              HasSubstr("dir/config.json: field 'rope_scaling.type' is 'dynamic'"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 2.0}}; }),
              HasSubstr("dir/config.json: field 'rope_parameters.rope_type' is 'yarn'"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["model_type"] = "mistral"; }),
              HasSubstr("dir/config.json: field 'model_type' is \"mistral\"; this loader reads only \"llama\""));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j.erase("model_type"); }),
              HasSubstr("dir/config.json: missing field 'model_type'"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j.erase("hidden_size"); }),
              HasSubstr("dir/config.json: missing field 'hidden_size'"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["num_hidden_layers"] = "2"; }),
              HasSubstr("field 'num_hidden_layers' must be a positive integer"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["num_key_value_heads"] = 3; }),
              HasSubstr("'num_attention_heads' (4) is not a multiple of 'num_key_value_heads' (3)"));
  EXPECT_THAT(parse_error([](nlohmann::json& j) { j["rope_scaling"] = {{"type", "linear"}}; }),
              HasSubstr("missing field 'rope_scaling.factor'"));
  EXPECT_THAT(error_of([] { parse_llama_config("{\"model_type\": ", "some/config.json"); }),
              HasSubstr("some/config.json: not valid JSON"));
}

TEST(LlamaConfig, LoaderNamesMissingDirectoryAndConfig) {
  ScratchDir scratch;
  EXPECT_THAT(error_of([&] { load_llama_model((scratch.path() / "nope").string(), {}); }),
              HasSubstr("no such model directory"));
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  fs::remove(dir / "config.json");
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }), HasSubstr("tiny-llama3: missing config.json"));
  write_text(dir / "config.json", "{\"model_type\": \"mistral\"}");
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("tiny-llama3/config.json: field 'model_type' is \"mistral\""));
}

TEST(LlamaConfig, LoaderRejectsBadOptions) {
  const std::string dir = (data_dir() / "tiny-llama3").string();
  EXPECT_THAT(error_of([&] { load_llama_model(dir, {.byte_mapping = "utf8"}); }),
              HasSubstr("--byte_mapping: 'utf8' is not one of bytes, piece, ascii"));
  EXPECT_THAT(error_of([&] { load_llama_model(dir, {.top_k = -1}); }), HasSubstr("--top_k"));
}

}  // namespace
}  // namespace lmac
