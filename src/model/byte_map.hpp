// How audio bytes become Llama tokens (DESIGN.md section 2, "Bytes to tokens"). Each symbol maps to exactly one
// token, so a byte sequence is a token sequence of the same length and no text tokenization is involved.
//
//   bytes  symbol b (0..255) -> the tokenizer's byte token for b: the byte-fallback piece `<0xNN>` of
//          SentencePiece vocabularies (Llama 1/2, Mistral), or the byte-level BPE token of b, i.e. the
//          character the GPT-2 byte-to-unicode table assigns to b (Llama 3, SmolLM2).
//   piece  symbol b (0..255) -> for SentencePiece vocabularies, the single-character piece of b when b is an ASCII
//          byte whose character is a piece of the vocabulary (a space is SentencePiece's "▁", U+2581);
//          otherwise the byte token as under `bytes`. For byte-level BPE vocabularies each byte token already is
//          its single-character piece, so `piece` equals `bytes` there.
//   ascii  symbol s (0..127) is the byte b >> 1 (the reference code's right_shift_bytes_by_one mask; the caller
//          shifts and keeps the dropped bits) -> the token of the ASCII character s, chosen as under `piece`:
//          the reference tokenizes ASCII text, where a printable character becomes its character piece and not
//          its byte-fallback piece.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "model/tokenizer_vocab.hpp"

namespace lmac {

enum class ByteMapping { bytes, piece, ascii };

// "bytes", "piece" or "ascii"; anything else is a usage error naming --byte_mapping.
ByteMapping parse_byte_mapping(const std::string& name);
const char* byte_mapping_name(ByteMapping mapping);

struct ByteTokenMap {
  std::vector<int> tokens;  // token id of each symbol: 256 entries, 128 under `ascii`
  std::string vocab_kind;   // "byte-fallback <0xNN>" or "byte-level BPE", naming any stand-ins
  bool byte_level = false;  // GPT-2 byte-level BPE tokens, rather than SentencePiece <0xNN> pieces
  std::vector<int> stand_in_bytes;  // bytes without a token of their own (byte-level BPE only)
};

// GPT-2's reversible byte -> unicode table, each character as UTF-8.
const std::array<std::string, 256>& gpt2_byte_to_unicode();

// Builds the map; throws naming the tokenizer file when the vocabulary lacks the byte tokens.
ByteTokenMap build_byte_token_map(const TokenizerVocab& vocab, ByteMapping mapping);

}  // namespace lmac
