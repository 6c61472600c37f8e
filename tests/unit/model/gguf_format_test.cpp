// The GGUF parser (model/gguf_format.hpp) and the metadata readers built on it (model/gguf_llama.hpp): a real file
// written by llama.cpp's `gguf` package (tests/data/gguf/tiny-gpt2.gguf), and hand-built files for every kind of
// damage, each of which must end in one precise lmac::Error.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model/gguf_file.hpp"
#include "model/gguf_format.hpp"
#include "model/gguf_llama.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

const std::string kData = std::string(LMAC_TEST_DATA_DIR) + "/gguf/";

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Writes GGUF v2/v3 byte by byte, so each test can build exactly the damage it needs.
class GgufBuilder {
 public:
  uint32_t version = 3;
  uint64_t alignment = 32;
  std::optional<uint64_t> tensor_count_override, kv_count_override;

  void kv(const std::string& key, GgufValueType type, Bytes value) {
    remove(key);
    kvs_.push_back({key, uint32_t(type), std::move(value)});
  }
  void kv_raw_type(const std::string& key, uint32_t type, Bytes value) { kvs_.push_back({key, type, std::move(value)}); }
  void remove(const std::string& key) {
    std::erase_if(kvs_, [&](const Kv& k) { return k.key == key; });
  }
  void u32(const std::string& key, uint32_t v) { kv(key, GgufValueType::u32, pod(v)); }
  void f32(const std::string& key, float v) { kv(key, GgufValueType::f32, pod(v)); }
  void str(const std::string& key, const std::string& v) { kv(key, GgufValueType::string, string_bytes(v)); }
  void str_array(const std::string& key, const std::vector<std::string>& v) {
    Bytes b = pod(uint32_t(GgufValueType::string));
    append(b, pod(uint64_t(v.size())));
    for (const std::string& s : v) append(b, string_bytes(s));
    kv(key, GgufValueType::array, b);
  }

  // A tensor of `type` with ggml shape `ne`; its data (zeros) is laid out after the previous one, unless `offset`
  // places it explicitly (and reserves nothing).
  void tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, std::optional<uint64_t> offset = {},
              std::optional<uint64_t> bytes = {}) {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    const GgmlTypeTraits* t = ggml_type_traits(type);
    const uint64_t size = bytes ? *bytes : t ? n / t->block_size * t->type_size : 0;
    const uint64_t at = offset ? *offset : data_end_;
    tensors_.push_back({name, std::move(ne), type, at});
    if (!offset) data_end_ = (at + size + alignment - 1) / alignment * alignment;
  }

  Bytes build() const {
    Bytes b = {'G', 'G', 'U', 'F'};
    append(b, pod(version));
    append(b, pod(tensor_count_override.value_or(tensors_.size())));
    append(b, pod(kv_count_override.value_or(kvs_.size())));
    for (const Kv& k : kvs_) {
      append(b, string_bytes(k.key));
      append(b, pod(k.type));
      append(b, k.value);
    }
    for (const Tensor& t : tensors_) {
      append(b, string_bytes(t.name));
      append(b, pod(uint32_t(t.ne.size())));
      for (uint64_t d : t.ne) append(b, pod(d));
      append(b, pod(t.type));
      append(b, pod(t.offset));
    }
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    b.resize(b.size() + data_end_, 0);
    return b;
  }

  template <typename T>
  static Bytes pod(T v) {
    Bytes b(sizeof v);
    std::memcpy(b.data(), &v, sizeof v);
    return b;
  }
  static Bytes string_bytes(const std::string& s) {
    Bytes b = pod(uint64_t(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return b;
  }
  static void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

 private:
  struct Kv {
    std::string key;
    uint32_t type;
    Bytes value;
  };
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    uint64_t offset;
  };
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
  uint64_t data_end_ = 0;
};

