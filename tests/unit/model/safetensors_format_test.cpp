// safetensors parsing (byte spans, as a fuzzer would feed them) and checkpoint opening (files, shards, index).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llama_test_support.hpp"
#include "model/llama_loader.hpp"
#include "model/safetensors_checkpoint.hpp"
#include "model/safetensors_header.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using namespace llama_test;
using ::testing::HasSubstr;

// A safetensors file: 8-byte length, JSON header, then `data_bytes` zero bytes.
Bytes make_file(const std::string& header, size_t data_bytes, uint64_t declared_length = UINT64_MAX) {
  uint64_t n = declared_length == UINT64_MAX ? header.size() : declared_length;
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[i] = uint8_t(n >> (8 * i));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes);
  return b;
}

TEST(SafetensorsHeader, ParsesEntriesAndMetadata) {
  Bytes f = make_file(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
                      R"("b":{"dtype":"F32","shape":[],"data_offsets":[12,16]}})",
                      16);
  SafetensorsHeader h = parse_safetensors_header(f, "x.safetensors");
  ASSERT_EQ(h.tensors.size(), 2u);
  EXPECT_EQ(h.metadata.at("format"), "pt");
  const SafetensorsEntry& a = h.tensors.at("a");
  EXPECT_EQ(a.dtype, "BF16");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.begin, h.data_start);
  EXPECT_EQ(h.tensors.at("b").end, f.size());
}

TEST(SafetensorsHeader, RejectsDamagedFilesWithPreciseMessages) {
  auto err = [](const Bytes& f) { return error_of([&] { parse_safetensors_header(f, "m.safetensors"); }); };
  EXPECT_THAT(err(Bytes{1, 2, 3}), HasSubstr("m.safetensors: 3 bytes is too short"));
  EXPECT_THAT(err(make_file("{}", 0, 1000)), HasSubstr("header length 1000 is larger than the file"));
  EXPECT_THAT(err(make_file("{not json", 0)), HasSubstr("m.safetensors: the safetensors header is not valid JSON"));
  EXPECT_THAT(err(make_file("[1]", 0)), HasSubstr("not a JSON object"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}})", 2)),
              HasSubstr("m.safetensors: tensor 'w': unknown dtype 'Q4'"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
              HasSubstr("tensor 'w': data ends at byte 16 of the data section, but the file holds only 8"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16)),
              HasSubstr("tensor 'w': 16 bytes of data do not match shape x dtype F32 (12 bytes)"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
              HasSubstr("tensor 'w': shape holds a value that is not a non-negative integer"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4)),
              HasSubstr("run backwards"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", 4)), HasSubstr("'data_offsets' must be two"));
  EXPECT_THAT(err(make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4)),
              HasSubstr("shape is larger than the file"));
}

TEST(SafetensorsCheckpoint, OpensSingleFileAndShards) {
  SafetensorsCheckpoint one = SafetensorsCheckpoint::open((data_dir() / "tiny-llama2").string());
  EXPECT_EQ(one.source(), "model.safetensors");
  const TensorRef* embed = one.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, "F16");
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{340, 64}));

  SafetensorsCheckpoint sharded = SafetensorsCheckpoint::open((data_dir() / "tiny-llama3").string());
  EXPECT_EQ(sharded.source(), "model.safetensors.index.json (2 shards)");
  std::set<std::string> files;
  for (auto& [name, t] : sharded.tensors()) files.insert(t.file);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_EQ(sharded.find("lm_head.weight"), nullptr);  // tied
  EXPECT_EQ(sharded.find("model.norm.weight")->dtype, "BF16");
}

TEST(SafetensorsCheckpoint, MissingShardIsNamed) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  fs::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("model.safetensors.index.json: shard 'model-00002-of-00002.safetensors' named in weight_map"));
}

TEST(SafetensorsCheckpoint, ShardOutsideTheDirectoryIsRefused) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  edit_json(dir / "model.safetensors.index.json",
            [](nlohmann::json& j) { j["weight_map"]["model.norm.weight"] = "../../etc/passwd"; });
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }), HasSubstr("is not a plain file name"));
}

TEST(SafetensorsCheckpoint, TensorMissingFromItsShardIsNamed) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  edit_json(dir / "model.safetensors.index.json", [](nlohmann::json& j) {
    j["weight_map"]["model.extra.weight"] = j["weight_map"]["model.norm.weight"];
  });
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("tensor 'model.extra.weight' is listed in model.safetensors.index.json but the shard does not"));
}

TEST(SafetensorsCheckpoint, TruncatedFileIsReported) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama2");
  std::string bytes = read_text(dir / "model.safetensors");
  write_text(dir / "model.safetensors", bytes.substr(0, bytes.size() - 100));
  std::string e = error_of([&] { load_llama_model(dir.string(), {}); });
  EXPECT_THAT(e, HasSubstr("model.safetensors: tensor '"));
  EXPECT_THAT(e, HasSubstr("truncated file?"));
  write_text(dir / "model.safetensors", bytes.substr(0, 50));
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }), HasSubstr("is larger than the file"));
}

TEST(SafetensorsCheckpoint, MissingTensorWrongShapeAndUnsupportedDtypeAreNamed) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama2");
  // Rename a tensor in the header (same length keeps every offset valid).
  std::string bytes = read_text(dir / "model.safetensors");
  std::string original = bytes;
  size_t at = bytes.find("model.norm.weight");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 17, "model.norX.weight");
  write_text(dir / "model.safetensors", bytes);
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("missing tensor 'model.norm.weight' (looked in model.safetensors)"));

  // A config that disagrees with the tensors.
  write_text(dir / "model.safetensors", original);
  edit_json(dir / "config.json", [](nlohmann::json& j) { j["intermediate_size"] = 161; });
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [160, 64], "
                        "expected [161, 64] from config.json"));
  edit_json(dir / "config.json", [](nlohmann::json& j) { j["intermediate_size"] = 160; });

  // F16 relabelled as I16: same size, a dtype lmac does not compute with.
  at = original.find("\"F16\"");
  bytes = original;
  bytes.replace(at, 5, "\"I16\"");
  write_text(dir / "model.safetensors", bytes);
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("has dtype I16; lmac reads F32, F16 and BF16 weights"));
}

TEST(SafetensorsCheckpoint, NoWeightsFileIsExplained) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama2");
  fs::remove(dir / "model.safetensors");
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }),
              HasSubstr("no model.safetensors or model.safetensors.index.json"));
  write_text(dir / "pytorch_model.bin", "x");
  EXPECT_THAT(error_of([&] { load_llama_model(dir.string(), {}); }), HasSubstr("convert it to safetensors"));
}

}  // namespace
}  // namespace lmac
