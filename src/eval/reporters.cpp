#include "eval/reporters.hpp"

#include <fmt/format.h>

namespace lmac {

namespace {

struct Row {
  std::string name, chunked, unchunked, speed, compressed, chunks;
};

Row row_of(const ResultRecord& r, bool percent) {
  auto ratio = [&](double v) { return percent ? fmt::format("{:.2f}%", 100.0 * v) : fmt::format("{:.6f}", v); };
  return {r.name,
          ratio(r.compression_ratio),
          r.compression_ratio_unchunked ? ratio(*r.compression_ratio_unchunked) : std::string(percent ? "-" : ""),
          fmt::format("{:.4g}", r.megabytes_per_second()),
          fmt::format("{}", r.compressed_bytes),
          fmt::format("{}", r.num_chunks)};
}

const Row kHeader{"Compressor name", "Chunked ratio", "Unchunked ratio", "Compress MB/s", "Compressed bytes", "Chunks"};

}  // namespace

std::string render_results(const std::vector<ResultRecord>& records, const std::string& format) {
  std::string out;
  if (format == "csv") {
    out += "compressor,compression_ratio,compression_ratio_unchunked,compress_mb_per_s,compressed_bytes,num_chunks\n";
    for (const auto& r : records) {
      Row row = row_of(r, false);
      out += fmt::format("{},{},{},{},{},{}\n", row.name, row.chunked, row.unchunked, row.speed, row.compressed, row.chunks);
    }
    return out;
  }
  if (format == "markdown") {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", kHeader.name, kHeader.chunked, kHeader.unchunked,
                       kHeader.speed, kHeader.compressed, kHeader.chunks);
    out += "|---|---:|---:|---:|---:|---:|\n";
    for (const auto& r : records) {
      Row row = row_of(r, true);
      out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", row.name, row.chunked, row.unchunked, row.speed,
                         row.compressed, row.chunks);
    }
    return out;
  }
  size_t name_width = kHeader.name.size();
  for (const auto& r : records) name_width = std::max(name_width, r.name.size());
  auto line = [&](const Row& row) {
    return fmt::format("{:<{}}  {:>13}  {:>15}  {:>13}  {:>16}  {:>6}\n", row.name, name_width, row.chunked,
                       row.unchunked, row.speed, row.compressed, row.chunks);
  };
  out += line(kHeader);
  for (const auto& r : records) out += line(row_of(r, true));
  return out;
}

}  // namespace lmac
