// Many independent chunks coded at once, from log-probabilities to code: the evaluation's fast path.
//
// The reference's float32 sums are sequential, so one pdf is one long chain of dependent additions. The AVX2
// kernel puts eight chunks side by side in the eight lanes of a vector, so each lane still sums its own pdf left
// to right while the eight chains run together. Every step rounds exactly as the plain path does (exp_f32,
// normalize_pdf, ArithmeticEncoder::encode), so the output is the same, bit for bit, with or without AVX2 and with
// any number of threads; the unit tests hold the kernels to that.
#pragma once

#include "coding/arithmetic_coder.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace lmac {

enum class BatchKernel {
  automatic,  // AVX2 when the CPU has it and the alphabet size is a multiple of 8, else scalar
  scalar,     // the plain path: pdf_from_log_probs + ArithmeticEncoder::encode, one chunk at a time
  avx2,       // eight chunks per vector (chunks left over after groups of eight go through the scalar path)
};

struct BatchEncodeOptions {
  int num_threads = 1;  // 0: one per hardware thread. Chunks are shared out in groups of eight.
  BatchKernel kernel = BatchKernel::automatic;
};

// Whether `kernel` can run here (scalar and automatic always can; avx2 needs the CPU feature).
bool batch_kernel_available(BatchKernel kernel);

// Codes num_chunks independent chunks of `length` symbols each. log_probs holds natural-log probabilities laid out
// [chunk][t][alphabet] (row t of a chunk is the model's prediction for symbol t); symbols is [chunk][t]. Each row
// becomes pdf_from_log_probs(row) and codes symbols[chunk][t]. Returns one EncodedBits per chunk.
// Throws lmac::Error: ErrorCode::internal for mismatched sizes, a symbol out of range, or a row whose
// probabilities do not give a pdf the coder accepts (the message names the chunk and position);
// ErrorCode::unsupported if kernel == avx2 and this CPU lacks AVX2.
std::vector<EncodedBits> encode_chunks(std::span<const float> log_probs, std::span<const uint32_t> symbols,
                                       int num_chunks, int length, int alphabet,
                                       const BatchEncodeOptions& options = {});

}  // namespace lmac
