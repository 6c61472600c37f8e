// Internal to src/coding: the pieces the batch encoder's dispatcher (batch_encoder.cpp) and its SIMD kernels
// (batch_encoder_avx2.cpp, batch_encoder_avx512.cpp, batch_encoder_probs_*.cpp) share.
#pragma once

#include "coding/arithmetic_coder.hpp"

#include <cstdint>
#include <vector>

namespace lmac::batch_detail {

struct ChunkBatch {
  const float* values;      // [chunk][t][alphabet]: log-probabilities, or probabilities if `probabilities`
  const uint32_t* symbols;  // [chunk][t]
  int length;
  int alphabet;
  bool probabilities;       // rows are probabilities (normalize_pdf only), not log-probabilities (exp first)

  const float* row(int chunk, int t) const {
    return values + (static_cast<size_t>(chunk) * static_cast<size_t>(length) + static_cast<size_t>(t)) *
                        static_cast<size_t>(alphabet);
  }
  uint32_t symbol(int chunk, int t) const {
    return symbols[static_cast<size_t>(chunk) * static_cast<size_t>(length) + static_cast<size_t>(t)];
  }
};

// A kernel codes `chunks` consecutive chunks from first_chunk on into out[0 .. chunks - 1].
using KernelFn = void (*)(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

// The plain path for one chunk: (exp_f32 +) normalize_pdf + ArithmeticEncoder::encode per position.
EncodedBits encode_chunk_scalar(const ChunkBatch& batch, int chunk);

// Called by a kernel that found a row it cannot code: runs the plain path on that row, which throws the same
// lmac::Error the plain path would have thrown for the whole chunk.
[[noreturn]] void throw_row_error(const ChunkBatch& batch, int chunk, int t);

// The AVX2 kernels also use FMA (every AVX2 CPU made so far has it); both are checked.
bool avx2_fma_supported();
bool avx512_supported();  // AVX-512F + FMA

// From log-probabilities. AVX2 (alphabet % 8 == 0): 8 or 16 chunks. AVX-512 (alphabet % 16 == 0): 16 or 32.
void encode_group_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out);
void encode_two_groups_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out);
void encode_32_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out);
void encode_16_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

// From probabilities (batch_encoder_probs_avx2.cpp, batch_encoder_probs_avx512.cpp). AVX2 (alphabet % 8 == 0):
// 8 chunks. AVX-512 (alphabet % 16 == 0): also 8 chunks, two positions per vector.
void encode_probs_8_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out);
void encode_probs_8_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

}  // namespace lmac::batch_detail
