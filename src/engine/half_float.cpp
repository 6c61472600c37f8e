#include "engine/half_float.hpp"

#include <array>

#include "engine/quant_dequantize.hpp"

namespace lmac {

const char* weight_dtype_name(WeightDType dtype) {
  switch (dtype) {
    case WeightDType::f32: return "f32";
    case WeightDType::f16: return "f16";
    case WeightDType::bf16: return "bf16";
    case WeightDType::q8_0: return "q8_0";
    case WeightDType::q4_0: return "q4_0";
    case WeightDType::q4_1: return "q4_1";
    case WeightDType::q5_0: return "q5_0";
    case WeightDType::q5_1: return "q5_1";
    case WeightDType::q4_k: return "q4_k";
    case WeightDType::q5_k: return "q5_k";
    case WeightDType::q6_k: return "q6_k";
  }
  return "?";
}

size_t weight_dtype_size(WeightDType dtype) { return dtype == WeightDType::f32 ? 4 : 2; }

// The ggml type of a quantized dtype.
static GgmlType ggml_type_of(WeightDType dtype) {
  switch (dtype) {
    case WeightDType::q8_0: return GgmlType::q8_0;
    case WeightDType::q4_0: return GgmlType::q4_0;
    case WeightDType::q4_1: return GgmlType::q4_1;
    case WeightDType::q5_0: return GgmlType::q5_0;
    case WeightDType::q5_1: return GgmlType::q5_1;
    case WeightDType::q4_k: return GgmlType::q4_k;
    case WeightDType::q5_k: return GgmlType::q5_k;
    case WeightDType::q6_k: return GgmlType::q6_k;
    case WeightDType::f32: return GgmlType::f32;
    case WeightDType::f16: return GgmlType::f16;
    case WeightDType::bf16: return GgmlType::bf16;
  }
  return GgmlType::f32;
}

size_t weight_row_bytes(WeightDType dtype, size_t cols) { return ggml_row_bytes(ggml_type_of(dtype), int64_t(cols)); }

static float f16_to_f32_slow(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {  // infinity or NaN: keep the payload
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal: normalise the mantissa
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3ff;
    bits = sign | (uint32_t(113 - shift) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// All 65536 fp16 values, widened once: a table lookup is faster than the branches above in the inner loop.
static const std::array<float, 65536>& f16_table() {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> t{};
    for (uint32_t i = 0; i < 65536; ++i) t[i] = f16_to_f32_slow(uint16_t(i));
    return t;
  }();
  return table;
}

float f16_to_f32(uint16_t h) { return f16_table()[h]; }

void convert_to_f32(const void* src, WeightDType dtype, float* dst, size_t n) {
  switch (dtype) {
    case WeightDType::f32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case WeightDType::bf16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) {
        uint32_t bits = uint32_t(s[i]) << 16;
        std::memcpy(&dst[i], &bits, sizeof(float));
      }
      return;
    }
    case WeightDType::f16: {
      const auto* s = static_cast<const uint16_t*>(src);
      const float* table = f16_table().data();
      for (size_t i = 0; i < n; ++i) dst[i] = table[s[i]];
      return;
    }
    default:
      dequantize_row(ggml_type_of(dtype), src, dst, int64_t(n));
      return;
  }
}

}  // namespace lmac
