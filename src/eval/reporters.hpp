// What stdout shows: an lzbench-style table, Markdown or CSV. The JSON file is written elsewhere.
#pragma once

#include <string>
#include <vector>

#include "eval/result_record.hpp"

namespace lmac {

// format: "table", "markdown" or "csv".
std::string render_results(const std::vector<ResultRecord>& records, const std::string& format);

}  // namespace lmac
