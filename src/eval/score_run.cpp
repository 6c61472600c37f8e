#include "eval/score_run.hpp"

#include <cmath>
#include <fstream>
#include <iterator>

#include "eval/model_scoring.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/npy_writer.hpp"

namespace lmac {

namespace {

std::vector<uint32_t> read_symbols(const std::string& path, int bits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "--input {}: cannot open", path);
  const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw_error(ErrorCode::usage, "--input {}: the file is empty", path);
  std::vector<uint32_t> symbols;
  if (bits == 16) {
    if (bytes.size() % 2 != 0) throw_error(ErrorCode::usage, "--input {}: odd size {} with --bits 16", path, bytes.size());
    for (size_t i = 0; i < bytes.size(); i += 2) symbols.push_back(bytes[i] | (uint32_t{bytes[i + 1]} << 8));
  } else {
    symbols.assign(bytes.begin(), bytes.end());
  }
  return symbols;
}

}  // namespace

nlohmann::ordered_json run_score(const ScoreConfig& config) {
  if (config.bits != 8 && config.bits != 16) throw_error(ErrorCode::usage, "--bits must be 8 or 16, not {}", config.bits);
  if (config.chunk_size <= 0 || (config.bits == 16 && config.chunk_size % 2 != 0)) {
    throw_error(ErrorCode::usage, "--chunk_size {} must be positive, and even with --bits 16", config.chunk_size);
  }
  const ModelSpec spec = resolve_model_path(config.model_path);
  if (spec.kind == ModelKind::none) throw_error(ErrorCode::usage, "lmac score needs a model: --model_path none given");
  const std::vector<uint32_t> symbols = read_symbols(config.input, config.bits);
  std::unique_ptr<LanguageModel> model = load_model(spec, config.model);
  const size_t A = static_cast<size_t>(model->alphabet_size());
  if ((config.bits == 16) != (A == 65536)) {
    throw_error(ErrorCode::usage, "--bits {} does not fit this model, which predicts {} symbols (--bits 16 is for "
                "65536-symbol models only)", config.bits, A);
  }
  for (uint32_t s : symbols) {
    if (s >= A) throw_error(ErrorCode::usage, "--input {}: symbol {} is outside the model's alphabet of {}", config.input, s, A);
  }
  const bool full_rows = A <= 256;
  std::vector<float> result(full_rows ? symbols.size() * A : symbols.size());
  std::vector<float> extra_rows;
  const size_t chunk_symbols = static_cast<size_t>(config.chunk_size) / (config.bits / 8);
  double total_bits = 0;
  std::vector<float> out;
  for (size_t first = 0; first < symbols.size(); first += chunk_symbols) {
    const size_t n = std::min(chunk_symbols, symbols.size() - first);
    std::span<const uint32_t> chunk(symbols.data() + first, n);
    out.resize(n * A);
    score_in_windows(*model, chunk, 1, static_cast<int>(n), config.max_length, false, out);
    for (size_t t = 0; t < n; ++t) {
      const float lp = out[t * A + chunk[t]];
      total_bits -= lp / std::log(2.0);
      if (full_rows) {
        std::copy_n(&out[t * A], A, &result[(first + t) * A]);
      } else {
        result[first + t] = lp;
      }
    }
    for (int64_t row : config.rows) {
      if (row >= static_cast<int64_t>(first) && row < static_cast<int64_t>(first + n)) {
        extra_rows.insert(extra_rows.end(), &out[(row - first) * A], &out[(row - first + 1) * A]);
      }
    }
  }
  nlohmann::ordered_json summary;
  summary["model"] = model->info().name;
  summary["symbols"] = symbols.size();
  summary["alphabet_size"] = A;
  summary["chunks"] = (symbols.size() + chunk_symbols - 1) / chunk_symbols;
  summary["total_bits"] = total_bits;
  summary["bits_per_symbol"] = total_bits / static_cast<double>(symbols.size());
  const ComputePlacement where = model->placement();
  summary["device"] = where.device;
  summary["dtype"] = where.dtype;
  if (!config.output.empty()) {
    for (int64_t row : config.rows) {
      if (row < 0 || row >= static_cast<int64_t>(symbols.size())) {
        throw_error(ErrorCode::usage, "--rows {}: outside the {} symbols", row, symbols.size());
      }
    }
    std::vector<uint64_t> shape = full_rows ? std::vector<uint64_t>{symbols.size(), A} : std::vector<uint64_t>{symbols.size()};
    write_file_atomically(config.output, npy_float32_bytes(result, shape));
    summary["output"] = config.output;
    if (!full_rows && !config.rows.empty()) {
      const std::string rows_path = config.output + ".rows.npy";
      write_file_atomically(rows_path, npy_float32_bytes(extra_rows, {config.rows.size(), A}));
      summary["rows_output"] = rows_path;
    }
  }
  return summary;
}

}  // namespace lmac
