// The AVX-512 kernel of encode_chunks_from_probs: batch_encoder_probs_avx2.cpp with 16 lanes, the same float32
// operations in the same order, so the same bits. It too codes 8 chunks: lane k < 8 holds chunk first_chunk + k at
// position t, lane 8 + k the same chunk at position t + 1. Sixteen different chunks would put 16 rows at the same
// offset modulo 4 KB (more than the ways of an L1 set) and 16 streams before the hardware prefetchers: on Zen 4
// that measured 30% slower. (Two such vectors, four positions, at a time measured no faster than one.) Every
// vector operation gives, lane by lane, the float32 value the plain path computes, in the same order:
//   pass 1: S = p[0] + p[1] + ... + p[A-1], left to right (normalize_pdf's sum);
//   pass 2: c[0] = 0, c[i+1] = c[i] + ((p[i] / S) * f + eps), each operation rounded to float32 (normalize_pdf's
//           quotient, multiply and add, then ArithmeticEncoder::encode's cumulative sum), but only up to
//           c[s+1] for the largest symbol s of the position: nothing above it is ever used.
// Only c[s] and c[s+1] leave the vectors; the integer coder steps run per lane in
// ArithmeticEncoder::encode_cumulative. The proofs that the plain encoder's checks cannot fail here, and of the
// division without a division instruction, are in batch_encoder_probs_proof.md.
#include "coding/batch_encoder_transpose16.hpp"  // LMAC_HAVE_X86, LMAC_AVX512, transpose16
#include "coding/batch_kernels.hpp"
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>

