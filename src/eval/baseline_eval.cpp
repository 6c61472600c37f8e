#include "eval/baseline_eval.hpp"

#include <chrono>

#include "codecs/compressor.hpp"
#include "eval/protocol.hpp"
#include "util/progress_bar.hpp"

namespace lmac {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

ResultRecord evaluate_baseline(const std::string& compressor_name, const Corpus& corpus, ProgressBar& progress) {
  const auto start = Clock::now();
  const auto compressor = make_compressor(compressor_name);
  const SymbolFormat first_format = corpus.format_of(corpus.chunks.front());

  // The header probe: the whole output for one zero sample of the stream's width.
  const Bytes zero_sample(static_cast<size_t>(first_format.bytes_per_sample()), 0);
  const uint64_t header_bytes = compressor->compress(zero_sample, first_format).size();

  ResultRecord r;
  r.name = compressor_name;
  r.compressor_type = "baseline";
  r.num_chunks = corpus.chunks.size();
  r.raw_bytes = corpus.raw_bytes();
  for (const Chunk& chunk : corpus.chunks) {
    const auto t = Clock::now();
    const Bytes out = compressor->compress(corpus.chunk_bytes(chunk), corpus.format_of(chunk));
    r.compression_time += seconds_since(t);
    r.compressed_bytes += out.size();
    progress.advance();
  }
  r.compression_ratio = chunked_ratio_header_once(r.compressed_bytes, r.raw_bytes, header_bytes, r.num_chunks);

  // Unchunked: all chunks joined, one call, at the first file's rate.
  Bytes joined;
  joined.reserve(r.raw_bytes);
  for (const Chunk& chunk : corpus.chunks) {
    ByteView b = corpus.chunk_bytes(chunk);
    joined.insert(joined.end(), b.begin(), b.end());
  }
  const auto t = Clock::now();
  const uint64_t unchunked_bytes = compressor->compress(joined, first_format).size();
  const double unchunked_time = seconds_since(t);
  r.compression_ratio_unchunked = static_cast<double>(unchunked_bytes) / static_cast<double>(r.raw_bytes);

  r.details["header_bytes"] = header_bytes;
  r.details["compressed_bytes_unchunked"] = unchunked_bytes;
  r.details["compression_time_unchunked"] = unchunked_time;
  r.total_time = seconds_since(start);
  return r;
}

}  // namespace lmac
