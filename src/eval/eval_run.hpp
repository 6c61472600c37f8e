// `lmac eval`: the corpus, every baseline and every model, and the JSON document of the run.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "eval/eval_config.hpp"
#include "eval/result_record.hpp"

namespace lmac {

struct EvalOutput {
  std::vector<ResultRecord> records;
  nlohmann::ordered_json document;  // lmac_version, config, files, results
};

// Warnings (skipped files, device fall-backs) go to stderr, one line each.
EvalOutput run_eval(const EvalConfig& config);

}  // namespace lmac
