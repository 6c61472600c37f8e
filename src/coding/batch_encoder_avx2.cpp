// The AVX2 kernel of the batch encoder: eight chunks in the eight lanes of a vector. Lane k holds chunk
// first_chunk + k, and every vector operation below gives, lane by lane, the float32 value the plain path computes,
// in the same order: exp_f32, then the left-to-right sum, the quotient, the multiply and the add of normalize_pdf,
// then the left-to-right cumulative sum of ArithmeticEncoder::encode. Only c[s], c[s+1] and c[A] leave the
// vectors; the integer coder steps then run per lane through ArithmeticEncoder::encode_cumulative.
//
// Why the checks of the plain encoder can be skipped: every normalised value is >= eps = 2^-23 (the values are
// finite and non-negative once the sum is finite and positive). c + 2^-23 is a float32 for every c in [0, 2) and
// rounding is monotone, so consecutive c differ by at least 2^-23; with the interval width above 2^30 (the coder
// keeps it so) their quantised bounds differ by at least 127: a zero-width symbol cannot occur. What can fail is checked: a sum that is not
// finite and positive, and c[A] > 1. For those rows the plain path is run to throw its exact error.
#include "coding/batch_kernels.hpp"
#include "coding/exp_f32_kernel.hpp"
#include "coding/pdf.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <limits>
#include <memory>

