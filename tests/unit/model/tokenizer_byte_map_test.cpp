// Byte-token maps from tokenizer.json (byte fallback and byte-level BPE) and tokenizer.model, checked against the
// ids the `tokenizers` and `sentencepiece` Python packages report (tests/data/llama/expected.json).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llama_test_support.hpp"
#include "model/byte_map.hpp"
#include "model/tokenizer_vocab.hpp"

namespace lmac {
namespace {

using namespace llama_test;
using ::testing::HasSubstr;

std::vector<int> expected_tokens(const char* model, const char* mapping) {
  return expected()[model][mapping].get<std::vector<int>>();
}

TEST(TokenizerByteMap, ByteFallbackFromTokenizerJson) {
  TokenizerVocab v = load_tokenizer((data_dir() / "tiny-llama2").string());
  EXPECT_EQ(v.source, "tokenizer.json");
  ByteTokenMap m = build_byte_token_map(v, ByteMapping::bytes);
  EXPECT_EQ(m.vocab_kind, "byte-fallback <0xNN>");
  EXPECT_EQ(m.tokens, expected_tokens("tiny-llama2", "bytes"));
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::piece).tokens, expected_tokens("tiny-llama2", "piece"));
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::ascii).tokens, expected_tokens("tiny-llama2", "ascii"));
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
}

TEST(TokenizerByteMap, ByteFallbackFromSentencePieceModel) {
  TokenizerVocab v = load_sentencepiece_model((data_dir() / "tiny-llama2" / "tokenizer.model").string());
  EXPECT_EQ(v.source, "tokenizer.model");
  EXPECT_EQ(v.bos_origin, "tokenizer.model bos_id");
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::bytes).tokens, expected_tokens("tiny-llama2", "bytes"));
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::piece).tokens, expected_tokens("tiny-llama2", "piece"));
  // `piece` really differs from `bytes` for printable ASCII (the fixture's vocabulary has character pieces).
  EXPECT_NE(expected_tokens("tiny-llama2", "piece"), expected_tokens("tiny-llama2", "bytes"));
}

TEST(TokenizerByteMap, ByteLevelBpeUsesTheGpt2Table) {
  TokenizerVocab v = load_tokenizer((data_dir() / "tiny-llama3").string());
  ByteTokenMap m = build_byte_token_map(v, ByteMapping::bytes);
  EXPECT_EQ(m.vocab_kind, "byte-level BPE");
  EXPECT_EQ(m.tokens, expected_tokens("tiny-llama3", "bytes"));
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::piece).tokens, m.tokens);
  EXPECT_EQ(build_byte_token_map(v, ByteMapping::ascii).tokens, expected_tokens("tiny-llama3", "ascii"));
  // Spot checks of the table itself: 'A' is itself, space is U+0120 "Ġ", 0x00 is U+0100 "Ā", 0xAD is U+0143.
  EXPECT_EQ(gpt2_byte_to_unicode()['A'], "A");
  EXPECT_EQ(gpt2_byte_to_unicode()[' '], "\xC4\xA0");
  EXPECT_EQ(gpt2_byte_to_unicode()[0], "\xC4\x80");
  EXPECT_EQ(gpt2_byte_to_unicode()[0xAD], "\xC5\x83");
}

TEST(TokenizerByteMap, VocabularyWithoutByteTokensIsRefused) {
  TokenizerVocab v = parse_tokenizer_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}})",
                                          "dir/tokenizer.json");
  EXPECT_THAT(error_of([&] { build_byte_token_map(v, ByteMapping::bytes); }),
              HasSubstr("tokenizer.json: the vocabulary has no complete set of byte tokens: byte-fallback piece "
                        "'<0x00>' is missing"));
  // Unigram vocabularies list pieces with scores; ids are positions.
  v = parse_tokenizer_json(R"({"model": {"type": "Unigram", "vocab": [["<unk>", 0], ["x", -1.5]]}})", "t.json");
  EXPECT_EQ(v.find("x"), 1);
  EXPECT_THAT(error_of([] { parse_tokenizer_json("{", "dir/tokenizer.json"); }),
              HasSubstr("dir/tokenizer.json: not valid JSON"));
}

TEST(TokenizerByteMap, MissingTokenizerIsNamed) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  fs::remove(dir / "tokenizer.json");
  EXPECT_THAT(error_of([&] { load_tokenizer(dir.string()); }), HasSubstr("no tokenizer.json or tokenizer.model"));
  write_text(dir / "tokenizer.model", "not a model");
  EXPECT_THAT(error_of([&] { load_tokenizer(dir.string()); }), HasSubstr("not a readable SentencePiece model"));
}

TEST(TokenizerByteMap, TokenizerConfigNamesBos) {
  ScratchDir scratch;
  fs::path dir = copy_fixture(scratch, "tiny-llama3");
  write_text(dir / "tokenizer_config.json", R"({"bos_token": {"content": "<|end_of_text|>"}})");
  TokenizerVocab v = load_tokenizer(dir.string());
  EXPECT_EQ(v.bos_id, expected()["tiny-llama3"]["eos"].get<int>());
  EXPECT_EQ(v.bos_origin, "tokenizer_config.json bos_token '<|end_of_text|>'");
  write_text(dir / "tokenizer_config.json", R"({"bos_token": "<nope>"})");
  EXPECT_THAT(error_of([&] { load_tokenizer(dir.string()); }), HasSubstr("bos_token '<nope>' is not in"));
}

}  // namespace
}  // namespace lmac
