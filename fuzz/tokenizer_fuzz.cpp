// tokenizer.json, and the byte-token map built from it under every --byte_mapping.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/byte_map.hpp"
#include "model/tokenizer_vocab.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lmac::TokenizerVocab vocab =
        lmac::parse_tokenizer_json(std::string_view(reinterpret_cast<const char*>(data), size), "tokenizer.json");
    for (const char* mapping : {"bytes", "piece", "ascii"}) {
      try {
        (void)lmac::build_byte_token_map(vocab, lmac::parse_byte_mapping(mapping));
      } catch (const lmac::Error&) {
      }
    }
  } catch (const lmac::Error&) {
    // A precise error is the expected outcome for malformed input.
  }
  return 0;
}
