#include "engine/quant_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/error.hpp"

namespace lmac {

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return uint16_t(sign | 0x7e00 | ((ax >> 13) & 0x3ff));  // NaN: quiet, payload kept
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // >= 65520 (and infinity) rounds to infinity
  if (ax < 0x33000000u) return sign;                       // below 2^-25: rounds to zero
  uint32_t q, rem, half;
  if (ax < 0x38800000u) {
    // A half-precision subnormal (below 2^-14): the value counted in units of 2^-24, from the full 24-bit mantissa.
    const uint32_t mantissa = (ax & 0x7fffffu) | 0x800000u;
    const int shift = 126 - int(ax >> 23);  // 14 .. 24
    q = mantissa >> shift;
    rem = mantissa & ((1u << shift) - 1);
    half = 1u << (shift - 1);
  } else {
    // Normal: rebias the exponent (127 -> 15) and drop 13 mantissa bits; a carry out of the mantissa correctly bumps
    // the exponent (up to infinity).
    q = (ax - 0x38000000u) >> 13;
    rem = ax & 0x1fffu;
    half = 0x1000u;
  }
  if (rem > half || (rem == half && (q & 1))) ++q;
  return uint16_t(sign | q);
}

void quantize_row_q8_0(const float* x, void* dst, int64_t n) {
  if (n % kQ8_0Block != 0)
    throw_error(ErrorCode::internal, "Q8_0 quantization of {} values: not a multiple of the block size {}", n,
                kQ8_0Block);
  uint8_t* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / kQ8_0Block; ++b, x += kQ8_0Block, out += kQ8_0BlockBytes) {
    float amax = 0.0f;
    for (int j = 0; j < kQ8_0Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t d16 = f32_to_f16(d);
    out[0] = uint8_t(d16 & 0xff);  // little-endian, as GGUF stores it
    out[1] = uint8_t(d16 >> 8);
    for (int j = 0; j < kQ8_0Block; ++j) {
      const int8_t q = int8_t(std::roundf(x[j] * id));  // |x * id| <= 127 up to rounding, so it fits
      std::memcpy(out + 2 + j, &q, 1);
    }
  }
}

std::vector<uint8_t> quantize_matrix_q8_0(const WeightMatrix& w) {
  if (w.cols % kQ8_0Block != 0)
    throw_error(ErrorCode::internal, "Q8_0 quantization of a matrix with {} columns: not a multiple of {}", w.cols,
                kQ8_0Block);
  const size_t row_bytes = size_t(w.cols / kQ8_0Block) * kQ8_0BlockBytes;
  std::vector<uint8_t> out(row_bytes * size_t(w.rows));
#pragma omp parallel if (size_t(w.rows) * w.cols > (size_t(1) << 16))
  {
    std::vector<float> row(static_cast<size_t>(w.cols));
#pragma omp for schedule(static)
    for (int r = 0; r < w.rows; ++r) {
      convert_to_f32(w.row(r), w.dtype, row.data(), row.size());
      quantize_row_q8_0(row.data(), out.data() + size_t(r) * row_bytes, w.cols);
    }
  }
  return out;
}

}  // namespace lmac
