// A language model under the reference protocol: every chunk scored and arithmetic-coded, with
// count_header_only_once false, and the reference's 8/7 accounting under the ascii mask.
#pragma once

#include "eval/corpus.hpp"
#include "eval/eval_config.hpp"
#include "eval/result_record.hpp"
#include "model/language_model.hpp"

namespace lmac {

class ProgressBar;

// `model` was loaded by the caller (load time is added to total_time there).
ResultRecord evaluate_model(LanguageModel& model, const EvalConfig& config, const Corpus& corpus, ProgressBar& progress);

}  // namespace lmac
