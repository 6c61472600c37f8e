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

// One row through the plain path: (exp_f32 +) normalize_pdf, then the encoder step.
void encode_row_plain(const ChunkBatch& batch, int chunk, int t, std::vector<float>& pdf, ArithmeticEncoder& encoder) {
  const std::span<const float> row(batch.row(chunk, t), pdf.size());
  if (batch.probabilities) {
    std::copy(row.begin(), row.end(), pdf.begin());
    normalize_pdf(pdf);
  } else {
    pdf_from_log_probs(row, pdf);
  }
  encoder.encode(pdf, batch.symbol(chunk, t));
}

}  // namespace

EncodedBits encode_chunk_scalar(const ChunkBatch& batch, int chunk) {
  std::vector<float> pdf(static_cast<size_t>(batch.alphabet));
  ArithmeticEncoder encoder;
  for (int t = 0; t < batch.length; ++t) {
    try {
      encode_row_plain(batch, chunk, t, pdf, encoder);
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
    encode_row_plain(batch, chunk, t, pdf, encoder);
  } catch (const Error& e) {
    rethrow_with_position(e, chunk, t);
  }
  throw_error(ErrorCode::internal, "chunk {} position {}: the SIMD coder refused a row the plain path accepts", chunk,
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

namespace {

// The kernels the dispatcher may use for one kind of input, widest first.
struct KernelChoice {
  int chunks;
  bool avx512;  // else AVX2
  batch_detail::KernelFn fn;
};

constexpr KernelChoice kLogProbKernels[] = {{32, true, batch_detail::encode_32_avx512},
                                            {16, true, batch_detail::encode_16_avx512},
                                            {16, false, batch_detail::encode_two_groups_avx2},
                                            {8, false, batch_detail::encode_group_avx2}};
constexpr KernelChoice kProbKernels[] = {{8, true, batch_detail::encode_probs_8_avx512},
                                         {8, false, batch_detail::encode_probs_8_avx2}};

// The shared body of encode_chunks and encode_chunks_from_probs: argument checks, work items, threads.
std::vector<EncodedBits> encode_batch(const char* name, std::span<const float> values,
                                      std::span<const uint32_t> symbols, int num_chunks, int length, int alphabet,
                                      const BatchEncodeOptions& options, bool probabilities,
                                      std::span<const KernelChoice> kernels, bool avx512_when_automatic) {
  using namespace batch_detail;
  if (num_chunks < 0 || length < 0) {
    throw_error(ErrorCode::internal, "{}: {} chunks of length {}", name, num_chunks, length);
  }
  if (alphabet < kMinAlphabet || alphabet > kMaxAlphabet) {
    throw_error(ErrorCode::internal, "{}: alphabet of {} symbols; the coder takes {} to {}", name, alphabet,
                kMinAlphabet, kMaxAlphabet);
  }
  const size_t cells = static_cast<size_t>(num_chunks) * static_cast<size_t>(length);
  if (symbols.size() != cells || values.size() != cells * static_cast<size_t>(alphabet)) {
    throw_error(ErrorCode::internal,
                "{}: {} chunks x {} positions x {} symbols need {} {} and {} symbols, got {} and {}", name,
                num_chunks, length, alphabet, cells * static_cast<size_t>(alphabet),
                probabilities ? "probabilities" : "log-probs", cells, values.size(), symbols.size());
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
  const bool use_avx512 = ((automatic && avx512_when_automatic) || options.kernel == BatchKernel::avx512) &&
                          avx512_supported() && alphabet % 16 == 0;
  const bool use_avx2 = (automatic || options.kernel == BatchKernel::avx2 || options.kernel == BatchKernel::avx512) &&
                        avx2_fma_supported() && alphabet % 8 == 0;

  const ChunkBatch batch{values.data(), symbols.data(), length, alphabet, probabilities};
  std::vector<EncodedBits> out(static_cast<size_t>(num_chunks));
  // Work items: the widest kernel first, then narrower ones for what is left, then single chunks (fn == nullptr).
  struct Item {
    int first_chunk;
    KernelFn fn;
  };
  std::vector<Item> work;
  int next_chunk = 0;
  for (const KernelChoice& k : kernels) {
    if (!(k.avx512 ? use_avx512 : use_avx2)) continue;
    for (; next_chunk + k.chunks <= num_chunks; next_chunk += k.chunks) work.push_back({next_chunk, k.fn});
  }
  for (; next_chunk < num_chunks; ++next_chunk) work.push_back({next_chunk, nullptr});
  const int items = static_cast<int>(work.size());
  auto run_item = [&](int item) {
    const Item& w = work[static_cast<size_t>(item)];
    EncodedBits* dest = &out[static_cast<size_t>(w.first_chunk)];
    if (w.fn) {
      w.fn(batch, w.first_chunk, dest);
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

}  // namespace

std::vector<EncodedBits> encode_chunks(std::span<const float> log_probs, std::span<const uint32_t> symbols,
                                       int num_chunks, int length, int alphabet, const BatchEncodeOptions& options) {
  return encode_batch("encode_chunks", log_probs, symbols, num_chunks, length, alphabet, options, false,
                      kLogProbKernels, true);
}

std::vector<EncodedBits> encode_chunks_from_probs(std::span<const float> probs, std::span<const uint32_t> symbols,
                                                  int num_chunks, int length, int alphabet,
                                                  const BatchEncodeOptions& options) {
  // automatic takes the AVX2 kernel even where AVX-512 runs: on the Zen 4 this was measured on, the AVX-512
  // kernel matched it in cache and was a third slower streaming from memory (bench/results/coder.md).
  return encode_batch("encode_chunks_from_probs", probs, symbols, num_chunks, length, alphabet, options, true,
                      kProbKernels, false);
}

}  // namespace lmac
