#include "eval/model_eval.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <new>

#include "coding/batch_encoder.hpp"
#include "eval/model_scoring.hpp"
#include "eval/protocol.hpp"
#include "util/error.hpp"
#include "util/progress_bar.hpp"

namespace lmac {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Chunks per forward pass when --batch_size is automatic: bounded so that the log-prob buffer stays near
// 256 MiB (the model's own activations scale the same way).
int automatic_batch_size(size_t symbols_per_chunk, size_t alphabet) {
  const size_t per_chunk = symbols_per_chunk * alphabet * sizeof(float);
  return static_cast<int>(std::clamp<size_t>((size_t{256} << 20) / std::max<size_t>(per_chunk, 1), 1, 16));
}

}  // namespace

ResultRecord evaluate_model(LanguageModel& model, const EvalConfig& config, const Corpus& corpus,
                            ProgressBar& progress) {
  const ModelInfo& info = model.info();
  const size_t A = static_cast<size_t>(model.alphabet_size());
  const size_t num_chunks = corpus.chunks.size();

  // Every chunk has the same number of symbols, so chunks batch without padding.
  std::vector<std::vector<uint32_t>> chunk_symbols(num_chunks);
  uint64_t dropped_bits = 0;
  for (size_t i = 0; i < num_chunks; ++i) {
    ByteView bytes = corpus.chunk_bytes(corpus.chunks[i]);
    chunk_symbols[i] = symbols_of_chunk(bytes, corpus.format_of(corpus.chunks[i]), model.alphabet_size());
    dropped_bits += dropped_bits_of_chunk(bytes, model.alphabet_size());
  }
  const int length = static_cast<int>(chunk_symbols.front().size());

  const int automatic = model.automatic_batch_size(length);
  int batch_size = config.batch_size > 0 ? config.batch_size
                   : automatic > 0       ? automatic
                                         : automatic_batch_size(length, A);
  uint64_t total_bits = 0, compressed_bytes = 0;
  // Every chunk is really arithmetic-coded: the size counted is the size of real code.
  auto account = [&](const std::vector<EncodedBits>& coded) {
    for (const EncodedBits& code : coded) {
      total_bits += code.num_bits;
      compressed_bytes += code.bytes.size();  // the reference counts whole bytes per chunk
    }
    progress.advance(coded.size());
  };
  // A model on a GPU leaves the host cores idle during its pass: batch k is coded on them while batch k+1 is
  // scored. Two buffers alternate, so the coder never reads a buffer being written.
  // (The buffers are declared first so that an exception waits for the coder before freeing them.)
  std::vector<uint32_t> symbols[2];
  std::vector<float> log_probs[2];
  int slot = 0;
  const bool overlap = model.placement().on_gpu;
  std::future<std::vector<EncodedBits>> coding;
  auto finish_coding = [&] {
    if (coding.valid()) account(coding.get());
  };
  const auto start = Clock::now();
  for (size_t first = 0; first < num_chunks;) {
    const int batch = static_cast<int>(std::min<size_t>(batch_size, num_chunks - first));
    symbols[slot].clear();
    for (int b = 0; b < batch; ++b)
      symbols[slot].insert(symbols[slot].end(), chunk_symbols[first + b].begin(), chunk_symbols[first + b].end());
    try {
      log_probs[slot].resize(symbols[slot].size() * A);  // every element is written by the model
      score_in_windows(model, symbols[slot], batch, length, config.max_length, config.slow_compression, log_probs[slot]);
    } catch (const std::exception& e) {
      // Out of memory (host or GPU): halve the batch and retry the same chunks, so none is lost or counted twice.
      const auto* error = dynamic_cast<const Error*>(&e);
      const bool oom = dynamic_cast<const std::bad_alloc*>(&e) || (error && error->code() == ErrorCode::out_of_memory);
      if (!oom) throw;
      if (batch == 1) {
        throw_error(ErrorCode::out_of_memory, "{}: out of memory scoring one chunk of {} symbols at batch size 1: {}",
                    info.name, length, e.what());
      }
      batch_size = std::max(1, batch / 2);
      continue;
    }
    auto encode = [&log_probs, &symbols, slot, batch, length, A] {
      return encode_chunks(log_probs[slot], symbols[slot], batch, length, static_cast<int>(A), {.num_threads = 0});
    };
    if (overlap) {
      finish_coding();
      coding = std::async(std::launch::async, encode);
    } else {
      account(encode());
    }
    slot ^= 1;
    first += batch;
  }
  finish_coding();
  const double compression_time = seconds_since(start);

  ResultRecord r;
  r.name = info.name;
  r.compressor_type = "language_model";
  r.num_chunks = num_chunks;
  r.raw_bytes = corpus.raw_bytes();
  r.compressed_bytes = compressed_bytes;
  r.compression_time = compression_time;
  r.details["model_type"] = info.model_type;
  r.details["format"] = info.format;
  r.details["model_path"] = info.path;
  if (dropped_bits > 0) {
    r.compression_ratio = masked_ratio(static_cast<double>(compressed_bytes), r.raw_bytes, dropped_bits, num_chunks,
                                       corpus.chunk_size);
    // The dropped low bits really stored, packed 8 per byte, per chunk.
    const uint64_t stored = compressed_bytes + num_chunks * ((corpus.chunk_size + 7) / 8);
    r.details["compression_ratio_stored_bits"] = static_cast<double>(stored) / static_cast<double>(r.raw_bytes);
  } else {
    r.compression_ratio = static_cast<double>(compressed_bytes) / static_cast<double>(r.raw_bytes);
  }
  r.details["bits_per_symbol"] = static_cast<double>(total_bits) / static_cast<double>(num_chunks * length);
  r.details["symbols_per_second"] = compression_time > 0 ? num_chunks * length / compression_time : 0.0;
  r.details["batch_size"] = batch_size;
  const ComputePlacement where = model.placement();
  r.details["device"] = where.device;
  r.details["dtype"] = where.dtype;
  if (where.on_gpu) r.details["peak_device_memory_bytes"] = where.peak_device_memory_bytes;
  r.details["fingerprint"] = info.fingerprint;
  return r;
}

}  // namespace lmac
