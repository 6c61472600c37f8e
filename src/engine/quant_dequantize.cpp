#include "engine/quant_dequantize.hpp"

#include <cstring>

#include "engine/half_float.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

// Block layouts (ggml-common.h). Every field is a byte array so the structs have no padding and no alignment
// requirement: blocks in a GGUF file start at any byte.
constexpr int QK = 32;     // weights per block of the legacy types
constexpr int QK_K = 256;  // weights per super-block of the K types

struct BlockQ4_0 { uint8_t d[2]; uint8_t qs[QK / 2]; };
struct BlockQ4_1 { uint8_t d[2], m[2]; uint8_t qs[QK / 2]; };
struct BlockQ5_0 { uint8_t d[2]; uint8_t qh[4]; uint8_t qs[QK / 2]; };
struct BlockQ5_1 { uint8_t d[2], m[2]; uint8_t qh[4]; uint8_t qs[QK / 2]; };
struct BlockQ8_0 { uint8_t d[2]; int8_t qs[QK]; };
struct BlockQ4_K { uint8_t d[2], dmin[2]; uint8_t scales[12]; uint8_t qs[QK_K / 2]; };
struct BlockQ5_K { uint8_t d[2], dmin[2]; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; };
struct BlockQ6_K { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint8_t d[2]; };
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

// A little-endian fp16 stored at any byte.
inline float half_at(const uint8_t* p) { return f16_to_f32(uint16_t(p[0] | (p[1] << 8))); }

template <typename Block>
const Block* blocks(const void* src) { return static_cast<const Block*>(src); }

void dequant_q4_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const BlockQ4_0& b = blocks<BlockQ4_0>(src)[i];
    const float d = half_at(b.d);
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = float((b.qs[j] & 0x0F) - 8) * d;
      y[j + QK / 2] = float((b.qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const BlockQ4_1& b = blocks<BlockQ4_1>(src)[i];
    const float d = half_at(b.d), m = half_at(b.m);
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = float(b.qs[j] & 0x0F) * d + m;
      y[j + QK / 2] = float(b.qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t u32_at(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

// Q5: the fifth bit of weight j is bit j of qh.
void dequant_q5_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const BlockQ5_0& b = blocks<BlockQ5_0>(src)[i];
    const float d = half_at(b.d);
    const uint32_t qh = u32_at(b.qh);
    for (int j = 0; j < QK / 2; ++j) {
      const int x0 = int((b.qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16;
      const int x1 = int((b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
      y[j] = float(x0) * d;
      y[j + QK / 2] = float(x1) * d;
    }
  }
}

void dequant_q5_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const BlockQ5_1& b = blocks<BlockQ5_1>(src)[i];
    const float d = half_at(b.d), m = half_at(b.m);
    const uint32_t qh = u32_at(b.qh);
    for (int j = 0; j < QK / 2; ++j) {
      const int x0 = int((b.qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10));
      const int x1 = int((b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10));
      y[j] = float(x0) * d + m;
      y[j + QK / 2] = float(x1) * d + m;
    }
  }
}

void dequant_q8_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const BlockQ8_0& b = blocks<BlockQ8_0>(src)[i];
    const float d = half_at(b.d);
    for (int j = 0; j < QK; ++j) y[j] = float(b.qs[j]) * d;
  }
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4).
inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void dequant_q4_k(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ4_K& b = blocks<BlockQ4_K>(src)[i];
    const float d = half_at(b.d), dmin = half_at(b.dmin);
    const uint8_t* q = b.qs;
    for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
      int sc, m;
      scale_min_k4(is, b.scales, sc, m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scale_min_k4(is + 1, b.scales, sc, m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0x0F) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequant_q5_k(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ5_K& b = blocks<BlockQ5_K>(src)[i];
    const float d = half_at(b.d), dmin = half_at(b.dmin);
    const uint8_t* ql = b.qs;
    uint8_t u1 = 1, u2 = 2;  // the qh bits of this pair of sub-blocks
    for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      int sc, m;
      scale_min_k4(is, b.scales, sc, m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scale_min_k4(is + 1, b.scales, sc, m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0x0F) + (b.qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

void dequant_q6_k(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ6_K& b = blocks<BlockQ6_K>(src)[i];
    const float d = half_at(b.d);
    const uint8_t* ql = b.ql;
    const uint8_t* qh = b.qh;
    const int8_t* sc = b.scales;
    for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = int((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = int((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * float(sc[is + 0]) * float(q1);
        y[l + 32] = d * float(sc[is + 2]) * float(q2);
        y[l + 64] = d * float(sc[is + 4]) * float(q3);
        y[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const GgmlTypeTraits& t = ggml_traits(type);
  if (!t.dequantizable)
    throw_error(ErrorCode::unsupported, "tensor type {} cannot be dequantized by lmac (supported: {})", t.name,
                ggml_dequantizable_type_list());
  if (n < 0 || n % t.block_size != 0)
    throw_error(ErrorCode::internal, "dequantize_row: {} weights of type {} are not whole blocks of {}", n, t.name,
                t.block_size);
  const int64_t nb = n / t.block_size;
  switch (type) {
    case GgmlType::f32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return;
    case GgmlType::f16: convert_to_f32(src, WeightDType::f16, dst, size_t(n)); return;
    case GgmlType::bf16: convert_to_f32(src, WeightDType::bf16, dst, size_t(n)); return;
    case GgmlType::q4_0: dequant_q4_0(src, dst, nb); return;
    case GgmlType::q4_1: dequant_q4_1(src, dst, nb); return;
    case GgmlType::q5_0: dequant_q5_0(src, dst, nb); return;
    case GgmlType::q5_1: dequant_q5_1(src, dst, nb); return;
    case GgmlType::q8_0: dequant_q8_0(src, dst, nb); return;
    case GgmlType::q4_k: dequant_q4_k(src, dst, nb); return;
    case GgmlType::q5_k: dequant_q5_k(src, dst, nb); return;
    case GgmlType::q6_k: dequant_q6_k(src, dst, nb); return;
    default: break;
  }
  throw_error(ErrorCode::internal, "dequantize_row: no kernel for {}", t.name);
}

void dequantize_rows(const QuantMatrix& m, int64_t r0, int64_t r1, float* dst) {
  if (r0 < 0 || r1 < r0 || r1 > m.rows)
    throw_error(ErrorCode::internal, "dequantize_rows: rows [{}, {}) of a {}-row matrix", r0, r1, m.rows);
  for (int64_t r = r0; r < r1; ++r) dequantize_row(m.type, m.row(r), dst + size_t(r - r0) * size_t(m.cols), m.cols);
}

}  // namespace lmac
