// Matrix products against weights kept in their stored dtype. A bf16/fp16 weight is widened to float32 a tile
// of rows at a time, right before OpenBLAS uses it, so a 7B checkpoint never exists in float32 all at once:
// memory stays at the mapped checkpoint plus one tile per call.
#pragma once

#include <cstddef>

#include "engine/half_float.hpp"

namespace lmac {

// A row-major [rows, cols] matrix in a checkpoint's memory: the layout of a Hugging Face Linear weight
// ([out_features, in_features]) or of an embedding table ([vocab, hidden]).
struct WeightMatrix {
  const void* data = nullptr;
  WeightDType dtype = WeightDType::f32;
  int rows = 0;
  int cols = 0;

  const void* row(int r) const {
    return static_cast<const char*>(data) + size_t(r) * weight_row_bytes(dtype, size_t(cols));
  }
};

// y[M, w.rows] = x[M, w.cols] @ w^T (+ y if accumulate), in float32.
void matmul_weight_t(const float* x, const WeightMatrix& w, float* y, int M, bool accumulate = false);

// dst[w.cols] = row r of w, widened to float32 (embedding lookup).
void weight_row_f32(const WeightMatrix& w, int r, float* dst);

}  // namespace lmac
