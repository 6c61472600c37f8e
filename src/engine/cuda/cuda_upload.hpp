// Moving weights onto the GPU once, converted to the compute dtype on the way. Checkpoints stay in their stored
// dtype in host memory (mmap); a tile of rows at a time crosses, so host memory never holds a converted copy.
#pragma once

#include <cstddef>

#include "engine/cuda/cuda_context.hpp"
#include "engine/half_matmul.hpp"

namespace lmac::cuda {

// dst[w.rows, w.cols] on the device = w converted to `t`. f32/f16/bf16 weights are converted on the device;
// block-quantized GGUF weights are dequantized on the host a tile at a time.
void upload_weight(Context& ctx, const WeightMatrix& w, DType t, void* dst);

// dst[n] on the device = src[n] (host f32) converted to `t`.
void upload_f32(Context& ctx, const float* src, size_t n, DType t, void* dst);

// Device bytes a [rows, cols] matrix takes in `t`.
inline size_t matrix_bytes(int rows, int cols, DType t) { return size_t(rows) * size_t(cols) * dtype_size(t); }

}  // namespace lmac::cuda
