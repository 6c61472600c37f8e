// Every flag of `lmac eval`, resolved (DESIGN.md section 1). The JSON output's "config" is this struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/symbol_stream.hpp"
#include "model/model_resolver.hpp"

namespace lmac {

struct EvalConfig {
  std::string audio_dir;
  std::vector<std::string> model_paths;  // "none" runs baselines only
  std::vector<std::string> baseline_compressors{"gzip", "flac", "lzma"};
  StreamOptions stream;                  // bits, byte_order, stereo_blocking_n
  int64_t chunk_size = 2048;
  std::optional<int64_t> num_chunks;     // all when empty
  int max_length = 2048;
  ModelOptions model;                    // num_heads, shape checks, byte_mapping, top_k
  int batch_size = 0;                    // 0: automatic
  bool slow_compression = false;
  std::string output_file;
  std::string format = "table";
};

// Checks flag values and combinations; throws lmac::Error (usage) naming the flag.
void validate(const EvalConfig& config);

nlohmann::ordered_json to_json(const EvalConfig& config);

}  // namespace lmac
