// Loads a Llama-family checkpoint in Hugging Face layout (config.json, model.safetensors or shards with
// model.safetensors.index.json, tokenizer.json or tokenizer.model) as a LanguageModel over audio bytes.
#pragma once

#include <memory>
#include <string>

#include "model/language_model.hpp"

namespace lmac {

struct LlamaOptions {
  std::string byte_mapping = "bytes";  // bytes | piece | ascii (model/byte_map.hpp)
  int top_k = 0;                       // 0: off (model/llama_model.hpp, apply_top_k)
  std::string weights = "stored";      // stored | q8_0: quantize the linear layers at load (engine/quant_quantize.hpp)
};

// The returned model is a LlamaModel (model/llama_model.hpp); dynamic_cast to it for incremental sessions.
// BOS: config.json bos_token_id, else the tokenizer's declared BOS, else the end-of-text token (config.json
// eos_token_id, else the tokenizer's); ModelInfo::bos_source says which.
std::unique_ptr<LanguageModel> load_llama_model(const std::string& dir, const LlamaOptions& options);

}  // namespace lmac
