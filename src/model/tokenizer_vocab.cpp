#include "model/tokenizer_vocab.hpp"

#include <sentencepiece_processor.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Names tokenizers give their BOS and end-of-text tokens, for tokenizers that declare none explicitly.
static const char* const kBosNames[] = {"<s>", "<|begin_of_text|>", "<bos>"};
static const char* const kEosNames[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"};

static void guess_special_tokens(TokenizerVocab& v) {
  for (const char* name : kBosNames)
    if (!v.bos_id && (v.bos_id = v.find(name))) v.bos_origin = fmt::format("{} token '{}'", v.source, name);
  for (const char* name : kEosNames)
    if (!v.eos_id && (v.eos_id = v.find(name))) v.eos_origin = fmt::format("{} token '{}'", v.source, name);
}

static void add_piece(TokenizerVocab& v, const std::string& piece, const json& id, const std::string& file) {
  if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
    throw_error(ErrorCode::bad_model, "{}: token '{}' has an id that is not a non-negative integer", file, piece);
  v.ids.emplace(piece, int(id.get<int64_t>()));  // the first id of a piece wins, as in `tokenizers`
}

TokenizerVocab parse_tokenizer_json(std::string_view text, const std::string& file) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw_error(ErrorCode::bad_model, "{}: not valid JSON", file);
  if (!j.is_object()) throw_error(ErrorCode::bad_model, "{}: not a JSON object", file);
  TokenizerVocab v;
  v.source = fs::path(file).filename().string();

  auto model = j.find("model");
  if (model == j.end() || !model->is_object()) throw_error(ErrorCode::bad_model, "{}: missing object 'model'", file);
  auto vocab = model->find("vocab");
  if (vocab == model->end()) throw_error(ErrorCode::bad_model, "{}: missing field 'model.vocab'", file);
  if (vocab->is_object()) {  // BPE, WordPiece, WordLevel: {piece: id}
    for (auto it = vocab->begin(); it != vocab->end(); ++it) add_piece(v, it.key(), it.value(), file);
  } else if (vocab->is_array()) {  // Unigram: [[piece, score], ...], the id is the position
    for (size_t i = 0; i < vocab->size(); ++i) {
      const json& e = (*vocab)[i];
      if (!e.is_array() || e.empty() || !e[0].is_string())
        throw_error(ErrorCode::bad_model, "{}: model.vocab[{}] is not a [piece, score] pair", file, i);
      add_piece(v, e[0].get<std::string>(), json(i), file);
    }
  } else {
    throw_error(ErrorCode::bad_model, "{}: field 'model.vocab' is neither an object nor a list", file);
  }

  if (auto added = j.find("added_tokens"); added != j.end() && added->is_array()) {
    for (const json& t : *added) {
      auto content = t.find("content");
      auto id = t.find("id");
      if (content == t.end() || !content->is_string() || id == t.end())
        throw_error(ErrorCode::bad_model, "{}: an entry of 'added_tokens' lacks 'content' or 'id'", file);
      v.ids.erase(content->get<std::string>());  // an added token overrides a model piece of the same text
      add_piece(v, content->get<std::string>(), *id, file);
    }
  }
  guess_special_tokens(v);
  return v;
}

TokenizerVocab load_sentencepiece_model(const std::string& path) {
  sentencepiece::SentencePieceProcessor sp;
  auto status = sp.Load(path);
  if (!status.ok()) throw_error(ErrorCode::bad_model, "{}: not a readable SentencePiece model: {}", path,
                                status.ToString());
  TokenizerVocab v;
  v.source = fs::path(path).filename().string();
  for (int id = 0; id < sp.GetPieceSize(); ++id) v.ids.emplace(sp.IdToPiece(id), id);
  if (sp.bos_id() >= 0) {
    v.bos_id = sp.bos_id();
    v.bos_origin = fmt::format("{} bos_id", v.source);
  }
  if (sp.eos_id() >= 0) {
    v.eos_id = sp.eos_id();
    v.eos_origin = fmt::format("{} eos_id", v.source);
  }
  guess_special_tokens(v);
  return v;
}

static std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "cannot open {}", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// tokenizer_config.json: "bos_token": "<s>" or {"content": "<s>", ...}.
static std::optional<std::string> special_token_name(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object())
    if (auto c = it->find("content"); c != it->end() && c->is_string()) return c->get<std::string>();
  return std::nullopt;
}

TokenizerVocab load_tokenizer(const std::string& dir) {
  const fs::path json_path = fs::path(dir) / "tokenizer.json";
  const fs::path model_path = fs::path(dir) / "tokenizer.model";
  TokenizerVocab v;
  if (fs::exists(json_path))
    v = parse_tokenizer_json(read_file(json_path), json_path.string());
  else if (fs::exists(model_path))
    v = load_sentencepiece_model(model_path.string());
  else
    throw_error(ErrorCode::bad_model, "{}: no tokenizer.json or tokenizer.model (needed to map bytes to tokens)",
                dir);

  const fs::path config_path = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    json config = json::parse(read_file(config_path), nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object())
      throw_error(ErrorCode::bad_model, "{}: not a valid JSON object", config_path.string());
    if (auto name = special_token_name(config, "bos_token")) {
      auto id = v.find(*name);
      if (!id) throw_error(ErrorCode::bad_model, "{}: bos_token '{}' is not in {}", config_path.string(), *name,
                           v.source);
      v.bos_id = id;
      v.bos_origin = fmt::format("tokenizer_config.json bos_token '{}'", *name);
    }
    if (auto name = special_token_name(config, "eos_token"); name && v.find(*name)) {
      v.eos_id = v.find(*name);
      v.eos_origin = fmt::format("tokenizer_config.json eos_token '{}'", *name);
    }
  }
  return v;
}

}  // namespace lmac
