// The parts of a Hugging Face tokenizer that lmac needs: which token id each piece has, and which tokens
// the tokenizer declares as BOS and end of text. Text is never tokenized: audio bytes map to byte tokens
// one to one (byte_map.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lmac {

struct TokenizerVocab {
  std::string source;                       // file name it was read from: "tokenizer.json" or "tokenizer.model"
  std::unordered_map<std::string, int> ids;  // piece -> id, special and added tokens included
  std::optional<int> bos_id;                // the tokenizer's own BOS, when it declares one
  std::string bos_origin;                   // e.g. "tokenizer_config.json bos_token" or "tokenizer.model bos_id"
  std::optional<int> eos_id;                // the tokenizer's end-of-text token, when known
  std::string eos_origin;

  std::optional<int> find(const std::string& piece) const {
    auto it = ids.find(piece);
    return it == ids.end() ? std::nullopt : std::optional<int>(it->second);
  }
};

// tokenizer.json (the `tokenizers` library format): model.vocab (BPE: {piece: id}; Unigram: [[piece, score]])
// plus added_tokens. `file` names it in messages.
TokenizerVocab parse_tokenizer_json(std::string_view text, const std::string& file);

// tokenizer.model, a SentencePiece model, read through libsentencepiece.
TokenizerVocab load_sentencepiece_model(const std::string& path);

// DIR/tokenizer.json if present, else DIR/tokenizer.model. A tokenizer_config.json beside it may name the BOS
// and EOS tokens (`bos_token`, `eos_token`), which then take precedence over the guesses of the readers above.
TokenizerVocab load_tokenizer(const std::string& dir);

}  // namespace lmac
