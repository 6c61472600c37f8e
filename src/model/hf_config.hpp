// config.json of a Hugging Face Llama checkpoint, in both generations of field names:
//   transformers 4.x: rope_theta, rope_scaling {type | rope_type, ...}, torch_dtype
//   transformers 5.x: rope_parameters {rope_theta, rope_type, ...}, dtype
// Everything lmac's Llama forward pass does not implement is refused here, naming the file and the field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lmac {

struct RopeConfig {
  std::string type = "default";  // "default", "linear" or "llama3"
  double theta = 10000.0;
  double factor = 1.0;                        // linear and llama3
  double low_freq_factor = 1.0;               // llama3
  double high_freq_factor = 4.0;              // llama3
  int original_max_position_embeddings = 0;   // llama3
};

struct LlamaConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;  // = num_attention_heads when absent (multi-head attention)
  int head_dim = 0;             // = hidden_size / num_attention_heads when absent or null
  int vocab_size = 0;
  int max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  RopeConfig rope;
  std::optional<int> bos_token_id;
  std::optional<int> eos_token_id;  // the first one when config.json lists several
  std::string stored_dtype;         // torch_dtype or dtype as written ("bfloat16"), empty when absent
  std::string canonical_json;       // the parsed config re-serialised with sorted keys (for the fingerprint)
};

// Parses the text of a config.json; `file_name` names it in messages.
LlamaConfig parse_llama_config(std::string_view text, const std::string& file_name);

// Reads DIR/config.json.
LlamaConfig load_llama_config(const std::string& dir);

}  // namespace lmac
