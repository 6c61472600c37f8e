// `lmac score`: a model's log-probabilities for a raw symbol file, chunk by chunk, each chunk with a fresh
// context (DESIGN.md section 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model_resolver.hpp"

namespace lmac {

struct ScoreConfig {
  std::string model_path;
  std::string input;        // raw symbols: bytes, or little-endian 16-bit symbols with bits == 16
  int bits = 8;
  int64_t chunk_size = 2048;  // bytes of the input per chunk; a trailing partial chunk is kept
  int max_length = 2048;
  std::string output;       // .npy path, optional
  std::vector<int64_t> rows;  // full rows to add for alphabets above 256
  ModelOptions model;
};

// Writes the .npy file(s) and returns the JSON summary printed on stdout.
nlohmann::ordered_json run_score(const ScoreConfig& config);

}  // namespace lmac
