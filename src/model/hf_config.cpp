#include "model/hf_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac {

using json = nlohmann::json;

namespace {

// Field readers that name the file and the field in every message.
struct ConfigReader {
  const json& j;
  const std::string& file;

  const json* get(const json& obj, const char* key) const {
    auto it = obj.find(key);
    return (it == obj.end() || it->is_null()) ? nullptr : &*it;
  }

  int positive_int(const json& obj, const char* key, std::optional<int> fallback, const char* where = "") const {
    const json* v = get(obj, key);
    if (!v) {
      if (fallback) return *fallback;
      throw_error(ErrorCode::bad_model, "{}: missing field '{}{}'", file, where, key);
    }
    if (!v->is_number_integer() || v->get<int64_t>() <= 0 || v->get<int64_t>() > (int64_t(1) << 30))
      throw_error(ErrorCode::bad_model, "{}: field '{}{}' must be a positive integer, got {}", file, where, key,
                  v->dump());
    return int(v->get<int64_t>());
  }

  double positive_number(const json& obj, const char* key, std::optional<double> fallback,
                         const char* where = "") const {
    const json* v = get(obj, key);
    if (!v) {
      if (fallback) return *fallback;
      throw_error(ErrorCode::bad_model, "{}: missing field '{}{}'", file, where, key);
    }
    if (!v->is_number() || !(v->get<double>() > 0))
      throw_error(ErrorCode::bad_model, "{}: field '{}{}' must be a positive number, got {}", file, where, key,
                  v->dump());
    return v->get<double>();
  }

  bool boolean(const char* key, bool fallback) const {
    const json* v = get(j, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw_error(ErrorCode::bad_model, "{}: field '{}' must be true or false", file, key);
    return v->get<bool>();
  }

  // A token id: an integer, or (eos_token_id) a list whose first element is taken.
  std::optional<int> token_id(const char* key) const {
    const json* v = get(j, key);
    if (!v) return std::nullopt;
    const json* id = v;
    if (v->is_array()) {
      if (v->empty()) return std::nullopt;
      id = &(*v)[0];
    }
    if (!id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > INT32_MAX)
      throw_error(ErrorCode::bad_model, "{}: field '{}' must be a non-negative token id, got {}", file, key, v->dump());
    return int(id->get<int64_t>());
  }
};

RopeConfig parse_rope(const ConfigReader& r) {
  RopeConfig rope;
  const json& j = r.j;
  const json* params = r.get(j, "rope_parameters");  // transformers 5.x
  const json* scaling = r.get(j, "rope_scaling");     // transformers 4.x
  const char* field = params ? "rope_parameters" : "rope_scaling";
  const json* block = params ? params : scaling;
  if (block && !block->is_object())
    throw_error(ErrorCode::bad_model, "{}: field '{}' must be an object, got {}", r.file, field, block->dump());

  // theta: rope_parameters.rope_theta (5.x), else top-level rope_theta (4.x), else 10000.
  std::string where = std::string(field) + ".";
  if (params && r.get(*params, "rope_theta"))
    rope.theta = r.positive_number(*params, "rope_theta", std::nullopt, where.c_str());
  else
    rope.theta = r.positive_number(j, "rope_theta", 10000.0);

  if (block) {
    const json* type = r.get(*block, "rope_type");
    const char* type_key = "rope_type";
    if (!type) {
      type = r.get(*block, "type");
      type_key = "type";
    }
    if (type) {
      if (!type->is_string())
        throw_error(ErrorCode::bad_model, "{}: field '{}.{}' must be a string", r.file, field, type_key);
      rope.type = type->get<std::string>();
    }
    if (rope.type != "default" && rope.type != "linear" && rope.type != "llama3")
      throw_error(ErrorCode::unsupported,
                  "{}: field '{}.{}' is '{}'; lmac implements the RoPE types default, linear and llama3", r.file,
                  field, type_key, rope.type);
    if (rope.type == "linear" || rope.type == "llama3")
      rope.factor = r.positive_number(*block, "factor", std::nullopt, where.c_str());
    if (rope.type == "llama3") {
      rope.low_freq_factor = r.positive_number(*block, "low_freq_factor", std::nullopt, where.c_str());
      rope.high_freq_factor = r.positive_number(*block, "high_freq_factor", std::nullopt, where.c_str());
      rope.original_max_position_embeddings =
          r.positive_int(*block, "original_max_position_embeddings", std::nullopt, where.c_str());
      if (rope.high_freq_factor == rope.low_freq_factor)
        throw_error(ErrorCode::bad_model, "{}: '{}high_freq_factor' equals '{}low_freq_factor'", r.file, where, where);
    }
    const json* partial = r.get(*block, "partial_rotary_factor");
    if (partial && !(partial->is_number() && partial->get<double>() == 1.0))
      throw_error(ErrorCode::unsupported, "{}: field '{}.partial_rotary_factor' other than 1 is not supported", r.file,
                  field);
  }
  const json* partial = r.get(j, "partial_rotary_factor");
  if (partial && !(partial->is_number() && partial->get<double>() == 1.0))
    throw_error(ErrorCode::unsupported, "{}: field 'partial_rotary_factor' other than 1 is not supported", r.file);
  return rope;
}

}  // namespace

LlamaConfig parse_llama_config(std::string_view text, const std::string& file) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw_error(ErrorCode::bad_model, "{}: not valid JSON", file);
  if (!j.is_object()) throw_error(ErrorCode::bad_model, "{}: not a JSON object", file);
  ConfigReader r{j, file};

