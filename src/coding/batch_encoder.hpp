// Many independent chunks coded at once, from log-probabilities (or probabilities) to code: the evaluation's fast
// path.
//
// The reference's float32 sums are sequential, so one pdf is one long chain of dependent additions. The SIMD
// kernels put 8 (AVX2) or 16 (AVX-512) chunks side by side in the lanes of a vector, so each lane still sums its
// own pdf left to right while the chains run together. Every step rounds exactly as the plain path does (exp_f32,
// normalize_pdf, ArithmeticEncoder::encode), so the output is the same, bit for bit, with any kernel and any number
// of threads; the unit tests hold the kernels to that.
#pragma once

#include "coding/arithmetic_coder.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace lmac {

enum class BatchKernel {
  automatic,  // the fastest this CPU and alphabet allow: avx512, else avx2, else scalar
  scalar,     // the plain path: pdf_from_log_probs + ArithmeticEncoder::encode, one chunk at a time
  avx2,       // eight chunks per vector, two vectors at a time; needs AVX2 + FMA and alphabet % 8 == 0
  avx512,     // sixteen chunks per vector, two vectors at a time; needs AVX-512F + FMA and alphabet % 16 == 0
              // (with avx2 or avx512, chunks left over after the full groups go through the next smaller kernel)
};

struct BatchEncodeOptions {
  int num_threads = 1;  // 0: one per hardware thread. Chunks are shared out in groups of sixteen or eight.
  BatchKernel kernel = BatchKernel::automatic;
};

// Whether `kernel` can run on this CPU (scalar and automatic always can).
bool batch_kernel_available(BatchKernel kernel);

// Codes num_chunks independent chunks of `length` symbols each. log_probs holds natural-log probabilities laid out
// [chunk][t][alphabet] (row t of a chunk is the model's prediction for symbol t); symbols is [chunk][t]. Each row
// becomes pdf_from_log_probs(row) and codes symbols[chunk][t]. Returns one EncodedBits per chunk.
// Throws lmac::Error: ErrorCode::internal for mismatched sizes, a symbol out of range, or a row whose
// probabilities do not give a pdf the coder accepts (the message names the chunk and position);
// ErrorCode::unsupported if the kernel asked for cannot run on this CPU.
std::vector<EncodedBits> encode_chunks(std::span<const float> log_probs, std::span<const uint32_t> symbols,
                                       int num_chunks, int length, int alphabet,
                                       const BatchEncodeOptions& options = {});

// The same from probabilities instead of log-probabilities: probs holds float32 probabilities (not necessarily
// normalised; the reference's coder gets exp(log_probs)) laid out [chunk][t][alphabet]. Each row becomes
// normalize_pdf(row) and codes symbols[chunk][t]: the output is, bit for bit, that of normalize_pdf +
// ArithmeticEncoder::encode on every row. Throws as encode_chunks does, with the plain path's message for a row
// normalize_pdf refuses (a negative, NaN or infinite value, or a sum that is not finite and positive).
// The SIMD kernels code 8 chunks at a time; automatic picks the AVX2 kernel (AVX-512 only when asked for: it was
// not faster where measured).
std::vector<EncodedBits> encode_chunks_from_probs(std::span<const float> probs, std::span<const uint32_t> symbols,
                                                  int num_chunks, int length, int alphabet,
                                                  const BatchEncodeOptions& options = {});

}  // namespace lmac