// The message of the lmac::Error that parsing `bytes` throws ("" if none).
std::string parse_error(const Bytes& bytes) {
  try {
    parse_gguf(bytes, "test.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// --- the real file ---

TEST(GgufFormatTest, ReadsAFileWrittenByTheGgufPackage) {
  auto file = GgufFile::open(kData + "tiny-gpt2.gguf");
  const GgufHeader& h = file->header();
  EXPECT_EQ(h.version, 3u);
  EXPECT_EQ(h.alignment, 32u);
  EXPECT_EQ(h.data_offset % 32, 0u);
  EXPECT_EQ(h.require_string("general.architecture"), "llama");
  EXPECT_EQ(h.require_int("llama.block_count"), 1);
  EXPECT_EQ(h.require_int("llama.embedding_length"), 256);
  EXPECT_FLOAT_EQ(float(h.require_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(h.require_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(h.require_string_array("tokenizer.ggml.tokens").size(), 262u);
  EXPECT_EQ(h.require_string_array("tokenizer.ggml.tokens")[0], "<|endoftext|>");
  const GgufValue* types = h.find("tokenizer.ggml.token_type");
  if (types) {
    EXPECT_EQ(types->count, 262u);
  }
  EXPECT_EQ(h.tensors.size(), 9u + 2);
  const GgufTensorInfo* embed = h.find_tensor("token_embd.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->type, GgmlType::q8_0);
  EXPECT_EQ(embed->ne, (std::vector<int64_t>{256, 262}));
  EXPECT_EQ(embed->size, 262u * 8 * 34);
  const GgufTensorInfo* q = h.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::q4_k);
  EXPECT_EQ(q->data, file->bytes().data() + h.data_offset + q->offset);
  // The last tensor ends inside the file.
  for (const GgufTensorInfo& t : h.tensors) EXPECT_LE(t.data + t.size, file->bytes().data() + file->bytes().size());
}

TEST(GgufFormatTest, Version2IsAcceptedToo) {
  Bytes b = read_file(kData + "tiny-spm.gguf");
  b[4] = 2;  // v2 and v3 differ only in that v3 may be big-endian
  EXPECT_EQ(parse_gguf(b, "v2.gguf").version, 2u);
}

TEST(GgufFormatTest, EveryValueTypeParses) {
  GgufBuilder g;
  g.kv("u8", GgufValueType::u8, {200});
  g.kv("i8", GgufValueType::i8, {0xFE});
  g.kv("u16", GgufValueType::u16, GgufBuilder::pod(uint16_t(60000)));
  g.kv("i16", GgufValueType::i16, GgufBuilder::pod(int16_t(-300)));
  g.u32("u32", 4000000000u);
  g.kv("i32", GgufValueType::i32, GgufBuilder::pod(int32_t(-7)));
  g.kv("u64", GgufValueType::u64, GgufBuilder::pod(uint64_t(1) << 40));
  g.kv("i64", GgufValueType::i64, GgufBuilder::pod(int64_t(-5)));
  g.f32("f32", 0.5f);
  g.kv("f64", GgufValueType::f64, GgufBuilder::pod(2.25));
  g.kv("bool", GgufValueType::boolean, {1});
  g.str("string", "héllo");
  // An array of two arrays of int16.
  Bytes nested = GgufBuilder::pod(uint32_t(GgufValueType::array));
  GgufBuilder::append(nested, GgufBuilder::pod(uint64_t(2)));
  for (int16_t first : {int16_t(1), int16_t(3)}) {
    GgufBuilder::append(nested, GgufBuilder::pod(uint32_t(GgufValueType::i16)));
    GgufBuilder::append(nested, GgufBuilder::pod(uint64_t(2)));
    GgufBuilder::append(nested, GgufBuilder::pod(first));
    GgufBuilder::append(nested, GgufBuilder::pod(int16_t(first + 1)));
  }
  g.kv("nested", GgufValueType::array, nested);
  Bytes floats = GgufBuilder::pod(uint32_t(GgufValueType::f32));
  GgufBuilder::append(floats, GgufBuilder::pod(uint64_t(3)));
  for (float f : {0.25f, -1.0f, 8.0f}) GgufBuilder::append(floats, GgufBuilder::pod(f));
  g.kv("floats", GgufValueType::array, floats);
  const GgufHeader h = parse_gguf(g.build(), "t.gguf");
  EXPECT_EQ(h.require_int("u8"), 200);
  EXPECT_EQ(h.require_int("i8"), -2);
  EXPECT_EQ(h.require_int("u16"), 60000);
  EXPECT_EQ(h.require_int("i16"), -300);
  EXPECT_EQ(h.require_int("u32"), 4000000000LL);
  EXPECT_EQ(h.require_int("i32"), -7);
  EXPECT_EQ(h.require_int("u64"), int64_t(1) << 40);
  EXPECT_EQ(h.require_int("i64"), -5);
  EXPECT_EQ(h.require_float("f32"), 0.5);
  EXPECT_EQ(h.require_float("f64"), 2.25);
  EXPECT_EQ(h.get_bool("bool"), true);
  EXPECT_EQ(h.require_string("string"), "héllo");
  const GgufValue* n = h.find("nested");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->type_name(), "array of array");
  ASSERT_EQ(n->arrays.size(), 2u);
  EXPECT_EQ(n->arrays[1].type_name(), "array of int16");
  EXPECT_EQ(n->arrays[1].integer_at(1), 4);
  EXPECT_EQ(n->arrays[0].integer_at(0), 1);
  const GgufValue* f = h.find("floats");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->count, 3u);
  EXPECT_EQ(f->real_at(1), -1.0);
  EXPECT_EQ(f->real_at(2), 8.0);
  EXPECT_EQ(h.keys.front(), "u8");
  EXPECT_TRUE(h.tensors.empty());
}

TEST(GgufFormatTest, AlignmentFromMetadataPlacesTheData) {
  GgufBuilder g;
  g.alignment = 64;
  g.u32("general.alignment", 64);
  g.tensor("a", {32}, 0);  // 128 bytes
  g.tensor("b", {64, 2}, 8);
  const Bytes bytes = g.build();
  const GgufHeader h = parse_gguf(bytes, "t.gguf");
  EXPECT_EQ(h.alignment, 64u);
  EXPECT_EQ(h.data_offset % 64, 0u);
  EXPECT_EQ(h.find_tensor("b")->offset, 128u);
  EXPECT_EQ(h.find_tensor("b")->size, 2u * 2 * 34);
  EXPECT_EQ(h.find_tensor("b")->data, bytes.data() + h.data_offset + 128);
}

// --- damage, one message each ---

TEST(GgufFormatTest, BadMagic) {
  Bytes b = read_file(kData + "tiny-gpt2.gguf");
  b[0] = 'X';
  EXPECT_CONTAINS(parse_error(b), "not a GGUF file: the magic is '58475546'");
  EXPECT_CONTAINS(parse_error(Bytes{}), "not a GGUF file");
  try {
    parse_gguf(b, "x.gguf");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::bad_model);
    EXPECT_CONTAINS(e.what(), "x.gguf");
  }
}

TEST(GgufFormatTest, UnsupportedVersions) {
  GgufBuilder g;
  g.version = 1;
  EXPECT_CONTAINS(parse_error(g.build()), "GGUF version 1 is not supported (only versions 2 and 3)");
  g.version = 4;
  EXPECT_CONTAINS(parse_error(g.build()), "GGUF version 4 is not supported");
  g.version = 0x03000000;  // a big-endian v3 file read little-endian
  EXPECT_CONTAINS(parse_error(g.build()), "big-endian GGUF");
  try {
    g.version = 7;
    parse_gguf(g.build(), "t.gguf");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
  }
}

TEST(GgufFormatTest, EveryTruncationOfTheHeaderIsAnError) {
  const Bytes whole = read_file(kData + "tiny-spm.gguf");
  const uint64_t data_offset = parse_gguf(whole, "t.gguf").data_offset;
  for (size_t n = 0; n < data_offset; ++n) {
    const std::string message = parse_error(Bytes(whole.begin(), whole.begin() + n));
    ASSERT_FALSE(message.empty()) << "prefix of " << n << " bytes parsed";
    if (n >= 4) {
      ASSERT_TRUE(message.find("truncated") != std::string::npos || message.find("past the end") != std::string::npos)
          << n << ": " << message;
    }
  }
  // Cut inside the tensor data: the last tensor no longer fits.
  const std::string message = parse_error(Bytes(whole.begin(), whole.end() - 100));
  EXPECT_CONTAINS(message, "runs past the end of the file");
  EXPECT_CONTAINS(message, "output.weight");  // the last tensor the gguf package writes for tiny-spm
}

TEST(GgufFormatTest, TensorOffsetPastTheEnd) {
  GgufBuilder g;
  g.tensor("a", {32}, 0);
  g.tensor("far", {32}, 0, uint64_t(1) << 20, 0);  // no data reserved for it
  EXPECT_CONTAINS(parse_error(g.build()),
                  "tensor far (128 bytes at data offset 1048576) runs past the end of the file");
  GgufBuilder huge;
  huge.tensor("wrap", {32}, 0, ~uint64_t(0) - 31, 0);  // offset + size overflows 64 bits
  EXPECT_CONTAINS(parse_error(huge.build()), "tensor wrap");
}

TEST(GgufFormatTest, MisalignedOffset) {
  GgufBuilder g;
  g.tensor("a", {32}, 0, 8);
  EXPECT_CONTAINS(parse_error(g.build()), "tensor a has data offset 8, not a multiple of the alignment 32");
}

TEST(GgufFormatTest, UnknownTensorType) {
  GgufBuilder g;
  g.tensor("w", {32}, 99, 0, 128);
  EXPECT_CONTAINS(parse_error(g.build()), "tensor w has unknown tensor type 99");
  GgufBuilder removed;
  removed.tensor("w", {32}, 4, 0, 128);  // Q4_2, removed from ggml
  EXPECT_CONTAINS(parse_error(removed.build()), "tensor w has unknown tensor type 4");
}

TEST(GgufFormatTest, KnownButUnsupportedTypeIsNamedWhenUsed) {
  GgufBuilder g;
  g.tensor("w", {256, 2}, uint32_t(GgmlType::q2_k));
  const Bytes bytes = g.build();
  const GgufHeader h = parse_gguf(bytes, "t.gguf");  // parsing is fine: the type is known
  EXPECT_EQ(h.find_tensor("w")->size, 2u * 84);
  std::vector<float> out(256);
  try {
    dequantize_row(h.find_tensor("w")->type, h.find_tensor("w")->data, out.data(), 256);
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "Q2_K");
  }
}

TEST(GgufFormatTest, AbsurdCounts) {
  GgufBuilder tensors;
  tensors.tensor_count_override = uint64_t(1) << 60;
  EXPECT_CONTAINS(parse_error(tensors.build()), "tensor count is 1152921504606846976, more than the");
  GgufBuilder kvs;
  kvs.kv_count_override = uint64_t(1) << 60;
  EXPECT_CONTAINS(parse_error(kvs.build()), "metadata key/value count is 1152921504606846976");
  GgufBuilder array;
  Bytes a = GgufBuilder::pod(uint32_t(GgufValueType::u32));
  GgufBuilder::append(a, GgufBuilder::pod(uint64_t(1) << 60));
  array.kv("big", GgufValueType::array, a);
  EXPECT_CONTAINS(parse_error(array.build()), "metadata big element count is 1152921504606846976");
  GgufBuilder key;
  key.kv("k", GgufValueType::string, GgufBuilder::pod(uint64_t(1) << 62));  // a string longer than the file
  EXPECT_CONTAINS(parse_error(key.build()), "metadata k has length 4611686018427387904");
}

TEST(GgufFormatTest, BadShapes) {
  GgufBuilder dims;
  dims.tensor("w", {2, 2, 2, 2, 2}, 0);
  EXPECT_CONTAINS(parse_error(dims.build()), "tensor w has 5 dimensions (1 to 4 allowed)");
  GgufBuilder block;
  block.tensor("w", {48, 2}, uint32_t(GgmlType::q8_0), 0, 0);
  EXPECT_CONTAINS(parse_error(block.build()), "rows of 48 elements, not a multiple of its block size 32");
  GgufBuilder overflow;
  overflow.tensor("w", {uint64_t(1) << 40, uint64_t(1) << 40}, 0, 0, 0);
  EXPECT_CONTAINS(parse_error(overflow.build()), "which is zero or overflows");
}

TEST(GgufFormatTest, WrongMetadataValueTypes) {
  GgufBuilder align;
  align.str("general.alignment", "32");
  EXPECT_CONTAINS(parse_error(align.build()), "general.alignment has type string, expected uint32");
  GgufBuilder odd;
  odd.u32("general.alignment", 24);
  EXPECT_CONTAINS(parse_error(odd.build()), "general.alignment is 24, not a power of two");
  GgufBuilder unknown;
  unknown.kv_raw_type("k", 13, {0});
  EXPECT_CONTAINS(parse_error(unknown.build()), "metadata k has unknown value type 13");
  GgufBuilder boolean;
  boolean.kv("b", GgufValueType::boolean, {7});
  EXPECT_CONTAINS(parse_error(boolean.build()), "metadata b is a bool with byte value 7");
  GgufBuilder twice;
  twice.u32("a", 1);
  twice.kv_raw_type("a", uint32_t(GgufValueType::u32), GgufBuilder::pod(uint32_t(2)));
  EXPECT_CONTAINS(parse_error(twice.build()), "metadata key a appears twice");
  GgufBuilder dup;
  dup.tensor("t", {32}, 0);
  dup.tensor("t", {32}, 0);
  EXPECT_CONTAINS(parse_error(dup.build()), "tensor t appears twice");
  // Typed reads name the key and both types.
  GgufBuilder g;
  g.str("llama.block_count", "two");
  const GgufHeader h = parse_gguf(g.build(), "t.gguf");
  try {
    h.require_int("llama.block_count");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "t.gguf: metadata llama.block_count has type string, expected an integer");
  }
  EXPECT_THROW(h.require_float("llama.block_count"), Error);
  EXPECT_THROW(h.require_string_array("llama.block_count"), Error);
  EXPECT_THROW(h.require_int("missing.key"), Error);
}

// --- the Llama metadata ---

// SmolLM2-135M's metadata, shrunk: the keys and types llama.cpp's converter writes.
GgufBuilder llama_metadata(const std::string& tokenizer = "gpt2") {
  GgufBuilder g;
  g.str("general.architecture", "llama");
  g.u32("llama.context_length", 8192);
  g.u32("llama.embedding_length", 576);
  g.u32("llama.block_count", 30);
  g.u32("llama.feed_forward_length", 1536);
  g.u32("llama.attention.head_count", 9);
  g.u32("llama.attention.head_count_kv", 3);
  g.f32("llama.rope.freq_base", 100000.0f);
  g.f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  g.u32("llama.vocab_size", 300);
  g.u32("llama.rope.dimension_count", 64);
  g.str("tokenizer.ggml.model", tokenizer);
  std::vector<std::string> tokens;
  for (int i = 0; i < 300; ++i) tokens.push_back("t" + std::to_string(i));
  g.str_array("tokenizer.ggml.tokens", tokens);
  g.u32("tokenizer.ggml.bos_token_id", 1);
  g.u32("tokenizer.ggml.eos_token_id", 2);
  return g;
}

std::string config_error(const GgufBuilder& g) {
  try {
    gguf_llama_config(parse_gguf(g.build(), "m.gguf"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufLlamaConfigTest, ReadsTheHyperparameters) {
  const Bytes bytes = llama_metadata().build();
  const LlamaConfig c = gguf_llama_config(parse_gguf(bytes, "m.gguf"));
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_attention_heads, 9);
  EXPECT_EQ(c.num_key_value_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 300);
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_EQ(c.rope.theta, 100000.0);
  EXPECT_EQ(c.rope.type, "default");
  EXPECT_FLOAT_EQ(float(c.rms_norm_eps), 1e-5f);
  EXPECT_TRUE(c.tie_word_embeddings);  // no output.weight
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
}

TEST(GgufLlamaConfigTest, DefaultsAndLinearScaling) {
  GgufBuilder g = llama_metadata();
  g.remove("llama.attention.head_count_kv");
  g.remove("llama.vocab_size");
  g.remove("llama.rope.freq_base");
  g.str("llama.rope.scaling.type", "linear");
  g.f32("llama.rope.scaling.factor", 4.0f);
  const Bytes bytes = g.build();
  const LlamaConfig c = gguf_llama_config(parse_gguf(bytes, "m.gguf"));
  EXPECT_EQ(c.num_key_value_heads, 9);
  EXPECT_EQ(c.vocab_size, 300);  // the tokenizer's length
  EXPECT_EQ(c.rope.theta, 10000.0);
  EXPECT_EQ(c.rope.type, "linear");
  EXPECT_EQ(c.rope.factor, 4.0);
}

TEST(GgufLlamaConfigTest, ArchitectureOtherThanLlama) {
  GgufBuilder g = llama_metadata();
  g.str("general.architecture", "falcon");
  EXPECT_CONTAINS(config_error(g), "m.gguf: general.architecture is 'falcon'; lmac reads only 'llama' GGUF models");
  g.remove("general.architecture");
  EXPECT_CONTAINS(config_error(g), "metadata general.architecture is missing");
}

TEST(GgufLlamaConfigTest, MissingAndMistypedKeysAreNamed) {
  for (const char* key : {"llama.context_length", "llama.embedding_length", "llama.block_count",
                          "llama.feed_forward_length", "llama.attention.head_count",
                          "llama.attention.layer_norm_rms_epsilon"}) {
    GgufBuilder g = llama_metadata();
    g.remove(key);
    EXPECT_CONTAINS(config_error(g), std::string("metadata ") + key + " is missing");
  }
  GgufBuilder s = llama_metadata();
  s.str("llama.block_count", "30");
  EXPECT_CONTAINS(config_error(s), "metadata llama.block_count has type string, expected an integer");
  GgufBuilder f = llama_metadata();
  f.u32("llama.attention.layer_norm_rms_epsilon", 1);
  EXPECT_CONTAINS(config_error(f), "metadata llama.attention.layer_norm_rms_epsilon has type uint32, expected float32");
  GgufBuilder a = llama_metadata();
  Bytes per_layer = GgufBuilder::pod(uint32_t(GgufValueType::u32));
  GgufBuilder::append(per_layer, GgufBuilder::pod(uint64_t(1)));
  GgufBuilder::append(per_layer, GgufBuilder::pod(uint32_t(3)));
  a.kv("llama.attention.head_count_kv", GgufValueType::array, per_layer);
  EXPECT_CONTAINS(config_error(a), "llama.attention.head_count_kv has type array of uint32, expected an integer");
  GgufBuilder zero = llama_metadata();
  zero.u32("llama.block_count", 0);
  EXPECT_CONTAINS(config_error(zero), "llama.block_count is 0, expected a positive 32-bit integer");
}

TEST(GgufLlamaConfigTest, UnsupportedFeaturesAreNamed) {
  GgufBuilder yarn = llama_metadata();
  yarn.str("llama.rope.scaling.type", "yarn");
  EXPECT_CONTAINS(config_error(yarn), "llama.rope.scaling.type 'yarn' is not supported");
  GgufBuilder partial = llama_metadata();
  partial.u32("llama.rope.dimension_count", 32);
  EXPECT_CONTAINS(config_error(partial), "llama.rope.dimension_count is 32 but the head size is 64");
  GgufBuilder moe = llama_metadata();
  moe.u32("llama.expert_count", 8);
  EXPECT_CONTAINS(config_error(moe), "llama.expert_count is 8");
  GgufBuilder heads = llama_metadata();
  heads.u32("llama.attention.head_count_kv", 4);
  EXPECT_CONTAINS(config_error(heads), "head_count 9 is not a multiple of head_count_kv 4");
}

std::string vocab_error(const GgufBuilder& g) {
  try {
    gguf_tokenizer_vocab(parse_gguf(g.build(), "m.gguf"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufVocabTest, TokensAndSpecialIds) {
  const Bytes bytes = llama_metadata("llama").build();
  const GgufVocab v = gguf_tokenizer_vocab(parse_gguf(bytes, "m.gguf"));
  EXPECT_EQ(v.model, "llama");
  EXPECT_EQ(v.size, 300);
  EXPECT_EQ(v.vocab.find("t7"), 7);
  EXPECT_EQ(v.vocab.bos_id, 1);
  EXPECT_EQ(v.vocab.bos_origin, "tokenizer.ggml.bos_token_id");
  EXPECT_EQ(v.vocab.eos_id, 2);
  GgufBuilder unknown = llama_metadata("bert");
  EXPECT_CONTAINS(vocab_error(unknown), "tokenizer.ggml.model 'bert' is not supported (llama or gpt2)");
  GgufBuilder outside = llama_metadata();
  outside.u32("tokenizer.ggml.bos_token_id", 300);
  EXPECT_CONTAINS(vocab_error(outside), "tokenizer.ggml.bos_token_id is 300, outside the 300 tokens");
  GgufBuilder ints = llama_metadata();
  Bytes a = GgufBuilder::pod(uint32_t(GgufValueType::i32));
  GgufBuilder::append(a, GgufBuilder::pod(uint64_t(1)));
  GgufBuilder::append(a, GgufBuilder::pod(int32_t(0)));
  ints.kv("tokenizer.ggml.tokens", GgufValueType::array, a);
  EXPECT_CONTAINS(vocab_error(ints), "tokenizer.ggml.tokens has type array of int32, expected array of string");
}

}  // namespace
}  // namespace lmac
