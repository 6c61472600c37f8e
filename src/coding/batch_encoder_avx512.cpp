// The AVX-512 kernel of the batch encoder: sixteen chunks in the sixteen lanes of a vector, two vectors at a time.
// It is the AVX2 kernel (batch_encoder_avx2.cpp, whose comments give the reasoning) with twice the lanes: the same
// float32 operations in the same order, so the same bits. Half the instructions per symbol; on CPUs with two
// 512-bit FMA units (Intel server parts) also twice the arithmetic throughput.
#include "coding/batch_encoder_transpose16.hpp"
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

// exp_avx2_in_fast_range, sixteen wide.
LMAC_AVX512 inline __m512 exp_in_fast_range(__m512 x) {
  using namespace exp_f32_detail;
  const __m512 magic = _mm512_set1_ps(kRoundMagic);
  __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), magic);
  __m512 n = _mm512_sub_ps(t, magic);
  __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(kC1)));
  r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(kC2)));
  __m512 y = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(kQ4), r), _mm512_set1_ps(kQ3));
  y = _mm512_add_ps(_mm512_mul_ps(y, r), _mm512_set1_ps(kQ2));
  y = _mm512_add_ps(_mm512_mul_ps(y, r), _mm512_set1_ps(kQ1));
  y = _mm512_add_ps(_mm512_mul_ps(y, r), _mm512_set1_ps(kQ0));
  y = _mm512_add_ps(_mm512_mul_ps(y, r), _mm512_set1_ps(1.0f));
  const __m512i to_exponent = _mm512_set1_epi32(127 - std::bit_cast<int32_t>(kRoundMagic));
  __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(t), to_exponent), 23));
  return _mm512_mul_ps(y, scale);
}

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Pass 1: e[i * 16 + k] = exp(row k, value i), and the left-to-right sums. Returns false (leaving e and sum
// unusable) if some input lies outside the fast range of the exp.
LMAC_AVX512 inline bool exp_and_sum_fast(const float* const rows[16], int A, float* e, __m512& sum) {
  const __m512 fast_low = _mm512_set1_ps(exp_f32_detail::kFastLow);
  const __m512 fast_high = _mm512_set1_ps(exp_f32_detail::kFastHigh);
  __m512 lowest = fast_low, highest = fast_high;
  sum = _mm512_setzero_ps();
  for (int i = 0; i < A; i += 16) {
    __m512 v[16];
    for (int k = 0; k < 16; ++k) v[k] = _mm512_loadu_ps(rows[k] + i);
    transpose16(v);
    for (int j = 0; j < 16; ++j) {
      lowest = _mm512_min_ps(lowest, v[j]);  // a NaN input is not seen here; it makes the sum NaN instead
      highest = _mm512_max_ps(highest, v[j]);
      const __m512 p = exp_in_fast_range(v[j]);
      _mm512_store_ps(e + static_cast<size_t>(i + j) * 16, p);
      sum = _mm512_add_ps(sum, p);
    }
  }
  return _mm512_cmp_ps_mask(lowest, fast_low, _CMP_GE_OQ) == 0xFFFF &&
         _mm512_cmp_ps_mask(highest, fast_high, _CMP_LE_OQ) == 0xFFFF;
}

// Pass 1 for rows with inputs outside the fast range (rare): exp_f32 value by value, sums in float32 per lane.
LMAC_AVX512 inline __m512 exp_and_sum_general(const float* const rows[16], int A, float* e) {
  alignas(64) float sums[16];
  for (int k = 0; k < 16; ++k) {
    float s = 0.0f;
    for (int i = 0; i < A; ++i) {
      const float p = exp_f32(rows[k][i]);
      e[static_cast<size_t>(i) * 16 + static_cast<size_t>(k)] = p;
      s = s + p;
    }
    sums[k] = s;
  }
  return _mm512_load_ps(sums);
}

// Pass 2 for G groups, interleaved; see normalise_and_accumulate in batch_encoder_avx2.cpp for the quotient.
template <int G, bool kMarkstein>
LMAC_AVX512 inline void normalise_and_accumulate(int A, float* const e[G], const __m512 sum[G], __m512 factor,
                                                 __m512 eps, __m512 c_end[G]) {
  __m512 reciprocal[G], c[G];
  for (int g = 0; g < G; ++g) {
    reciprocal[g] = _mm512_div_ps(_mm512_set1_ps(1.0f), sum[g]);
    c[g] = _mm512_setzero_ps();
  }
  for (int i = 0; i < A; ++i) {
    for (int g = 0; g < G; ++g) {
      float* slot = e[g] + static_cast<size_t>(i) * 16;
      const __m512 p = _mm512_load_ps(slot);
      __m512 q;
      if constexpr (kMarkstein) {
        const __m512 q0 = _mm512_mul_ps(p, reciprocal[g]);
        const __m512 r = _mm512_fnmadd_ps(q0, sum[g], p);
        q = _mm512_fmadd_ps(r, reciprocal[g], q0);
      } else {
        q = _mm512_div_ps(p, sum[g]);
      }
      q = _mm512_add_ps(_mm512_mul_ps(q, factor), eps);
      _mm512_store_ps(slot, c[g]);
      c[g] = _mm512_add_ps(c[g], q);
    }
  }
  for (int g = 0; g < G; ++g) c_end[g] = c[g];
}

template <int G>
LMAC_AVX512 void encode_groups(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  constexpr int L = 16 * G;
  const int A = batch.alphabet;
  const size_t group_floats = (static_cast<size_t>(A) + 1) * 16;
  const size_t scratch_bytes = group_floats * G * sizeof(float);
  std::unique_ptr<float, AlignedFree> scratch(static_cast<float*>(std::aligned_alloc(64, scratch_bytes)));
  if (!scratch) throw_error(ErrorCode::out_of_memory, "cannot allocate {} bytes for the coder", scratch_bytes);
  float* e[G];
  for (int g = 0; g < G; ++g) e[g] = scratch.get() + group_floats * static_cast<size_t>(g);

  ArithmeticEncoder encoders[L];
  const __m512 factor = _mm512_set1_ps(pdf_mix_factor(A));
  const __m512 eps = _mm512_set1_ps(kPdfEpsilon);
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  const __m512 markstein_low = _mm512_set1_ps(0x1p-20f), markstein_high = _mm512_set1_ps(0x1p100f);

  for (int t = 0; t < batch.length; ++t) {
    // The rows of the next position come from L different places (a chunk's rows are length * A floats apart):
    // too many streams for the hardware prefetchers, so ask for them while this position is computed.
    if (t + 1 < batch.length) {
      for (int k = 0; k < L; ++k) {
        const char* next = reinterpret_cast<const char*>(batch.row(first_chunk + k, t + 1));
        for (int byte = 0; byte < A * 4; byte += 64) _mm_prefetch(next + byte, _MM_HINT_T0);
      }
    }
    __m512 sum[G];
    bool all_moderate = true;
    for (int g = 0; g < G; ++g) {
      const float* rows[16];
      for (int k = 0; k < 16; ++k) rows[k] = batch.row(first_chunk + 16 * g + k, t);
      if (!exp_and_sum_fast(rows, A, e[g], sum[g])) sum[g] = exp_and_sum_general(rows, A, e[g]);
      const __mmask16 ok =
          _mm512_cmp_ps_mask(sum[g], zero, _CMP_GT_OQ) & _mm512_cmp_ps_mask(sum[g], inf, _CMP_LT_OQ);
      if (ok != 0xFFFF) throw_row_error(batch, first_chunk + 16 * g + __builtin_ctz(~ok & 0xFFFFu), t);
      const __mmask16 moderate = _mm512_cmp_ps_mask(sum[g], markstein_low, _CMP_GE_OQ) &
                                 _mm512_cmp_ps_mask(sum[g], markstein_high, _CMP_LE_OQ);
      all_moderate = all_moderate && moderate == 0xFFFF;
    }
    __m512 c_end[G];
    if (all_moderate) {
      normalise_and_accumulate<G, true>(A, e, sum, factor, eps, c_end);
    } else {
      normalise_and_accumulate<G, false>(A, e, sum, factor, eps, c_end);
    }
    for (int g = 0; g < G; ++g) {
      if (const __mmask16 ok = _mm512_cmp_ps_mask(c_end[g], one, _CMP_LE_OQ); ok != 0xFFFF) {
        throw_row_error(batch, first_chunk + 16 * g + __builtin_ctz(~ok & 0xFFFFu), t);
      }
      _mm512_store_ps(e[g] + static_cast<size_t>(A) * 16, c_end[g]);
      for (int k = 0; k < 16; ++k) {
        const int chunk = 16 * g + k;
        const size_t s = batch.symbol(first_chunk + chunk, t);
        encoders[chunk].encode_cumulative(e[g][s * 16 + static_cast<size_t>(k)],
                                          e[g][(s + 1) * 16 + static_cast<size_t>(k)]);
      }
    }
  }
  for (int k = 0; k < L; ++k) out[k] = encoders[k].finish();
}

}  // namespace

bool avx512_supported() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }

void encode_32_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  encode_groups<2>(batch, first_chunk, out);
}

void encode_16_avx512(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  encode_groups<1>(batch, first_chunk, out);
}

#else

bool avx512_supported() { return false; }

void encode_32_avx512(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX-512 coding kernel is not built for this CPU architecture");
}

void encode_16_avx512(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX-512 coding kernel is not built for this CPU architecture");
}

#endif

}  // namespace lmac::batch_detail
