// Loads a framework transformer from the training script's .npz (pickled or flat form, model/npz_archive.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/language_model.hpp"

namespace lmac {

// The --num_heads flag (the head count is not in the file) and the optional flags that are checked against the
// tensor shapes.
struct FrameworkOptions {
  int num_heads = 8;
  std::optional<int> embedding_dim, num_layers, widening_factor;
};

// Throws lmac::Error (bad_model: missing module, wrong shape, bad file; mismatch: a flag that disagrees with the
// shapes or a head count that does not divide D; io: unreadable file).
std::unique_ptr<LanguageModel> load_framework_model(const std::string& path, const FrameworkOptions& options);

}  // namespace lmac
