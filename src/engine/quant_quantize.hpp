// float32 -> ggml's Q8_0, the one quantizer lmac has: `--weights q8_0` turns a safetensors checkpoint's linear
// layers into Q8_0 at load (model/llama_loader.cpp), after which the matmul dequantizes them per tile like any GGUF
// Q8_0 tensor. The arithmetic is ggml's quantize_row_q8_0_ref (ggml-quants.c), which the `gguf` Python package
// reproduces in numpy: per block of 32 weights, d = amax / 127 in float32, id = 1 / d (0 when d is 0),
// q = roundf(x * id) (halves away from zero), d stored as IEEE fp16 rounded to nearest even. Tested bit for bit
// against gguf.quants.quantize (tests/data/q8, tools/make_q8_fixtures.py).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/half_matmul.hpp"

namespace lmac {

inline constexpr int kQ8_0Block = 32;       // weights per block
inline constexpr int kQ8_0BlockBytes = 34;  // fp16 scale + 32 int8

// IEEE binary32 -> binary16, rounded to nearest even: what numpy's astype(float16) and the F16C instruction
// (ggml's GGML_FP32_TO_FP16) compute. Overflow gives infinity, tiny values subnormals or zero; NaN stays NaN.
uint16_t f32_to_f16(float f);

// Quantizes n floats (a multiple of 32; throws otherwise) into n / 32 Q8_0 blocks at dst.
void quantize_row_q8_0(const float* x, void* dst, int64_t n);

// The whole [rows, cols] matrix `w` (any dtype convert_to_f32 reads) as Q8_0 rows, back to back: the owned buffer
// a WeightMatrix{data(), WeightDType::q8_0, rows, cols} points into. cols must be a multiple of 32 (the caller
// names the tensor in its error). Rows are widened one at a time, so only the output is ever held whole.
std::vector<uint8_t> quantize_matrix_q8_0(const WeightMatrix& w);

}  // namespace lmac