namespace lmac::batch_detail {

#ifdef LMAC_HAVE_X86

namespace {

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Pass 2 for W row sets (16 rows each): overwrites p[w][i] with c[i] for i <= last + 1 (slot A exists for
// last = A - 1).
// kMarkstein: q = p / S without a division instruction (see batch_encoder_probs_proof.md, part 3).
template <int W, bool kMarkstein>
LMAC_AVX512 inline void accumulate(int last, float* const p[W], const __m512 sum[W], __m512 factor, __m512 eps) {
  __m512 reciprocal[W], c[W];
  for (int w = 0; w < W; ++w) {
    reciprocal[w] = _mm512_div_ps(_mm512_set1_ps(1.0f), sum[w]);
    c[w] = _mm512_setzero_ps();
  }
  for (int i = 0; i <= last; ++i) {
    for (int w = 0; w < W; ++w) {
      float* slot = p[w] + static_cast<size_t>(i) * 16;
      const __m512 v = _mm512_load_ps(slot);
      __m512 q;
      if constexpr (kMarkstein) {
        const __m512 q0 = _mm512_mul_ps(v, reciprocal[w]);
        const __m512 r = _mm512_fnmadd_ps(q0, sum[w], v);
        q = _mm512_fmadd_ps(r, reciprocal[w], q0);
      } else {
        q = _mm512_div_ps(v, sum[w]);
      }
      q = _mm512_add_ps(_mm512_mul_ps(q, factor), eps);  // two roundings, as the reference
      _mm512_store_ps(slot, c[w]);
      c[w] = _mm512_add_ps(c[w], q);
    }
  }
  for (int w = 0; w < W; ++w) _mm512_store_ps(p[w] + static_cast<size_t>(last + 1) * 16, c[w]);
}

// Codes positions t .. t + 2P - 1 of the 8 chunks from first_chunk on. Row set w holds positions t + 2w (lanes
// 0..7) and t + 2w + 1 (lanes 8..15). With `single` (P = 1 only), just position t is coded: lanes 8..15 repeat
// lanes 0..7 and their results are dropped.
template <int P>
LMAC_AVX512 void code_positions(const ChunkBatch& batch, int first_chunk, int t, bool single, float* scratch,
                                 ArithmeticEncoder* encoders) {
  const int A = batch.alphabet;
  float* p[P];
  const float* rows[P][16];
  uint32_t symbols[P][16];
  for (int w = 0; w < P; ++w) {
    p[w] = scratch + (static_cast<size_t>(A) + 1) * 16 * static_cast<size_t>(w);
    for (int k = 0; k < 16; ++k) {
      const int row_t = t + 2 * w + (single ? 0 : k / 8);
      rows[w][k] = batch.row(first_chunk + k % 8, row_t);
      symbols[w][k] = batch.symbol(first_chunk + k % 8, row_t);
    }
  }
  // The position of lane k of set w, for error messages.
  auto lane_t = [&](int w, int k) { return t + 2 * w + (single ? 0 : k / 8); };
  // Pass 1: transpose into p and sum, one position after the other (see the AVX2 kernel). `signs` gathers the
  // sign bits of every value: a negative value is an error (NaN and infinity show up in the sum instead).
  __m512 sum[P];
  __m512i signs[P];
  for (int w = 0; w < P; ++w) {
    sum[w] = _mm512_setzero_ps();
    signs[w] = _mm512_setzero_si512();
    for (int i = 0; i < A; i += 16) {
      __m512 v[16];
      for (int k = 0; k < 16; ++k) v[k] = _mm512_loadu_ps(rows[w][k] + i);
      transpose16(v);
      for (int j = 0; j < 16; ++j) {
        _mm512_store_ps(p[w] + static_cast<size_t>(i + j) * 16, v[j]);
        sum[w] = _mm512_add_ps(sum[w], v[j]);
        signs[w] = _mm512_or_si512(signs[w], _mm512_castps_si512(v[j]));
      }
    }
  }
  bool all_moderate = true;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  const __m512 markstein_low = _mm512_set1_ps(0x1p-20f), markstein_high = _mm512_set1_ps(0x1p100f);
  for (int w = 0; w < P; ++w) {
    const __mmask16 ok = _mm512_cmp_ps_mask(sum[w], zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(sum[w], inf, _CMP_LT_OQ);
    if (ok != 0xFFFF) {
      const int k = __builtin_ctz(~ok & 0xFFFFu);
      throw_row_error(batch, first_chunk + k % 8, lane_t(w, k));
    }
    // A sign bit may come from -0.0, which is allowed: look at the row.
    for (unsigned mask = _mm512_cmplt_epi32_mask(signs[w], _mm512_setzero_si512()); mask != 0; mask &= mask - 1) {
      const int k = __builtin_ctz(mask);
      if (std::any_of(rows[w][k], rows[w][k] + A, [](float x) { return x < 0.0f; })) {
        throw_row_error(batch, first_chunk + k % 8, lane_t(w, k));
      }
    }
    const __mmask16 moderate = _mm512_cmp_ps_mask(sum[w], markstein_low, _CMP_GE_OQ) &
                               _mm512_cmp_ps_mask(sum[w], markstein_high, _CMP_LE_OQ);
    all_moderate = all_moderate && moderate == 0xFFFF;
  }
  // Pass 2, up to the largest symbol of these positions.
  uint32_t last = 0;
  for (int w = 0; w < P; ++w) {
    for (int k = 0; k < 16; ++k) last = std::max(last, symbols[w][k]);
  }
  const __m512 factor = _mm512_set1_ps(pdf_mix_factor(A));
  const __m512 eps = _mm512_set1_ps(kPdfEpsilon);
  if (all_moderate) {
    accumulate<P, true>(static_cast<int>(last), p, sum, factor, eps);
  } else {
    accumulate<P, false>(static_cast<int>(last), p, sum, factor, eps);
  }
  // The coder steps, position by position.
  for (int w = 0; w < P; ++w) {
    for (int k = 0; k < (single ? 8 : 16); ++k) {
      const size_t s = symbols[w][k];
      encoders[k % 8].encode_cumulative(p[w][s * 16 + static_cast<size_t>(k)],
                                        p[w][(s + 1) * 16 + static_cast<size_t>(k)]);
    }
  }
}

constexpr int kSets = 1;  // row sets per step: two positions each

}  // namespace

void encode_probs_8_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  const size_t scratch_bytes = (static_cast<size_t>(batch.alphabet) + 1) * 16 * kSets * sizeof(float);
  std::unique_ptr<float, AlignedFree> scratch(static_cast<float*>(std::aligned_alloc(64, scratch_bytes)));
  if (!scratch) throw_error(ErrorCode::out_of_memory, "cannot allocate {} bytes for the coder", scratch_bytes);
  ArithmeticEncoder encoders[8];
  int t = 0;
  for (; t + 2 * kSets <= batch.length; t += 2 * kSets) {
    code_positions<kSets>(batch, first_chunk, t, false, scratch.get(), encoders);
  }
  for (; t + 2 <= batch.length; t += 2) code_positions<1>(batch, first_chunk, t, false, scratch.get(), encoders);
  if (t < batch.length) code_positions<1>(batch, first_chunk, t, true, scratch.get(), encoders);
  for (int k = 0; k < 8; ++k) out[k] = encoders[k].finish();
}

#else

void encode_probs_8_avx512(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX-512 coding kernel is not built for this CPU architecture");
}

#endif

}  // namespace lmac::batch_detail
