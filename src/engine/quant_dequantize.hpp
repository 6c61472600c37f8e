// Dequantization of ggml tensor types to float32, a row (or a tile of rows) at a time, so that a quantized
// checkpoint never exists in float32 all at once. Each kernel follows ggml-quants.c (dequantize_row_*) operation
// for operation, in float32, so its output equals llama.cpp's and the `gguf` Python package's bit for bit.
//
// Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. Any other type throws
// lmac::Error (unsupported) naming it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/quant_types.hpp"

namespace lmac {

// dst[0 .. n) = the n weights stored at src. n must be a multiple of the type's block size (throws otherwise).
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// A row-major [rows, cols] matrix of a ggml type: each row is cols / block_size blocks, rows back to back.
// ggml's shape [ne0, ne1] is this matrix with cols = ne0 and rows = ne1.
struct QuantMatrix {
  const uint8_t* data = nullptr;
  GgmlType type = GgmlType::f32;
  int64_t rows = 0;
  int64_t cols = 0;

  size_t row_bytes() const { return ggml_row_bytes(type, cols); }
  const uint8_t* row(int64_t r) const { return data + size_t(r) * row_bytes(); }
};

// dst[(r - r0) * cols + c] = m[r][c] for r in [r0, r1): the tile primitive of the matmul.
void dequantize_rows(const QuantMatrix& m, int64_t r0, int64_t r1, float* dst);

}  // namespace lmac
