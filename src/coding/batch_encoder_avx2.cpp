// The AVX2 kernel of the batch encoder: eight chunks in the eight lanes of a vector. Lane k holds chunk
// first_chunk + k, and every vector operation below is, lane by lane, the float32 operation the plain path
// performs, in the same order: exp_f32, then the left-to-right sum, the division, the multiply and the add of
// normalize_pdf, then the left-to-right cumulative sum of ArithmeticEncoder::encode. Only c[s], c[s+1] and c[A]
// leave the vector; the integer coder steps then run per lane through ArithmeticEncoder::encode_cumulative.
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

}  // namespace

__attribute__((target("avx2"))) void encode_group_avx2(const ChunkBatch& batch, int first_chunk, EncodedBits* out) {
  using exp_f32_detail::exp_avx2;
  const int A = batch.alphabet;
  // exp(log_probs) of the current position, lane-interleaved: e[i * 8 + k] = value i of chunk first_chunk + k.
  const size_t scratch_bytes = static_cast<size_t>(A) * 8 * sizeof(float);
  std::unique_ptr<float, AlignedFree> scratch(static_cast<float*>(std::aligned_alloc(32, scratch_bytes)));
  if (!scratch) throw_error(ErrorCode::out_of_memory, "cannot allocate {} bytes for the coder", scratch_bytes);
  float* e = scratch.get();

  ArithmeticEncoder encoders[8];
  const __m256 factor = _mm256_set1_ps(pdf_mix_factor(A));
  const __m256 eps = _mm256_set1_ps(kPdfEpsilon);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());

  for (int t = 0; t < batch.length; ++t) {
    const float* rows[8];
    for (int k = 0; k < 8; ++k) rows[k] = batch.row(first_chunk + k, t);

    // Pass 1: exp and the sum, left to right.
    __m256 sum = zero;
    for (int i = 0; i < A; i += 8) {
      __m256 v[8];
      for (int k = 0; k < 8; ++k) v[k] = _mm256_loadu_ps(rows[k] + i);
      transpose8(v);
      for (int j = 0; j < 8; ++j) {
        const __m256 p = exp_avx2(v[j]);
        _mm256_store_ps(e + static_cast<size_t>(i + j) * 8, p);
        sum = _mm256_add_ps(sum, p);
      }
    }
    const __m256 sum_ok = _mm256_and_ps(_mm256_cmp_ps(sum, zero, _CMP_GT_OQ), _mm256_cmp_ps(sum, inf, _CMP_LT_OQ));
    if (const int ok = _mm256_movemask_ps(sum_ok); ok != 0xFF) {
      throw_row_error(batch, first_chunk + __builtin_ctz(~ok & 0xFF), t);
    }

    // Pass 2: normalise and accumulate c, keeping c[s] and c[s+1] of each lane's symbol.
    alignas(32) int32_t sym[8];
    for (int k = 0; k < 8; ++k) sym[k] = static_cast<int32_t>(batch.symbol(first_chunk + k, t));
    const __m256i symbol = _mm256_load_si256(reinterpret_cast<const __m256i*>(sym));
    __m256i index = _mm256_setzero_si256();
    const __m256i step = _mm256_set1_epi32(1);
    __m256 c = zero, c_low = zero, c_high = zero;
    for (int i = 0; i < A; ++i) {
      __m256 p = _mm256_div_ps(_mm256_load_ps(e + static_cast<size_t>(i) * 8), sum);
      p = _mm256_mul_ps(p, factor);
      p = _mm256_add_ps(p, eps);
      const __m256 here = _mm256_castsi256_ps(_mm256_cmpeq_epi32(index, symbol));
      c_low = _mm256_blendv_ps(c_low, c, here);
      c = _mm256_add_ps(c, p);
      c_high = _mm256_blendv_ps(c_high, c, here);
      index = _mm256_add_epi32(index, step);
    }
    if (const int ok = _mm256_movemask_ps(_mm256_cmp_ps(c, one, _CMP_LE_OQ)); ok != 0xFF) {
      throw_row_error(batch, first_chunk + __builtin_ctz(~ok & 0xFF), t);
    }
    alignas(32) float low[8], high[8];
    _mm256_store_ps(low, c_low);
    _mm256_store_ps(high, c_high);
    for (int k = 0; k < 8; ++k) encoders[k].encode_cumulative(low[k], high[k]);
  }
  for (int k = 0; k < 8; ++k) out[k] = encoders[k].finish();
}

#else

void encode_group_avx2(const ChunkBatch&, int, EncodedBits*) {
  throw_error(ErrorCode::unsupported, "the AVX2 coding kernel is not built for this CPU architecture");
}

#endif

}  // namespace lmac::batch_detail
