// Classic compressors under the reference protocol: chunked with the header counted once, and unchunked.
#pragma once

#include <string>

#include "eval/corpus.hpp"
#include "eval/result_record.hpp"

namespace lmac {

class ProgressBar;

ResultRecord evaluate_baseline(const std::string& compressor_name, const Corpus& corpus, ProgressBar& progress);

}  // namespace lmac
