#include "model/gguf_llama.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac {

// An integer key that must be positive and fit an int.
static int positive_int(const GgufHeader& h, const std::string& key, std::optional<int64_t> value) {
  if (!value) throw_error(ErrorCode::bad_model, "{}: metadata {} is missing", h.file, key);
  if (*value <= 0 || *value > INT32_MAX)
    throw_error(ErrorCode::bad_model, "{}: metadata {} is {}, expected a positive 32-bit integer", h.file, key, *value);
  return int(*value);
}

LlamaConfig gguf_llama_config(const GgufHeader& h) {
  const std::string arch = h.require_string("general.architecture");
  if (arch != "llama")
    throw_error(ErrorCode::unsupported, "{}: general.architecture is '{}'; lmac reads only 'llama' GGUF models", h.file,
                arch);
  auto key = [](const char* k) { return std::string("llama.") + k; };
  auto required = [&](const char* k) { return positive_int(h, key(k), h.get_int(key(k))); };

  // Mixture-of-experts Llama variants (Mixtral) share the architecture name but not the forward pass.
  if (auto experts = h.get_int(key("expert_count")); experts && *experts > 0)
    throw_error(ErrorCode::unsupported, "{}: metadata llama.expert_count is {}: mixture-of-experts models are not "
                "supported", h.file, *experts);

  LlamaConfig c;
  c.max_position_embeddings = required("context_length");
  c.hidden_size = required("embedding_length");
  c.num_hidden_layers = required("block_count");
  c.intermediate_size = required("feed_forward_length");
  c.num_attention_heads = required("attention.head_count");
  c.num_key_value_heads = h.find(key("attention.head_count_kv")) ? required("attention.head_count_kv")
                                                                  : c.num_attention_heads;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw_error(ErrorCode::bad_model, "{}: llama.attention.head_count {} is not a multiple of head_count_kv {}", h.file,
                c.num_attention_heads, c.num_key_value_heads);
  c.rms_norm_eps = h.require_float(key("attention.layer_norm_rms_epsilon"));
  if (!(c.rms_norm_eps > 0))
    throw_error(ErrorCode::bad_model, "{}: llama.attention.layer_norm_rms_epsilon is {}, expected > 0", h.file,
                c.rms_norm_eps);

  // Head size: llama.cpp's key_length when given, else embedding / heads, which must then divide evenly.
  if (h.find(key("attention.key_length"))) {
    c.head_dim = required("attention.key_length");
    if (h.find(key("attention.value_length")) && required("attention.value_length") != c.head_dim)
      throw_error(ErrorCode::unsupported, "{}: llama.attention.value_length {} differs from key_length {}", h.file,
                  required("attention.value_length"), c.head_dim);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw_error(ErrorCode::bad_model, "{}: llama.embedding_length {} is not a multiple of attention.head_count {}",
                  h.file, c.hidden_size, c.num_attention_heads);
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0)
    throw_error(ErrorCode::bad_model, "{}: the attention head size {} is odd; rotary embeddings need an even size",
                h.file, c.head_dim);

  // RoPE: theta, the rotated dimensions (partial rotation is not supported), and scaling.
  c.rope.theta = h.get_float(key("rope.freq_base")).value_or(10000.0);
  if (!(c.rope.theta > 0))
    throw_error(ErrorCode::bad_model, "{}: llama.rope.freq_base is {}, expected > 0", h.file, c.rope.theta);
  if (h.find(key("rope.dimension_count")) && required("rope.dimension_count") != c.head_dim)
    throw_error(ErrorCode::unsupported, "{}: llama.rope.dimension_count is {} but the head size is {}: partial "
                "rotary embeddings are not supported", h.file, required("rope.dimension_count"), c.head_dim);
  std::string scaling = h.get_string(key("rope.scaling.type")).value_or("none");
  std::optional<double> factor = h.get_float(key("rope.scaling.factor"));
  if (!h.find(key("rope.scaling.type")) && h.find(key("rope.scale_linear"))) {
    scaling = "linear";  // the key older converters wrote
    factor = h.require_float(key("rope.scale_linear"));
  }
  if (scaling == "linear") {
    if (!factor) throw_error(ErrorCode::bad_model, "{}: metadata llama.rope.scaling.factor is missing (scaling type "
                             "linear)", h.file);
    if (!(*factor > 0))
      throw_error(ErrorCode::bad_model, "{}: llama.rope.scaling.factor is {}, expected > 0", h.file, *factor);
    if (*factor != 1.0) {
      c.rope.type = "linear";
      c.rope.factor = *factor;
    }
  } else if (scaling != "none") {
    throw_error(ErrorCode::unsupported, "{}: llama.rope.scaling.type '{}' is not supported (none or linear)", h.file,
                scaling);
  }

  const std::vector<std::string>& tokens = h.require_string_array("tokenizer.ggml.tokens");
  c.vocab_size = h.find(key("vocab_size")) ? required("vocab_size") : int(std::min<size_t>(tokens.size(), INT32_MAX));
  if (c.vocab_size <= 0) throw_error(ErrorCode::bad_model, "{}: tokenizer.ggml.tokens is empty", h.file);
  c.tie_word_embeddings = h.find_tensor("output.weight") == nullptr;
  if (auto bos = h.get_int("tokenizer.ggml.bos_token_id")) c.bos_token_id = int(*bos);
  if (auto eos = h.get_int("tokenizer.ggml.eos_token_id")) c.eos_token_id = int(*eos);

  // The fingerprint's view of the config: every field that changes a pdf, with sorted keys.
  nlohmann::ordered_json j = nlohmann::json{
      {"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim}, {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_position_embeddings}, {"rms_norm_eps", c.rms_norm_eps},
      {"tie_word_embeddings", c.tie_word_embeddings}, {"rope_theta", c.rope.theta}, {"rope_type", c.rope.type},
      {"rope_factor", c.rope.factor}, {"format", "gguf"}};
  c.canonical_json = j.dump();
  return c;
}

GgufVocab gguf_tokenizer_vocab(const GgufHeader& h) {
  GgufVocab out;
  out.model = h.require_string("tokenizer.ggml.model");
  if (out.model != "llama" && out.model != "gpt2")
    throw_error(ErrorCode::unsupported, "{}: tokenizer.ggml.model '{}' is not supported (llama or gpt2)", h.file,
                out.model);
  const std::vector<std::string>& tokens = h.require_string_array("tokenizer.ggml.tokens");
  if (tokens.empty() || tokens.size() > size_t(INT32_MAX))
    throw_error(ErrorCode::bad_model, "{}: tokenizer.ggml.tokens holds {} tokens", h.file, tokens.size());
  out.size = int(tokens.size());
  TokenizerVocab& v = out.vocab;
  v.source = h.file + " tokenizer.ggml.tokens";
  v.ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) v.ids.emplace(tokens[i], int(i));  // the first id of a duplicate
  auto token_id = [&](const char* k) -> std::optional<int> {
    auto id = h.get_int(k);
    if (!id) return std::nullopt;
    if (*id < 0 || *id >= out.size)
      throw_error(ErrorCode::bad_model, "{}: metadata {} is {}, outside the {} tokens", h.file, k, *id, out.size);
    return int(*id);
  };
  v.bos_id = token_id("tokenizer.ggml.bos_token_id");
  if (v.bos_id) v.bos_origin = "tokenizer.ggml.bos_token_id";
  v.eos_id = token_id("tokenizer.ggml.eos_token_id");
  if (v.eos_id) v.eos_origin = "tokenizer.ggml.eos_token_id";
  return out;
}

}  // namespace lmac
