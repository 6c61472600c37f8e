// Stand-in models with a deterministic ExactScorer, for lmac's own tests of the file path (unit tests and
// tests/cli/compress_*.sh, through `--model_path test:order1`): the real models get their exact scorers from
// the framework and Llama work. Each is a small adaptive context model: row t of a sequence depends only on the
// symbols before t of that sequence, computed by one function on both paths, so log_probs() and step() agree
// bit for bit as the ExactScorer contract demands.
//   test:order1          order-1 adaptive counts over 256 byte symbols (128 with --byte_mapping ascii)
//   test:order0-65536    order-0 adaptive counts over 65536 symbols, declaring 16-bit symbols
//   test:noscorer        the order-1 model without an exact scorer (what every real model is until it has one)
#pragma once

#include <memory>
#include <string>

#include "model/language_model.hpp"
#include "model/model_resolver.hpp"

namespace lmac {

inline constexpr const char* kTestModelPrefix = "test:";

// Returns the stand-in that `name` names, or throws lmac::Error (usage) for an unknown test: name.
std::unique_ptr<LanguageModel> make_test_model(const std::string& name, const ModelOptions& options);

}  // namespace lmac
