#include "eval/eval_config.hpp"

#include "model/device_placement.hpp"
#include "util/error.hpp"

namespace lmac {

void validate(const EvalConfig& c) {
  if (c.audio_dir.empty()) throw_error(ErrorCode::usage, "--audio_dir is required");
  if (c.stream.bits != 8 && c.stream.bits != 16) throw_error(ErrorCode::usage, "--bits must be 8 or 16, not {}", c.stream.bits);
  if (c.chunk_size <= 0) throw_error(ErrorCode::usage, "--chunk_size must be positive, not {}", c.chunk_size);
  if (c.stream.bits == 16 && c.chunk_size % 2 != 0) {
    throw_error(ErrorCode::usage, "--chunk_size {} is odd: with --bits 16 a chunk must hold whole 2-byte samples",
                c.chunk_size);
  }
  if (c.num_chunks && *c.num_chunks <= 0) throw_error(ErrorCode::usage, "--num_chunks must be positive, not {}", *c.num_chunks);
  if (c.stream.stereo_blocking_n <= 0) {
    throw_error(ErrorCode::usage, "--stereo_blocking_n must be positive, not {}", c.stream.stereo_blocking_n);
  }
  if (c.max_length < 2) throw_error(ErrorCode::usage, "--max_length must be at least 2, not {}", c.max_length);
  if (c.model.byte_mapping != "bytes" && c.model.byte_mapping != "piece" && c.model.byte_mapping != "ascii") {
    throw_error(ErrorCode::usage, "--byte_mapping must be bytes, piece or ascii, not '{}'", c.model.byte_mapping);
  }
  if (c.model.top_k < 0) throw_error(ErrorCode::usage, "--top_k must be positive, not {}", c.model.top_k);
  if (c.batch_size < 0) throw_error(ErrorCode::usage, "--batch_size must be positive, not {}", c.batch_size);
  if (c.model.num_heads <= 0) throw_error(ErrorCode::usage, "--num_heads must be positive, not {}", c.model.num_heads);
  check_device_options(c.model.device, c.model.dtype);
  if (c.model.weights != "stored" && c.model.weights != "q8_0") {
    throw_error(ErrorCode::usage, "--weights must be stored or q8_0, not '{}'", c.model.weights);
  }
  if (c.format != "table" && c.format != "markdown" && c.format != "csv") {
    throw_error(ErrorCode::usage, "--format must be table, markdown or csv, not '{}'", c.format);
  }
}

nlohmann::ordered_json to_json(const EvalConfig& c) {
  nlohmann::ordered_json j;
  j["audio_dir"] = c.audio_dir;
  j["model_path"] = c.model_paths;
  j["baseline_compressors"] = c.baseline_compressors;
  j["bits"] = c.stream.bits;
  j["byte_order"] = c.stream.byte_order == ByteOrder::msb ? "msb" : "lsb";
  j["stereo_blocking_n"] = c.stream.stereo_blocking_n;
  j["chunk_size"] = c.chunk_size;
  j["num_chunks"] = c.num_chunks ? nlohmann::ordered_json(*c.num_chunks) : nlohmann::ordered_json(nullptr);
  j["max_length"] = c.max_length;
  j["byte_mapping"] = c.model.byte_mapping;
  j["top_k"] = c.model.top_k;
  j["device"] = c.model.device;
  j["dtype"] = c.model.dtype;
  j["weights"] = c.model.weights;
  j["batch_size"] = c.batch_size;
  j["num_heads"] = c.model.num_heads;
  auto opt = [](const std::optional<int>& v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr); };
  j["embedding_dim"] = opt(c.model.embedding_dim);
  j["num_layers"] = opt(c.model.num_layers);
  j["widening_factor"] = opt(c.model.widening_factor);
  j["slow_compression"] = c.slow_compression;
  j["output_file"] = c.output_file;
  j["format"] = c.format;
  return j;
}

}  // namespace lmac
