#include "model/model_resolver.hpp"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "model/device_placement.hpp"
#include "model/framework_loader.hpp"
#include "model/gguf_loader.hpp"
#include "model/llama_loader.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A directory: a Llama model if its config.json says so; otherwise a precise account of what it holds.
ModelSpec resolve_directory(const std::string& dir) {
  const fs::path config = fs::path(dir) / "config.json";
  std::error_code ec;
  if (fs::exists(config, ec)) return {ModelKind::llama_dir, dir};  // the loader checks model_type and names the field
  if (fs::exists(fs::path(dir) / "pytorch_model.bin", ec)) {
    throw_error(ErrorCode::unsupported,
                "{}: holds pytorch_model.bin, which lmac does not read yet (it is a pickle of torch tensors); convert it "
                "to safetensors, e.g. in Python: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, "
                "safe_serialization=True)",
                dir);
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("consolidated.", 0) == 0 && ends_with(name, ".pth")) {
      throw_error(ErrorCode::unsupported,
                  "{}: holds {}, Meta's original checkpoint format, which lmac does not read yet; convert it to the "
                  "Hugging Face layout with transformers' convert_llama_weights_to_hf.py, which writes safetensors",
                  dir, name);
    }
  }
  throw_error(ErrorCode::bad_model, "{}: not a model directory: no config.json", dir);
}

}  // namespace

std::string default_model_path() {
  // LMAC_DEFAULT_MODEL overrides the copy in the source tree this lmac was built from.
  if (const char* env = std::getenv("LMAC_DEFAULT_MODEL"); env && *env) return env;
  const std::string path = LMAC_DEFAULT_MODEL_PATH;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw_error(ErrorCode::io, "--model_path default: the shipped model {} is missing (set LMAC_DEFAULT_MODEL to its "
                "path if the source tree moved)", path);
  }
  return path;
}

ModelSpec resolve_model_path(const std::string& model_path) {
  if (model_path == "none") return {ModelKind::none, ""};
  if (model_path == "default") return {ModelKind::framework_npz, default_model_path()};
  std::error_code ec;
  if (model_path.rfind("llama:", 0) == 0) {
    const std::string dir = model_path.substr(6);
    if (!fs::is_directory(dir, ec)) throw_error(ErrorCode::io, "--model_path {}: no such directory: {}", model_path, dir);
    return {ModelKind::llama_dir, dir};
  }
  if (fs::exists(model_path, ec)) {
    if (fs::is_directory(model_path, ec)) return resolve_directory(model_path);
    if (ends_with(model_path, ".npz")) return {ModelKind::framework_npz, model_path};
    if (ends_with(model_path, ".gguf")) return {ModelKind::gguf, model_path};
    throw_error(ErrorCode::bad_model,
                "--model_path {}: unknown model format; expected a framework .npz file, a .gguf file, or a Llama "
                "directory with config.json",
                model_path);
  }
  if (ends_with(model_path, ".npz") || ends_with(model_path, ".gguf") || model_path.front() == '/' ||
      model_path.front() == '.') {
    throw_error(ErrorCode::io, "--model_path {}: file not found", model_path);
  }
  if (model_path.find('/') != std::string::npos) {
    throw_error(ErrorCode::io,
                "--model_path {}: no such file or directory on this machine; it looks like a model hub name, but lmac "
                "never downloads: fetch the checkpoint yourself and pass its directory",
                model_path);
  }
  throw_error(ErrorCode::bad_model,
              "--model_path {}: unknown model format; expected none, default, llama:DIR, a framework .npz file, a "
              ".gguf file, or a Llama directory with config.json",
              model_path);
}

void check_model_options(const ModelSpec& spec, const ModelOptions& options) {
  check_device_options(options.device, options.dtype);
  check_device_usable(options.device);
  if (options.weights != "stored" && options.weights != "q8_0")
    throw_error(ErrorCode::usage, "--weights must be stored or q8_0, not '{}'", options.weights);
  if (options.weights == "stored") return;
  // Refused rather than ignored: a silent no-op would label results and files "q8_0" that were not quantized.
  if (spec.kind == ModelKind::framework_npz)
    throw_error(ErrorCode::unsupported,
                "--weights {}: {} is a framework .npz model, which is always computed from its float32 weights (its "
                "exact kernels define the .lmac format); --weights applies to Llama safetensors directories only",
                options.weights, spec.path);
  if (spec.kind == ModelKind::gguf)
    throw_error(ErrorCode::unsupported,
                "--weights {}: {} is a GGUF file, whose weights are used in the types it stores (often already "
                "quantized); --weights applies to Llama safetensors directories only: omit it",
                options.weights, spec.path);
}

std::unique_ptr<LanguageModel> load_model(const ModelSpec& spec, const ModelOptions& options) {
  check_model_options(spec, options);
  std::unique_ptr<LanguageModel> model;
  switch (spec.kind) {
    case ModelKind::framework_npz:
      model = load_framework_model(spec.path, {options.num_heads, options.embedding_dim, options.num_layers,
                                               options.widening_factor});
      break;
    case ModelKind::llama_dir:
      model = load_llama_model(spec.path, {options.byte_mapping, options.top_k, options.weights});
      break;
    case ModelKind::gguf: model = load_gguf_model(spec.path, {options.byte_mapping, options.top_k}); break;
    case ModelKind::none: break;
  }
  if (model) return place_model(std::move(model), options.device, options.dtype);
  throw_error(ErrorCode::internal, "load_model called without a model");
}

}  // namespace lmac
