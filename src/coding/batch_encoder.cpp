#include "coding/batch_encoder.hpp"

#include "coding/batch_kernels.hpp"
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace lmac {
namespace batch_detail {

namespace {
// Adds the chunk and position to an error from the plain path.
[[noreturn]] void rethrow_with_position(const Error& e, int chunk, int t) {
  throw Error(e.code(), fmt::format("chunk {} position {}: {}", chunk, t, e.what()));
}
}  // namespace

EncodedBits encode_chunk_scalar(const ChunkBatch& batch, int chunk) {
  std::vector<float> pdf(static_cast<size_t>(batch.alphabet));
  ArithmeticEncoder encoder;
  const size_t A = static_cast<size_t>(batch.alphabet);
  for (int t = 0; t < batch.length; ++t) {
    try {
      pdf_from_log_probs(std::span<const float>(batch.row(chunk, t), A), pdf);
      encoder.encode(pdf, batch.symbol(chunk, t));
    } catch (const Error& e) {
      rethrow_with_position(e, chunk, t);
    }
  }
  return encoder.finish();
}

void throw_row_error(const ChunkBatch& batch, int chunk, int t) {
  std::vector<float> pdf(static_cast<size_t>(batch.alphabet));
  ArithmeticEncoder encoder;
  try {
    pdf_from_log_probs(std::span<const float>(batch.row(chunk, t), pdf.size()), pdf);
    encoder.encode(pdf, batch.symbol(chunk, t));
  } catch (const Error& e) {
    rethrow_with_position(e, chunk, t);
  }
  throw_error(ErrorCode::internal, "chunk {} position {}: the AVX2 coder refused a row the plain path accepts", chunk,
              t);
}

}  // namespace batch_detail

bool batch_kernel_available(BatchKernel kernel) {
  switch (kernel) {
    case BatchKernel::avx2:
      return batch_detail::avx2_fma_supported();
    case BatchKernel::avx512:
      return batch_detail::avx512_supported();
    default:
      return true;
  }
}

std::vector<EncodedBits> encode_chunks(std::span<const float> log_probs, std::span<const uint32_t> symbols,
                                       int num_chunks, int length, int alphabet, const BatchEncodeOptions& options) {
  using namespace batch_detail;
  if (num_chunks < 0 || length < 0) {
    throw_error(ErrorCode::internal, "encode_chunks: {} chunks of length {}", num_chunks, length);
  }
  if (alphabet < kMinAlphabet || alphabet > kMaxAlphabet) {
    throw_error(ErrorCode::internal, "encode_chunks: alphabet of {} symbols; the coder takes {} to {}", alphabet,
                kMinAlphabet, kMaxAlphabet);
  }
  const size_t cells = static_cast<size_t>(num_chunks) * static_cast<size_t>(length);
  if (symbols.size() != cells || log_probs.size() != cells * static_cast<size_t>(alphabet)) {
    throw_error(ErrorCode::internal,
                "encode_chunks: {} chunks x {} positions x {} symbols need {} log-probs and {} symbols, got {} and {}",
                num_chunks, length, alphabet, cells * static_cast<size_t>(alphabet), cells, log_probs.size(),
                symbols.size());
  }
  for (size_t i = 0; i < cells; ++i) {
    if (symbols[i] >= static_cast<uint32_t>(alphabet)) {
      throw_error(ErrorCode::internal, "chunk {} position {}: symbol {} is outside the alphabet of {}",
                  i / static_cast<size_t>(std::max(length, 1)), i % static_cast<size_t>(std::max(length, 1)),
                  symbols[i], alphabet);
    }
  }
  if (!batch_kernel_available(options.kernel)) {
    throw_error(ErrorCode::unsupported, "the {} coding kernel was asked for, but this CPU cannot run it",
                options.kernel == BatchKernel::avx2 ? "AVX2" : "AVX-512");
  }
  const bool automatic = options.kernel == BatchKernel::automatic;
  const bool use_avx512 = (automatic || options.kernel == BatchKernel::avx512) && avx512_supported() &&
                          alphabet % 16 == 0;
  const bool use_avx2 = (automatic || options.kernel == BatchKernel::avx2 || options.kernel == BatchKernel::avx512) &&
                        avx2_fma_supported() && alphabet % 8 == 0;

  const ChunkBatch batch{log_probs.data(), symbols.data(), length, alphabet};
  std::vector<EncodedBits> out(static_cast<size_t>(num_chunks));
  // Work items: the widest kernel first, then narrower ones for what is left, then single chunks.
  struct Item {
    int first_chunk;
    int chunks;  // 32 or 16 (AVX-512), 16 or 8 (AVX2), 1 (scalar)
    bool avx512;
  };
  std::vector<Item> work;
  int next_chunk = 0;
  if (use_avx512) {
    for (; next_chunk + 32 <= num_chunks; next_chunk += 32) work.push_back({next_chunk, 32, true});
    for (; next_chunk + 16 <= num_chunks; next_chunk += 16) work.push_back({next_chunk, 16, true});
  }
  if (use_avx2) {
    for (; next_chunk + 16 <= num_chunks; next_chunk += 16) work.push_back({next_chunk, 16, false});
    for (; next_chunk + 8 <= num_chunks; next_chunk += 8) work.push_back({next_chunk, 8, false});
  }
  for (; next_chunk < num_chunks; ++next_chunk) work.push_back({next_chunk, 1, false});
  const int items = static_cast<int>(work.size());
  auto run_item = [&](int item) {
    const Item& w = work[static_cast<size_t>(item)];
    EncodedBits* dest = &out[static_cast<size_t>(w.first_chunk)];
    if (w.avx512) {
      (w.chunks == 32 ? encode_32_avx512 : encode_16_avx512)(batch, w.first_chunk, dest);
    } else if (w.chunks == 16) {
      encode_two_groups_avx2(batch, w.first_chunk, dest);
    } else if (w.chunks == 8) {
      encode_group_avx2(batch, w.first_chunk, dest);
    } else {
      *dest = encode_chunk_scalar(batch, w.first_chunk);
    }
  };

  int threads = options.num_threads > 0 ? options.num_threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, std::max(items, 1));
  if (threads == 1) {
    for (int item = 0; item < items; ++item) run_item(item);
    return out;
  }
  // Threads take items in order from a shared counter. After an error no new item starts; of the errors seen, the
  // one of the lowest item is rethrown.
  std::atomic<int> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  int error_item = items;
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&] {
      for (int item = next++; item < items; item = next++) {
        try {
          run_item(item);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (item < error_item) {
            error_item = item;
            error = std::current_exception();
          }
          next = items;  // stop handing out work
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace lmac
