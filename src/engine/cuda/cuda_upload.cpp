#include "engine/cuda/cuda_upload.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "engine/cuda/cuda_kernels.hpp"

namespace lmac::cuda {

namespace {

// Staging tiles stay near this size: large enough for full-speed copies, small next to any model.
constexpr size_t kTileBytes = size_t(64) << 20;

std::optional<DType> plain_dtype(WeightDType d) {
  switch (d) {
    case WeightDType::f32: return DType::f32;
    case WeightDType::f16: return DType::f16;
    case WeightDType::bf16: return DType::bf16;
    default: return std::nullopt;
  }
}

}  // namespace

void upload_weight(Context& ctx, const WeightMatrix& w, DType t, void* dst) {
  const size_t cols = size_t(w.cols);
  const std::optional<DType> stored = plain_dtype(w.dtype);
  if (stored == t) {
    ctx.to_device(dst, w.data, size_t(w.rows) * cols * dtype_size(t));
    return;
  }
  const DType staged = stored.value_or(DType::f32);
  const int tile_rows = int(std::max<size_t>(1, kTileBytes / (cols * 4)));
  DeviceBuffer staging(ctx, size_t(std::min(tile_rows, w.rows)) * cols * dtype_size(staged), "weight staging");
  std::vector<float> dequantized;
  for (int r0 = 0; r0 < w.rows; r0 += tile_rows) {
    const int n = std::min(tile_rows, w.rows - r0);
    const size_t elements = size_t(n) * cols;
    if (stored) {
      ctx.to_device(staging.get(), w.row(r0), elements * dtype_size(staged));
    } else {
      dequantized.resize(elements);
      convert_to_f32(w.row(r0), w.dtype, dequantized.data(), elements);
      ctx.to_device(staging.get(), dequantized.data(), elements * 4);
    }
    convert(ctx, staging.get(), staged, static_cast<char*>(dst) + size_t(r0) * cols * dtype_size(t), t, elements);
    ctx.synchronize();  // the staging tile is reused by the next iteration
  }
}

void upload_f32(Context& ctx, const float* src, size_t n, DType t, void* dst) {
  upload_weight(ctx, WeightMatrix{src, WeightDType::f32, 1, int(n)}, t, dst);
}

}  // namespace lmac::cuda