  const json* model_type = r.get(j, "model_type");
  if (!model_type) throw_error(ErrorCode::bad_model, "{}: missing field 'model_type' (expected \"llama\")", file);
  if (!model_type->is_string() || model_type->get<std::string>() != "llama")
    throw_error(ErrorCode::unsupported, "{}: field 'model_type' is {}; this loader reads only \"llama\"", file,
                model_type->dump());

  // Architecture variants the forward pass does not implement.
  if (r.boolean("attention_bias", false))
    throw_error(ErrorCode::unsupported, "{}: field 'attention_bias' is true; lmac's Llama has no attention biases",
                file);
  if (r.boolean("mlp_bias", false))
    throw_error(ErrorCode::unsupported, "{}: field 'mlp_bias' is true; lmac's Llama has no MLP biases", file);
  if (const json* act = r.get(j, "hidden_act"); act && !(act->is_string() && act->get<std::string>() == "silu"))
    throw_error(ErrorCode::unsupported, "{}: field 'hidden_act' is {}; lmac's Llama implements only \"silu\"", file,
                act->dump());

  LlamaConfig c;
  c.hidden_size = r.positive_int(j, "hidden_size", std::nullopt);
  c.intermediate_size = r.positive_int(j, "intermediate_size", std::nullopt);
  c.num_hidden_layers = r.positive_int(j, "num_hidden_layers", std::nullopt);
  c.num_attention_heads = r.positive_int(j, "num_attention_heads", std::nullopt);
  c.num_key_value_heads = r.positive_int(j, "num_key_value_heads", c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw_error(ErrorCode::bad_model, "{}: field 'num_attention_heads' ({}) is not a multiple of "
                "'num_key_value_heads' ({})", file, c.num_attention_heads, c.num_key_value_heads);
  if (!r.get(j, "head_dim") && c.hidden_size % c.num_attention_heads != 0)
    throw_error(ErrorCode::bad_model, "{}: field 'hidden_size' ({}) is not a multiple of 'num_attention_heads' ({}) "
                "and no 'head_dim' is given", file, c.hidden_size, c.num_attention_heads);
  c.head_dim = r.positive_int(j, "head_dim", c.hidden_size / c.num_attention_heads);
  if (c.head_dim % 2 != 0)
    throw_error(ErrorCode::bad_model, "{}: field 'head_dim' ({}) must be even for rotary embeddings", file, c.head_dim);
  c.vocab_size = r.positive_int(j, "vocab_size", std::nullopt);
  c.max_position_embeddings = r.positive_int(j, "max_position_embeddings", 2048);
  c.rms_norm_eps = r.positive_number(j, "rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.rope = parse_rope(r);
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");
  for (const char* key : {"dtype", "torch_dtype"}) {  // 5.x name first
    if (const json* d = r.get(j, key)) {
      if (!d->is_string()) throw_error(ErrorCode::bad_model, "{}: field '{}' must be a string", file, key);
      c.stored_dtype = d->get<std::string>();
      break;
    }
  }
  c.canonical_json = j.dump();  // nlohmann::json objects keep keys sorted
  return c;
}

LlamaConfig load_llama_config(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw_error(ErrorCode::io, "{}: no such model directory", dir);
  const fs::path path = fs::path(dir) / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::bad_model, "{}: missing config.json", dir);
  std::ostringstream s;
  s << in.rdbuf();
  return parse_llama_config(s.str(), path.string());
}

}  // namespace lmac
