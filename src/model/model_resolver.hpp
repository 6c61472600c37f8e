// How --model_path names a model (DESIGN.md section 1), in this order: none, default, llama:DIR, an
// existing path (*.npz, *.gguf, a Llama directory), then precise errors for everything else.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/language_model.hpp"

namespace lmac {

enum class ModelKind { none, framework_npz, llama_dir, gguf };

struct ModelSpec {
  ModelKind kind = ModelKind::none;
  std::string path;  // the file or directory, with any `llama:` prefix removed
};

// Throws lmac::Error (bad_model / io / unsupported) with one precise message for every path that names no
// usable model.
ModelSpec resolve_model_path(const std::string& model_path);

// The shipped default model (models/lmac-speech-8bit.npz, see models/MODEL_CARD.md): its place in the source
// tree lmac was built from, or $LMAC_DEFAULT_MODEL.
std::string default_model_path();

struct ModelOptions {
  int num_heads = 8;  // framework models
  std::optional<int> embedding_dim, num_layers, widening_factor;
  std::string byte_mapping = "bytes";  // Llama models
  int top_k = 0;
  std::string weights = "stored";      // stored | q8_0 (Llama safetensors only: model/llama_loader.hpp)
  std::string device = "cpu";          // model/device_placement.hpp; eval and score default to auto
  std::string dtype = "auto";

  bool operator==(const ModelOptions&) const = default;
};

// Throws lmac::Error (usage / unsupported) when `options` asks for something the model at `spec` cannot do: --weights
// q8_0 for a framework .npz model or a GGUF file. load_model calls it; commands call it early to fail before work.
void check_model_options(const ModelSpec& spec, const ModelOptions& options);

std::unique_ptr<LanguageModel> load_model(const ModelSpec& spec, const ModelOptions& options);

}  // namespace lmac
