// Loads a GGUF checkpoint of architecture `llama` (llama.cpp's format) as the same LlamaModel a Hugging Face
// directory gives (model/llama_model.hpp): hyperparameters and vocabulary from the metadata (model/gguf_llama.hpp),
// weights left in the mapped file in their stored type (F32, F16, BF16 or a ggml block-quantized type) and
// dequantized a tile of rows at a time inside the matmul.
//
// Layout: llama.cpp's converter permutes the rows of attn_q and attn_k within each head (the Hugging Face
// rotate_half pairing i <-> i + d/2 becomes the interleaved pairing 2i <-> 2i+1 of its RoPE). The loader copies
// those two tensors' rows back into Hugging Face order (whole quantized rows, so nothing is dequantized), and the
// Hugging Face forward applies unchanged.
//
// BOS: tokenizer.ggml.bos_token_id when defined, else tokenizer.ggml.eos_token_id (end of text);
// ModelInfo::bos_source names which.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/language_model.hpp"
#include "model/llama_loader.hpp"

namespace lmac {

// The returned model is a LlamaModel; `options` as for load_llama_model. The token of each symbol comes from
// the vocabulary under options.byte_mapping (model/byte_map.hpp), with stand-ins for the few bytes a byte-level
// BPE vocabulary may lack.
std::unique_ptr<LanguageModel> load_gguf_model(const std::string& path, const LlamaOptions& options);

}  // namespace lmac
