// Internal to src/coding: the pieces the batch encoder's dispatcher (batch_encoder.cpp) and its AVX2 kernel
// (batch_encoder_avx2.cpp) share.
#pragma once

#include "coding/arithmetic_coder.hpp"

#include <cstdint>
#include <vector>

namespace lmac::batch_detail {

struct ChunkBatch {
  const float* log_probs;   // [chunk][t][alphabet]
  const uint32_t* symbols;  // [chunk][t]
  int length;
  int alphabet;

  const float* row(int chunk, int t) const {
    return log_probs + (static_cast<size_t>(chunk) * static_cast<size_t>(length) + static_cast<size_t>(t)) *
                           static_cast<size_t>(alphabet);
  }
  uint32_t symbol(int chunk, int t) const {
    return symbols[static_cast<size_t>(chunk) * static_cast<size_t>(length) + static_cast<size_t>(t)];
  }
};

// The plain path for one chunk: pdf_from_log_probs + ArithmeticEncoder::encode per position.
EncodedBits encode_chunk_scalar(const ChunkBatch& batch, int chunk);

// Called by a kernel that found a row it cannot code: runs the plain path on that row, which throws the same
// lmac::Error the plain path would have thrown for the whole chunk.
[[noreturn]] void throw_row_error(const ChunkBatch& batch, int chunk, int t);

// The AVX2 kernel also uses FMA (every AVX2 CPU made so far has it); both are checked.
bool avx2_fma_supported();

// Codes the eight chunks first_chunk .. first_chunk + 7 into out[0..7]. Needs alphabet % 8 == 0 and AVX2 + FMA.
void encode_group_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

// The same for sixteen chunks (two groups of eight whose dependency chains interleave): faster per chunk.
void encode_two_groups_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

// AVX-512 (batch_encoder_avx512.cpp): 32 or 16 chunks from first_chunk on. Need alphabet % 16 == 0.
bool avx512_supported();
void encode_32_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out);
void encode_16_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out);

}  // namespace lmac::batch_detail
