// What a GGUF file's metadata says about a Llama model: the hyperparameters (llama.* keys) as a LlamaConfig, and
// the vocabulary (tokenizer.ggml.* keys) as a TokenizerVocab, so the rest of lmac treats a GGUF model like a
// Hugging Face directory. Every missing, mistyped or unsupported key is an error naming the file and the key.
#pragma once

#include <string>

#include "model/gguf_format.hpp"
#include "model/hf_config.hpp"
#include "model/tokenizer_vocab.hpp"

namespace lmac {

// general.architecture must be `llama`. Read: llama.context_length, embedding_length, block_count,
// feed_forward_length, attention.head_count, attention.head_count_kv (default: head_count),
// attention.layer_norm_rms_epsilon, attention.key_length / value_length (default: embedding / heads),
// rope.freq_base (default 10000), rope.dimension_count (must equal the head size), rope.scaling.type
// (none or linear) with rope.scaling.factor or the older rope.scale_linear, vocab_size (default: the number of
// tokenizer.ggml.tokens), and the BOS / EOS token ids. tie_word_embeddings is true when output.weight is absent.
LlamaConfig gguf_llama_config(const GgufHeader& header);

// tokenizer.ggml.model (`llama`: SentencePiece with <0xNN> byte tokens; `gpt2`: byte-level BPE), the token list,
// and tokenizer.ggml.bos_token_id / eos_token_id when present.
struct GgufVocab {
  TokenizerVocab vocab;
  std::string model;  // tokenizer.ggml.model
  int size = 0;       // number of tokens
};
GgufVocab gguf_tokenizer_vocab(const GgufHeader& header);

}  // namespace lmac
