#include "eval/result_record.hpp"

namespace lmac {

nlohmann::ordered_json to_json(const ResultRecord& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["compressor_type"] = r.compressor_type;
  for (auto it = r.details.begin(); it != r.details.end(); ++it) {
    if (it.key() == "model_type" || it.key() == "format" || it.key() == "model_path") j[it.key()] = it.value();
  }
  j["compression_ratio"] = r.compression_ratio;
  if (r.compression_ratio_unchunked) j["compression_ratio_unchunked"] = *r.compression_ratio_unchunked;
  j["compression_time"] = r.compression_time;
  j["total_time"] = r.total_time;
  j["raw_bytes"] = r.raw_bytes;
  j["compressed_bytes"] = r.compressed_bytes;
  j["num_chunks"] = r.num_chunks;
  for (auto it = r.details.begin(); it != r.details.end(); ++it) {
    if (!j.contains(it.key())) j[it.key()] = it.value();
  }
  return j;
}

}  // namespace lmac
