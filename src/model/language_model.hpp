// What the evaluation harness and the coder see of a model: symbols in, natural-log probabilities out.
// A model never knows about files on disk after loading (loaders live beside it in src/model/).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/exact_scorer.hpp"

namespace lmac {

// Where a model computes, for the JSON records (DESIGN.md section 1).
struct ComputePlacement {
  std::string device = "cpu";            // "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3)"
  std::string dtype = "fp32";            // compute precision
  uint64_t peak_device_memory_bytes = 0;  // GPU only: the most device memory held at once
  bool on_gpu = false;                   // then host threads are free while a pass runs (coding overlaps it)
};

// Facts `lmac info` prints and the JSON records carry.
struct ModelInfo {
  std::string name;            // directory or file stem
  std::string model_type;      // "framework" or "llama"
  std::string format;          // "npz", "safetensors", "gguf"
  std::string path;
  std::string architecture;    // one human-readable line: D, layers, heads, ...
  uint64_t parameter_count = 0;
  std::string stored_dtype;    // "f32", "bf16", ...
  int bos_token = 0;           // the token that plays BOS
  std::string bos_source;      // where BOS came from, e.g. "config.json bos_token_id" or "byte 0 (framework)"
  std::vector<int> byte_tokens;  // for Llama models: token id of each symbol; empty for framework models
  std::string fingerprint;     // hex hash of everything that changes a pdf
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  virtual const ModelInfo& info() const = 0;

  // Number of symbols one position predicts: 256 for byte-level models, 65536 for 16-bit framework
  // models, 128 for Llama models under the `ascii` byte mapping.
  virtual int alphabet_size() const = 0;

  // The symbol width the model was trained on, when it declares one (framework npz `lmac_bits`,
  // or 16 for a 65536-symbol model).
  virtual std::optional<int> declared_bits() const { return std::nullopt; }

  // Scores `batch` sequences of `length` symbols each, stored back to back in `symbols`.
  // Writes out[(b * length + t) * alphabet_size() + s] = log p(x_t = s | BOS, x_0 .. x_{t-1}),
  // restricted to the alphabet and normalised over it. Positions start at 0 for every sequence.
  virtual void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) = 0;

  // The CPU in fp32 unless a GPU version (model/cuda/) says otherwise.
  virtual ComputePlacement placement() const { return {}; }

  // Chunks of `length` symbols to pass to one log_probs call when --batch_size is automatic, chosen from the
  // memory the model has left (GPU models); 0 leaves the choice to the caller.
  virtual int automatic_batch_size(int length) const { return 0; }

  // The deterministic scorer that .lmac files are coded with (model/exact_scorer.hpp), or nullptr when this
  // model has none yet. It shares the model's weights and lives no longer than the model.
  virtual std::unique_ptr<ExactScorer> exact_scorer() { return nullptr; }
};

}  // namespace lmac
