#include "engine/half_matmul.hpp"

#include <cblas.h>

#include <algorithm>
#include <vector>

namespace lmac {

// Rows of a half-precision weight widened per tile. 256 rows of a 4096-wide layer is 4 MiB of float32:
// large enough that sgemm runs at full speed, small enough to stay in cache-sized memory.
static constexpr int kTileRows = 256;

void matmul_weight_t(const float* x, const WeightMatrix& w, float* y, int M, bool accumulate) {
  const int N = w.rows, K = w.cols;
  const float beta = accumulate ? 1.0f : 0.0f;
  if (w.dtype == WeightDType::f32) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, static_cast<const float*>(w.data), K,
                beta, y, N);
    return;
  }
  // One tile buffer per thread that calls in: reused across calls, grown once.
  thread_local std::vector<float> tile;
  const int tile_rows = std::min(kTileRows, N);
  tile.resize(size_t(tile_rows) * K);
  float* buffer = tile.data();  // the caller's buffer: inside the parallel loop `tile` would name each worker's own
  for (int n0 = 0; n0 < N; n0 += tile_rows) {
    const int rows = std::min(tile_rows, N - n0);
    // Widening is memory-bound and cheap: threads only pay off on tiles of real models.
#pragma omp parallel for schedule(static) if (size_t(rows) * K > (size_t(1) << 16))
    for (int r = 0; r < rows; ++r) convert_to_f32(w.row(n0 + r), w.dtype, buffer + size_t(r) * K, size_t(K));
    // y[:, n0:n0+rows] = x @ tile^T, written into the wider y through its leading dimension N.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, rows, K, 1.0f, x, K, buffer, K, beta, y + n0, N);
  }
}

void weight_row_f32(const WeightMatrix& w, int r, float* dst) {
  convert_to_f32(w.row(r), w.dtype, dst, size_t(w.cols));
}

}  // namespace lmac