namespace lmac::batch_detail {

#ifdef LMAC_HAVE_X86

namespace {

// In: r[k] = eight consecutive values of row k. Out: r[j] = value j of rows 0..7.
__attribute__((target("avx2"))) inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Pass 1 for one position: e[i * 8 + k] = exp(row k, value i) and the left-to-right sums. kFast: the
// exp_avx2_in_fast_range form, which also reports the smallest and largest inputs so that the caller can redo the
// position with the general form if any lies outside the fast range.
template <bool kFast>
__attribute__((target("avx2"))) inline __m256 exp_and_sum(const float* const rows[8], int A, float* e, __m256& lowest,
                                                          __m256& highest) {
  __m256 sum = _mm256_setzero_ps();
  for (int i = 0; i < A; i += 8) {
    __m256 v[8];
    for (int k = 0; k < 8; ++k) v[k] = _mm256_loadu_ps(rows[k] + i);
    transpose8(v);
    for (int j = 0; j < 8; ++j) {
      __m256 p;
      if constexpr (kFast) {
        lowest = _mm256_min_ps(lowest, v[j]);  // a NaN input is not seen here; it makes the sum NaN instead
        highest = _mm256_max_ps(highest, v[j]);
        p = exp_f32_detail::exp_avx2_in_fast_range(v[j]);
      } else {
        p = exp_f32_detail::exp_avx2(v[j]);
      }
      _mm256_store_ps(e + static_cast<size_t>(i + j) * 8, p);
      sum = _mm256_add_ps(sum, p);
    }
  }
  return sum;
}

// Pass 2 for one position of G groups: normalise each value and accumulate c left to right, overwriting e[g][i]
// with c[i]; c_end[g] = c[A]. The G groups' chains are independent, so interleaving them hides the latency of the
// additions, which otherwise bounds this loop. kMarkstein: the quotient p / sum is computed without a division
// instruction, as
//   y = RN(1 / sum);  q0 = RN(p * y);  r = p - q0 * sum (exact, by FMA);  q = RN(q0 + r * y)
// which is the correctly rounded p / sum (Markstein's theorem: y within half an ulp of 1/sum, q0 within one ulp of
// p/sum), so the same value the division gives, as long as nothing underflows. The caller uses it only for sums in
// [2^-20, 2^100]: there r is exact whenever q >= 2^-50, and for q < 2^-50 both q and the true quotient give the
// normalised value eps (q * factor is then far below half an ulp of eps).
template <int G, bool kMarkstein>
__attribute__((target("avx2,fma"))) inline void normalise_and_accumulate(int A, float* const e[G], const __m256 sum[G],
                                                                         __m256 factor, __m256 eps, __m256 c_end[G]) {
  __m256 reciprocal[G], c[G];
  for (int g = 0; g < G; ++g) {
    reciprocal[g] = _mm256_div_ps(_mm256_set1_ps(1.0f), sum[g]);
    c[g] = _mm256_setzero_ps();
  }
  for (int i = 0; i < A; ++i) {
    for (int g = 0; g < G; ++g) {
      float* slot = e[g] + static_cast<size_t>(i) * 8;
      const __m256 p = _mm256_load_ps(slot);
      __m256 q;
      if constexpr (kMarkstein) {
        const __m256 q0 = _mm256_mul_ps(p, reciprocal[g]);
        const __m256 r = _mm256_fnmadd_ps(q0, sum[g], p);
        q = _mm256_fmadd_ps(r, reciprocal[g], q0);
      } else {
        q = _mm256_div_ps(p, sum[g]);
      }
      q = _mm256_add_ps(_mm256_mul_ps(q, factor), eps);  // two roundings, as the reference
      _mm256_store_ps(slot, c[g]);
      c[g] = _mm256_add_ps(c[g], q);
    }
  }
  for (int g = 0; g < G; ++g) c_end[g] = c[g];
}

}  // namespace

bool avx2_fma_supported() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

template <int G>
__attribute__((target("avx2,fma"))) void encode_groups(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  constexpr int L = 8 * G;  // chunks coded together
  const int A = batch.alphabet;
  // Per group and position: exp(log_probs), then c, lane-interleaved: e[g][i * 8 + k] is value i of chunk
  // first_chunk + 8g + k. One extra row holds c[A].
  const size_t group_floats = (static_cast<size_t>(A) + 1) * 8;
  const size_t scratch_bytes = group_floats * G * sizeof(float);
  std::unique_ptr<float, AlignedFree> scratch(static_cast<float*>(std::aligned_alloc(32, scratch_bytes)));
  if (!scratch) throw_error(ErrorCode::out_of_memory, "cannot allocate {} bytes for the coder", scratch_bytes);
  float* e[G];
  for (int g = 0; g < G; ++g) e[g] = scratch.get() + group_floats * static_cast<size_t>(g);

  ArithmeticEncoder encoders[L];
  const __m256 factor = _mm256_set1_ps(pdf_mix_factor(A));
  const __m256 eps = _mm256_set1_ps(kPdfEpsilon);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256 markstein_low = _mm256_set1_ps(0x1p-20f), markstein_high = _mm256_set1_ps(0x1p100f);
  const __m256 fast_low = _mm256_set1_ps(exp_f32_detail::kFastLow);
  const __m256 fast_high = _mm256_set1_ps(exp_f32_detail::kFastHigh);

  for (int t = 0; t < batch.length; ++t) {
    // The rows of the next position come from L different places (a chunk's rows are length * A floats apart):
    // too many streams for the hardware prefetchers, so ask for them while this position is computed.
    if (t + 1 < batch.length) {
      for (int k = 0; k < L; ++k) {
        const char* next = reinterpret_cast<const char*>(batch.row(first_chunk + k, t + 1));
        for (int byte = 0; byte < A * 4; byte += 64) _mm_prefetch(next + byte, _MM_HINT_T0);
      }
    }
    __m256 sum[G];
    bool all_moderate = true;
    for (int g = 0; g < G; ++g) {
      const float* rows[8];
      for (int k = 0; k < 8; ++k) rows[k] = batch.row(first_chunk + 8 * g + k, t);
      __m256 lowest = fast_low, highest = fast_high;
      sum[g] = exp_and_sum<true>(rows, A, e[g], lowest, highest);
      const __m256 in_range =
          _mm256_and_ps(_mm256_cmp_ps(lowest, fast_low, _CMP_GE_OQ), _mm256_cmp_ps(highest, fast_high, _CMP_LE_OQ));
      if (_mm256_movemask_ps(in_range) != 0xFF) sum[g] = exp_and_sum<false>(rows, A, e[g], lowest, highest);

      const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(sum[g], zero, _CMP_GT_OQ), _mm256_cmp_ps(sum[g], inf, _CMP_LT_OQ));
      if (const int mask = _mm256_movemask_ps(ok); mask != 0xFF) {
        throw_row_error(batch, first_chunk + 8 * g + __builtin_ctz(~mask & 0xFF), t);
      }
      const __m256 moderate = _mm256_and_ps(_mm256_cmp_ps(sum[g], markstein_low, _CMP_GE_OQ),
                                            _mm256_cmp_ps(sum[g], markstein_high, _CMP_LE_OQ));
      all_moderate = all_moderate && _mm256_movemask_ps(moderate) == 0xFF;
    }
    __m256 c_end[G];
    if (all_moderate) {
      normalise_and_accumulate<G, true>(A, e, sum, factor, eps, c_end);
    } else {
      normalise_and_accumulate<G, false>(A, e, sum, factor, eps, c_end);
    }
    for (int g = 0; g < G; ++g) {
      if (const int mask = _mm256_movemask_ps(_mm256_cmp_ps(c_end[g], one, _CMP_LE_OQ)); mask != 0xFF) {
        throw_row_error(batch, first_chunk + 8 * g + __builtin_ctz(~mask & 0xFF), t);
      }
      _mm256_store_ps(e[g] + static_cast<size_t>(A) * 8, c_end[g]);
      for (int k = 0; k < 8; ++k) {
        const int chunk = 8 * g + k;
        const size_t s = batch.symbol(first_chunk + chunk, t);
        encoders[chunk].encode_cumulative(e[g][s * 8 + static_cast<size_t>(k)],
                                          e[g][(s + 1) * 8 + static_cast<size_t>(k)]);
      }
    }
  }
  for (int k = 0; k < L; ++k) out[k] = encoders[k].finish();
}

void encode_group_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  encode_groups<1>(batch, first_chunk, out);
}

void encode_two_groups_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  encode_groups<2>(batch, first_chunk, out);
}

#else

bool avx2_fma_supported() { return false; }

void encode_group_avx2(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX2 coding kernel is not built for this CPU architecture");
}

void encode_two_groups_avx2(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX2 coding kernel is not built for this CPU architecture");
}

#endif

}  // namespace lmac::batch_detail
