// Half-precision weights (IEEE fp16 and bfloat16) widened to float32, the precision lmac computes in on the CPU.
// Checkpoints stay in their stored dtype in memory (mmap); these helpers convert a slice at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lmac {

// f32, f16 and bf16 from safetensors and GGUF; the ggml block-quantized types from GGUF (engine/quant_types.hpp),
// dequantized a row at a time by engine/quant_dequantize.hpp.
enum class WeightDType { f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k };

const char* weight_dtype_name(WeightDType dtype);  // "f32", "f16", "bf16", "q8_0", ...
size_t weight_dtype_size(WeightDType dtype);      // bytes per element (f32, f16, bf16 only)
// Bytes of a row of `cols` weights; for a quantized dtype cols must be a multiple of its block size.
size_t weight_row_bytes(WeightDType dtype, size_t cols);

// bfloat16 is the top half of a float32: widening is exact and just a shift.
inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// IEEE 754 binary16 -> binary32, exact for every input (normals, subnormals, infinities, NaNs).
float f16_to_f32(uint16_t h);

// dst[i] = src[i] widened to float32, for n elements stored as `dtype` (f32 is a plain copy; a quantized dtype is
// dequantized, n a multiple of its block size).
void convert_to_f32(const void* src, WeightDType dtype, float* dst, size_t n);

}  // namespace lmac
