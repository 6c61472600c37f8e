#include "eval/eval_run.hpp"

#include <fmt/format.h>

#include "codecs/compressor.hpp"
#include "eval/baseline_eval.hpp"
#include "eval/corpus.hpp"
#include "util/error.hpp"
#include "util/progress_bar.hpp"

namespace lmac {

namespace {

void warn(const std::string& message) { fmt::print(stderr, "lmac: warning: {}\n", message); }

bool baselines_only(const std::vector<std::string>& model_paths) {
  for (const auto& m : model_paths) {
    if (m != "none") return false;
  }
  return true;
}

}  // namespace

EvalOutput run_eval(const EvalConfig& config) {
  validate(config);
  // Fail on unknown compressors and models before reading any audio.
  for (const auto& name : config.baseline_compressors) make_compressor(name);
  if (!baselines_only(config.model_paths)) {
    throw_error(ErrorCode::unsupported, "--model_path {}: language models are not supported yet", config.model_paths.front());
  }

  const Corpus corpus = load_corpus({config.audio_dir, config.stream, static_cast<size_t>(config.chunk_size),
                                     config.num_chunks},
                                    warn);
  EvalOutput output;
  for (const auto& name : config.baseline_compressors) {
    ProgressBar progress(name, corpus.chunks.size());
    output.records.push_back(evaluate_baseline(name, corpus, progress));
  }

  auto& doc = output.document;
  doc["lmac_version"] = LMAC_VERSION;
  doc["config"] = to_json(config);
  doc["files"] = nlohmann::ordered_json::array();
  for (const auto& f : corpus.files) doc["files"].push_back(f.path);
  doc["results"] = nlohmann::ordered_json::array();
  for (const auto& r : output.records) doc["results"].push_back(to_json(r));
  return output;
}

}  // namespace lmac
