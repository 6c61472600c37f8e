#include "eval/eval_run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <map>

#include "codecs/compressor.hpp"
#include "eval/baseline_eval.hpp"
#include "eval/corpus.hpp"
#include "eval/model_eval.hpp"
#include "model/model_resolver.hpp"
#include "util/error.hpp"
#include "util/progress_bar.hpp"

namespace lmac {

namespace {

using Clock = std::chrono::steady_clock;

void warn(const std::string& message) { fmt::print(stderr, "lmac: warning: {}\n", message); }

// --weights and --device/--dtype are checked per model before any audio is read (model/model_resolver.cpp).
void check_model_flags(const EvalConfig& config, const std::vector<ModelSpec>& models) {
  for (const ModelSpec& spec : models) check_model_options(spec, config.model);
}

// Record names are unique within a run: the second model named "x" becomes "x#2".
std::string unique_name(const std::string& name, std::map<std::string, int>& seen) {
  const int n = ++seen[name];
  return n == 1 ? name : fmt::format("{}#{}", name, n);
}

}  // namespace

EvalOutput run_eval(const EvalConfig& config) {
  validate(config);
  // Fail on unknown compressors and unusable model paths before reading any audio.
  for (const auto& name : config.baseline_compressors) make_compressor(name);
  std::vector<ModelSpec> models;
  for (const auto& path : config.model_paths) {
    ModelSpec spec = resolve_model_path(path);
    if (spec.kind != ModelKind::none) models.push_back(spec);
  }
  check_model_flags(config, models);

  const Corpus corpus = load_corpus({config.audio_dir, config.stream, static_cast<size_t>(config.chunk_size),
                                     config.num_chunks},
                                    warn);
  EvalOutput output;
  std::map<std::string, int> names_seen;
  for (const auto& name : config.baseline_compressors) {
    ProgressBar progress(name, corpus.chunks.size());
    output.records.push_back(evaluate_baseline(name, corpus, progress));
    unique_name(name, names_seen);
  }
  for (const ModelSpec& spec : models) {
    // One model at a time: each is freed before the next is loaded.
    const auto start = Clock::now();
    std::unique_ptr<LanguageModel> model = load_model(spec, config.model);
    const double load_time = std::chrono::duration<double>(Clock::now() - start).count();
    ProgressBar progress(model->info().name, corpus.chunks.size());
    ResultRecord record = evaluate_model(*model, config, corpus, progress);
    record.name = unique_name(record.name, names_seen);
    record.details["load_time"] = load_time;
    record.total_time = std::chrono::duration<double>(Clock::now() - start).count();
    output.records.push_back(std::move(record));
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
