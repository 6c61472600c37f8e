#include "model/byte_map.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.hpp"

namespace lmac {

ByteMapping parse_byte_mapping(const std::string& name) {
  if (name == "bytes") return ByteMapping::bytes;
  if (name == "piece") return ByteMapping::piece;
  if (name == "ascii") return ByteMapping::ascii;
  throw_error(ErrorCode::usage, "--byte_mapping: '{}' is not one of bytes, piece, ascii", name);
}

const char* byte_mapping_name(ByteMapping mapping) {
  switch (mapping) {
    case ByteMapping::bytes: return "bytes";
    case ByteMapping::piece: return "piece";
    case ByteMapping::ascii: return "ascii";
  }
  return "?";
}

static std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

const std::array<std::string, 256>& gpt2_byte_to_unicode() {
  // Printable Latin-1 bytes stand for themselves; the other 68 bytes take code points 256, 257, ... in byte order.
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = utf8(printable ? b : next++);
    }
    return t;
  }();
  return table;
}

static std::string fallback_piece(int b) { return fmt::format("<0x{:02X}>", b); }

// Byte-level BPE vocabularies built from UTF-8 text may lack tokens for bytes that never occur in UTF-8
// (SmolLM2 has none for 21 of them). The k-th such byte (in byte order) gets a stand-in: the token numbered
// vocab_size - 1 - k, a rare token at the top of the vocabulary. The model then gives that byte a low but non-zero probability, so
// every byte stays codable; the map records which bytes have stand-ins. Fewer than half the byte tokens present
// means the vocabulary is not byte-level at all, which is an error.
static constexpr int kMinByteLevelTokens = 128;

ByteTokenMap build_byte_token_map(const TokenizerVocab& vocab, ByteMapping mapping) {
  // Which kind of byte tokens does the vocabulary have? All 256 byte-fallback pieces, or byte-level BPE tokens.
  int missing_fallback = -1;
  std::vector<int> missing_level;
  for (int b = 0; b < 256; ++b) {
    if (missing_fallback < 0 && !vocab.find(fallback_piece(b))) missing_fallback = b;
    if (!vocab.find(gpt2_byte_to_unicode()[b])) missing_level.push_back(b);
  }
  ByteTokenMap map;
  bool sentencepiece;
  if (missing_fallback < 0) {
    map.vocab_kind = "byte-fallback <0xNN>";
    sentencepiece = true;
  } else if (256 - static_cast<int>(missing_level.size()) >= kMinByteLevelTokens) {
    map.vocab_kind = "byte-level BPE";
    map.byte_level = true;
    sentencepiece = false;
    map.stand_in_bytes = missing_level;
    if (!missing_level.empty()) {
      map.vocab_kind += fmt::format(" ({} bytes absent from the vocabulary use stand-in tokens vocab_size-1-k: {})",
                                    missing_level.size(), fmt::join(missing_level, ","));
    }
  } else {
    throw_error(ErrorCode::bad_model,
                "{}: the vocabulary has no complete set of byte tokens: byte-fallback piece '{}' is missing, and "
                "only {} of the 256 byte-level BPE tokens exist; lmac needs one token per byte value",
                vocab.source, fallback_piece(missing_fallback), 256 - missing_level.size());
  }
  int vocab_size = 0;
  for (const auto& [piece, id] : vocab.ids) vocab_size = std::max(vocab_size, id + 1);

  auto byte_token = [&](int b) {
    if (auto id = vocab.find(sentencepiece ? fallback_piece(b) : gpt2_byte_to_unicode()[b])) return *id;
    const auto k = std::find(map.stand_in_bytes.begin(), map.stand_in_bytes.end(), b) - map.stand_in_bytes.begin();
    return vocab_size - 1 - static_cast<int>(k);  // a stand-in, see above
  };
  auto piece_token = [&](int b) {
    if (sentencepiece && b < 128) {
      std::string piece = b == ' ' ? std::string("\xE2\x96\x81") : std::string(1, char(b));  // "▁" for space
      if (auto id = vocab.find(piece)) return *id;
    }
    return byte_token(b);
  };

  const int symbols = mapping == ByteMapping::ascii ? 128 : 256;
  map.tokens.resize(symbols);
  for (int s = 0; s < symbols; ++s) map.tokens[s] = mapping == ByteMapping::bytes ? byte_token(s) : piece_token(s);
  // Two symbols on one token would make their probabilities indistinguishable: refuse such a vocabulary.
  for (int s = 0; s < symbols; ++s)
    for (int r = 0; r < s; ++r)
      if (map.tokens[r] == map.tokens[s])
        throw_error(ErrorCode::bad_model, "{}: symbols {} and {} both map to token {} under --byte_mapping {}",
                    vocab.source, r, s, map.tokens[s], byte_mapping_name(mapping));
  return map;
}

}  // namespace lmac
