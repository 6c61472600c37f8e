// The AVX2 kernel of encode_chunks_from_probs: 8 chunks in the 8 lanes of a vector (lane k holds chunk
// first_chunk + k), two positions at a time so that two independent addition chains interleave. Every
// vector operation gives, lane by lane, the float32 value the plain path computes, in the same order:
//   pass 1: S = p[0] + p[1] + ... + p[A-1], left to right (normalize_pdf's sum);
//   pass 2: c[0] = 0, c[i+1] = c[i] + ((p[i] / S) * f + eps), each operation rounded to float32 (normalize_pdf's
//           quotient, multiply and add, then ArithmeticEncoder::encode's cumulative sum), but only up to
//           c[s+1] for the largest symbol s of the position: nothing above it is ever used.
// Only c[s] and c[s+1] leave the vectors; the integer coder steps run per lane in
// ArithmeticEncoder::encode_cumulative. The proofs that the plain encoder's checks cannot fail here, and of the
// division without a division instruction, are in batch_encoder_probs_proof.md.
#include "coding/batch_kernels.hpp"
#include "coding/exp_f32_kernel.hpp"  // LMAC_HAVE_X86, <immintrin.h>
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>

namespace lmac::batch_detail {

#ifdef LMAC_HAVE_X86

namespace {

#define LMAC_AVX2_FMA __attribute__((target("avx2,fma")))

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Values i .. i+7 of rows r[0..7], transposed: out[j] lane k = r[k][i + j]. Each vector starts as two 128-bit
// loads (rows k and k + 4), so only a 4x4 transpose inside each 128-bit half remains: 16 shuffles per 8 vectors
// instead of the 24 of a full 8x8 transpose.
LMAC_AVX2_FMA inline void load_transposed(const float* const r[8], int i, __m256 out[8]) {
  __m256 a[8];
  for (int k = 0; k < 4; ++k) {
    a[k] = _mm256_loadu2_m128(r[k + 4] + i, r[k] + i);
    a[k + 4] = _mm256_loadu2_m128(r[k + 4] + i + 4, r[k] + i + 4);
  }
  for (int h = 0; h < 8; h += 4) {
    const __m256 t0 = _mm256_unpacklo_ps(a[h], a[h + 1]), t1 = _mm256_unpackhi_ps(a[h], a[h + 1]);
    const __m256 t2 = _mm256_unpacklo_ps(a[h + 2], a[h + 3]), t3 = _mm256_unpackhi_ps(a[h + 2], a[h + 3]);
    out[h + 0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    out[h + 1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    out[h + 2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    out[h + 3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  }
}

// Pass 2 for W row sets (8 rows each): overwrites p[w][i] with c[i] for i <= last + 1 (slot A exists for
// last = A - 1).
// kMarkstein: q = p / S without a division instruction (see batch_encoder_probs_proof.md, part 3).
template <int W, bool kMarkstein>
LMAC_AVX2_FMA inline void accumulate(int last, float* const p[W], const __m256 sum[W], __m256 factor, __m256 eps) {
  __m256 reciprocal[W], c[W];
  for (int w = 0; w < W; ++w) {
    reciprocal[w] = _mm256_div_ps(_mm256_set1_ps(1.0f), sum[w]);
    c[w] = _mm256_setzero_ps();
  }
  for (int i = 0; i <= last; ++i) {
    for (int w = 0; w < W; ++w) {
      float* slot = p[w] + static_cast<size_t>(i) * 8;
      const __m256 v = _mm256_load_ps(slot);
      __m256 q;
      if constexpr (kMarkstein) {
        const __m256 q0 = _mm256_mul_ps(v, reciprocal[w]);
        const __m256 r = _mm256_fnmadd_ps(q0, sum[w], v);
        q = _mm256_fmadd_ps(r, reciprocal[w], q0);
      } else {
        q = _mm256_div_ps(v, sum[w]);
      }
      q = _mm256_add_ps(_mm256_mul_ps(q, factor), eps);  // two roundings, as the reference
      _mm256_store_ps(slot, c[w]);
      c[w] = _mm256_add_ps(c[w], q);
    }
  }
  for (int w = 0; w < W; ++w) _mm256_store_ps(p[w] + static_cast<size_t>(last + 1) * 8, c[w]);
}

// Codes positions t .. t + P - 1 of the 8 chunks from first_chunk on. Row set w is the 8 rows of position t + w;
// the P sets give P independent addition chains to interleave in pass 2.
template <int P>
LMAC_AVX2_FMA void code_positions(const ChunkBatch& batch, int first_chunk, int t, float* scratch,
                                   ArithmeticEncoder* encoders) {
  const int A = batch.alphabet;
  float* p[P];
  const float* rows[P][8];
  for (int w = 0; w < P; ++w) {
    p[w] = scratch + (static_cast<size_t>(A) + 1) * 8 * static_cast<size_t>(w);
    for (int k = 0; k < 8; ++k) rows[w][k] = batch.row(first_chunk + k, t + w);
  }
  // Pass 1: transpose into p and sum, one position after the other, so that each chunk's rows are read in
  // address order (the hardware prefetchers follow 8 such streams; interleaving the positions here measured
  // slower). A row's 64-byte line is read whole (i steps by 16), so each line is used once. `signs` gathers the
  // sign bits of every value: a negative value is an error (NaN and infinity show up in the sum instead).
  __m256 sum[P], signs[P];
  for (int w = 0; w < P; ++w) {
    sum[w] = signs[w] = _mm256_setzero_ps();
    for (int i = 0; i < A; i += 16) {
      for (int half = i; half < i + 16 && half < A; half += 8) {
        __m256 v[8];
        load_transposed(rows[w], half, v);
        for (int j = 0; j < 8; ++j) {
          _mm256_store_ps(p[w] + static_cast<size_t>(half + j) * 8, v[j]);
          sum[w] = _mm256_add_ps(sum[w], v[j]);
          signs[w] = _mm256_or_ps(signs[w], v[j]);
        }
      }
    }
  }
  bool all_moderate = true;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256 markstein_low = _mm256_set1_ps(0x1p-20f), markstein_high = _mm256_set1_ps(0x1p100f);
  for (int w = 0; w < P; ++w) {
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(sum[w], zero, _CMP_GT_OQ), _mm256_cmp_ps(sum[w], inf, _CMP_LT_OQ));
    if (const int mask = _mm256_movemask_ps(ok); mask != 0xFF) {
      throw_row_error(batch, first_chunk + __builtin_ctz(~mask & 0xFF), t + w);
    }
    // A sign bit may come from -0.0, which is allowed: look at the row.
    for (int mask = _mm256_movemask_ps(signs[w]); mask != 0; mask &= mask - 1) {
      const int k = __builtin_ctz(static_cast<unsigned>(mask));
      if (std::any_of(rows[w][k], rows[w][k] + A, [](float x) { return x < 0.0f; })) {
        throw_row_error(batch, first_chunk + k, t + w);
      }
    }
    const __m256 moderate = _mm256_and_ps(_mm256_cmp_ps(sum[w], markstein_low, _CMP_GE_OQ),
                                          _mm256_cmp_ps(sum[w], markstein_high, _CMP_LE_OQ));
    all_moderate = all_moderate && _mm256_movemask_ps(moderate) == 0xFF;
  }
  // Pass 2, up to the largest symbol of these positions.
  uint32_t last = 0;
  for (int w = 0; w < P; ++w) {
    for (int k = 0; k < 8; ++k) last = std::max(last, batch.symbol(first_chunk + k, t + w));
  }
  const __m256 factor = _mm256_set1_ps(pdf_mix_factor(A));
  const __m256 eps = _mm256_set1_ps(kPdfEpsilon);
  if (all_moderate) {
    accumulate<P, true>(static_cast<int>(last), p, sum, factor, eps);
  } else {
    accumulate<P, false>(static_cast<int>(last), p, sum, factor, eps);
  }
  // The coder steps, position by position.
  for (int w = 0; w < P; ++w) {
    for (int k = 0; k < 8; ++k) {
      const size_t s = batch.symbol(first_chunk + k, t + w);
      encoders[k].encode_cumulative(p[w][s * 8 + static_cast<size_t>(k)], p[w][(s + 1) * 8 + static_cast<size_t>(k)]);
    }
  }
}

// Two positions at a time: measured against one, three and four (and against 16 or 32 chunks per call, whose
// rows overflow the 8 ways of L1), it was the fastest, in cache and streaming from memory.
constexpr int kPositions = 2;

}  // namespace

void encode_probs_8_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  const size_t scratch_bytes = (static_cast<size_t>(batch.alphabet) + 1) * 8 * kPositions * sizeof(float);
  std::unique_ptr<float, AlignedFree> scratch(static_cast<float*>(std::aligned_alloc(32, scratch_bytes)));
  if (!scratch) throw_error(ErrorCode::out_of_memory, "cannot allocate {} bytes for the coder", scratch_bytes);
  ArithmeticEncoder encoders[8];
  int t = 0;
  for (; t + kPositions <= batch.length; t += kPositions) {
    code_positions<kPositions>(batch, first_chunk, t, scratch.get(), encoders);
  }
  for (; t < batch.length; ++t) code_positions<1>(batch, first_chunk, t, scratch.get(), encoders);
  for (int k = 0; k < 8; ++k) out[k] = encoders[k].finish();
}

#else

namespace {
[[noreturn]] void no_avx2() {
  throw_error(ErrorCode::unsupported, "the AVX2 coding kernel is not built for this CPU architecture");
}
}  // namespace
void encode_probs_8_avx2(const ChunkBatch&, int, EncodedBits*) { no_avx2(); }

#endif

}  // namespace lmac::batch_detail
