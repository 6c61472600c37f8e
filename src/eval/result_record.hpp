// One row of the results: a compressor or a model over the whole corpus.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lmac {

struct ResultRecord {
  std::string name;
  std::string compressor_type;  // "baseline" or "language_model"
  double compression_ratio = 0;
  std::optional<double> compression_ratio_unchunked;  // baselines only
  double compression_time = 0;  // seconds inside the compressor proper, as the reference times it
  double total_time = 0;        // seconds for the whole record, loading and bookkeeping included
  uint64_t raw_bytes = 0;
  uint64_t compressed_bytes = 0;  // the real coded size, before any protocol adjustment
  uint64_t num_chunks = 0;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // further fields, e.g. a model's

  double megabytes_per_second() const { return compression_time > 0 ? raw_bytes / compression_time / 1e6 : 0; }
};

nlohmann::ordered_json to_json(const ResultRecord& record);

}  // namespace lmac
