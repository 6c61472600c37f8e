// The exact kernels' dispatch, threading and weight packing. Threads only ever split rows and output columns, so
// the thread count changes who computes a value, never how (see exact_kernels.hpp).
#include "engine/exact_kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/exact_kernels_table.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

ExactIsa best_isa() {
  if (exact_isa_supported(ExactIsa::avx512)) return ExactIsa::avx512;
  if (exact_isa_supported(ExactIsa::avx2)) return ExactIsa::avx2;
  return ExactIsa::baseline;
}

const ExactKernelTable& table_of(ExactIsa isa) {
  switch (isa) {
    case ExactIsa::avx512: return exact_kernels_avx512();
    case ExactIsa::avx2: return exact_kernels_avx2();
    case ExactIsa::baseline: break;
  }
  return exact_kernels_baseline();
}

std::atomic<int> g_isa{-1};  // -1: not chosen yet

const ExactKernelTable& kernels() { return table_of(exact_isa()); }

// Runs f(r0, r1) over [0, rows) in chunks, on several threads when the work is worth it.
template <class F>
void for_row_chunks(int64_t rows, int64_t work_per_row, F f) {
  if (rows <= 0) return;
  const int64_t chunk = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_row));
  const int64_t chunks = (rows + chunk - 1) / chunk;
  if (chunks == 1 || omp_in_parallel()) {
    f(int64_t{0}, rows);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) f(c * chunk, std::min(rows, (c + 1) * chunk));
}

// Rows per matmul work item: a multiple of every variant's micro-kernel height (1, 3, 6).
constexpr int64_t kRowBlock = 96;

}  // namespace

const char* exact_isa_name(ExactIsa isa) {
  switch (isa) {
    case ExactIsa::baseline: return "baseline";
    case ExactIsa::avx2: return "avx2";
    case ExactIsa::avx512: return "avx512";
  }
  return "?";
}

bool exact_isa_supported(ExactIsa isa) {
  switch (isa) {
    case ExactIsa::baseline: return true;
    case ExactIsa::avx2: return __builtin_cpu_supports("avx2");
    case ExactIsa::avx512: return __builtin_cpu_supports("avx512f");
  }
  return false;
}

namespace {

// The variant named by the environment variable LMAC_EXACT_ISA (baseline, avx2, avx512), when the CPU has it: lets
// an end-to-end test encode with one variant and decode with another.
std::optional<ExactIsa> isa_from_environment() {
  const char* name = std::getenv("LMAC_EXACT_ISA");
  if (!name) return std::nullopt;
  for (ExactIsa isa : {ExactIsa::baseline, ExactIsa::avx2, ExactIsa::avx512}) {
    if (std::string_view(name) == exact_isa_name(isa) && exact_isa_supported(isa)) return isa;
  }
  return std::nullopt;
}

}  // namespace

ExactIsa exact_isa() {
  int isa = g_isa.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = int(isa_from_environment().value_or(best_isa()));
    g_isa.store(isa, std::memory_order_relaxed);
  }
  return ExactIsa(isa);
}

bool exact_force_isa(std::optional<ExactIsa> isa) {
  const ExactIsa chosen = isa ? *isa : isa_from_environment().value_or(best_isa());
  if (!exact_isa_supported(chosen)) return false;
  g_isa.store(int(chosen), std::memory_order_relaxed);
  return true;
}

void exact_matmul(const float* x, int64_t ldx, int64_t M, const float* w, int K, int N, const float* bias, float* y,
                  int64_t ldy) {
  if (M <= 0 || N <= 0) return;
  const ExactKernelTable& t = kernels();
  const int64_t panels = (N + kExactPanel - 1) / kExactPanel;
  const int64_t row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int64_t items = panels * row_blocks;
  const bool parallel = items > 1 && !omp_in_parallel() && M * int64_t(K) * N >= (int64_t{1} << 20);
#pragma omp parallel if (parallel)
  {
    std::vector<float> pack;  // the last, narrower panel, zero-padded to full width
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t n0 = (item % panels) * kExactPanel, m0 = (item / panels) * kRowBlock;
      const int nc = int(std::min<int64_t>(kExactPanel, N - n0));
      const float* panel = w + n0;
      int64_t ldw = N;
      if (nc < kExactPanel) {
        pack.assign(size_t(K) * kExactPanel, 0.0f);
        for (int k = 0; k < K; ++k) std::copy_n(w + int64_t(k) * N + n0, nc, pack.data() + size_t(k) * kExactPanel);
        panel = pack.data();
        ldw = kExactPanel;
      }
      t.matmul_panel(x + m0 * ldx, ldx, std::min(kRowBlock, M - m0), panel, ldw, K, bias ? bias + n0 : nullptr,
                     y + m0 * ldy + n0, ldy, nc);
    }
  }
}

void exact_matmul_nk(const float* x, int64_t ldx, int64_t M, const void* w, WeightDType dtype, int K, int N,
                     const float* bias, float* y, int64_t ldy) {
  if (M <= 0 || N <= 0) return;
  const ExactKernelTable& t = kernels();
  const size_t row_bytes = weight_row_bytes(dtype, size_t(K));  // throws for a K the block type cannot hold
  // Each work item widens and transposes a panel of kExactPanel weight rows: amortise it over many x rows.
  constexpr int64_t rows_per_item = 4 * kRowBlock;
  const int64_t panels = (N + kExactPanel - 1) / kExactPanel;
  const int64_t row_blocks = (M + rows_per_item - 1) / rows_per_item;
  const int64_t items = panels * row_blocks;
  const bool parallel = items > 1 && !omp_in_parallel() && M * int64_t(K) * N >= (int64_t{1} << 20);
#pragma omp parallel if (parallel)
  {
    std::vector<float> pack(size_t(K) * kExactPanel), row(static_cast<size_t>(K));
#pragma omp for schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t n0 = (item % panels) * kExactPanel, m0 = (item / panels) * rows_per_item;
      const int nc = int(std::min<int64_t>(kExactPanel, N - n0));
      for (int c = 0; c < kExactPanel; ++c) {
        if (c < nc) {
          convert_to_f32(static_cast<const char*>(w) + size_t(n0 + c) * row_bytes, dtype, row.data(), size_t(K));
          for (int k = 0; k < K; ++k) pack[size_t(k) * kExactPanel + c] = row[k];
        } else {
          for (int k = 0; k < K; ++k) pack[size_t(k) * kExactPanel + c] = 0.0f;
        }
      }
      t.matmul_panel(x + m0 * ldx, ldx, std::min(rows_per_item, M - m0), pack.data(), kExactPanel, K,
                     bias ? bias + n0 : nullptr, y + m0 * ldy + n0, ldy, nc);
    }
  }
}

ExactPackedMatrix ExactPackedMatrix::from_kn(const float* w, int K, int N) {
  ExactPackedMatrix m;
  m.K = K;
  m.N = N;
  const int64_t panels = (N + kExactPanel - 1) / kExactPanel;
  m.panels.assign(size_t(panels) * K * kExactPanel, 0.0f);
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t n0 = p * kExactPanel;
    const int nc = int(std::min<int64_t>(kExactPanel, N - n0));
    for (int k = 0; k < K; ++k) {
      std::copy_n(w + int64_t(k) * N + n0, nc, m.panels.data() + (size_t(p) * K + k) * kExactPanel);
    }
  }
  return m;
}

ExactPackedMatrix ExactPackedMatrix::from_nk(const void* w, WeightDType dtype, int K, int N) {
  ExactPackedMatrix m;
  m.K = K;
  m.N = N;
  const size_t row_bytes = weight_row_bytes(dtype, size_t(K));
  const int64_t panels = (N + kExactPanel - 1) / kExactPanel;
  m.panels.assign(size_t(panels) * K * kExactPanel, 0.0f);
  std::vector<float> row(static_cast<size_t>(K));
  for (int n = 0; n < N; ++n) {
    convert_to_f32(static_cast<const char*>(w) + size_t(n) * row_bytes, dtype, row.data(), size_t(K));
    float* panel = m.panels.data() + size_t(n / kExactPanel) * K * kExactPanel + n % kExactPanel;
    for (int k = 0; k < K; ++k) panel[size_t(k) * kExactPanel] = row[size_t(k)];
  }
  return m;
}

void exact_matmul_packed(const float* x, int64_t ldx, int64_t M, const ExactPackedMatrix& w, const float* bias,
                         float* y, int64_t ldy) {
  const int K = w.K, N = w.N;
  if (M <= 0 || N <= 0) return;
  const ExactKernelTable& t = kernels();
  const int64_t panels = (N + kExactPanel - 1) / kExactPanel;
  const int64_t row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int64_t items = panels * row_blocks;
  const bool parallel = items > 1 && !omp_in_parallel() && M * int64_t(K) * N >= (int64_t{1} << 20);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t p = item % panels, m0 = (item / panels) * kRowBlock, n0 = p * kExactPanel;
    const int nc = int(std::min<int64_t>(kExactPanel, N - n0));
    t.matmul_panel(x + m0 * ldx, ldx, std::min(kRowBlock, M - m0), w.panels.data() + size_t(p) * K * kExactPanel,
                   kExactPanel, K, bias ? bias + n0 : nullptr, y + m0 * ldy + n0, ldy, nc);
  }
}

void exact_add_layer_norm_rows(float* x, const float* bias, const float* residual, const float* scale,
                               const float* offset, int64_t rows, int d) {
  const ExactKernelTable& t = kernels();
  for_row_chunks(rows, 4 * d, [&](int64_t r0, int64_t r1) {
    t.add_layer_norm_rows(x + r0 * d, bias, residual + r0 * d, scale, offset, r1 - r0, d);
  });
}

void exact_rms_norm_rows(const float* x, const float* weight, float eps, float* out, int64_t rows, int d) {
  const ExactKernelTable& t = kernels();
  for_row_chunks(rows, 2 * d, [&](int64_t r0, int64_t r1) {
    t.rms_norm_rows(x + r0 * d, weight, eps, out + r0 * d, r1 - r0, d);
  });
}

void exact_bias_gelu_rows(float* x, const float* bias, int64_t rows, int n) {
  const ExactKernelTable& t = kernels();
  for_row_chunks(rows, 8 * n, [&](int64_t r0, int64_t r1) { t.bias_gelu_rows(x + r0 * n, bias, r1 - r0, n); });
}

void exact_silu_mul_rows(float* gate, const float* up, int64_t rows, int n) {
  const ExactKernelTable& t = kernels();
  for_row_chunks(rows, 8 * n, [&](int64_t r0, int64_t r1) { t.silu_mul_rows(gate + r0 * n, up + r0 * n, r1 - r0, n); });
}

void exact_log_softmax_rows(float* x, const float* bias, int64_t rows, int n) {
  if (n <= 0) return;
  const ExactKernelTable& t = kernels();
  for_row_chunks(rows, 8 * n, [&](int64_t r0, int64_t r1) { t.log_softmax_rows(x + r0 * n, bias, r1 - r0, n); });
}

void exact_attention_rows(const ExactAttentionRow* rows, int n, int64_t ldk, int64_t ldv, int dh, float scale) {
  for (int r = 0; r < n; ++r) {
    if (rows[r].keys < 1) throw_error(ErrorCode::internal, "exact attention: a row with {} keys", rows[r].keys);
  }
  kernels().attention_rows(rows, n, ldk, ldv, dh, scale);
}

void exact_for_sequences(int64_t rows, int sequences, const std::function<void(int64_t r0, int64_t r1)>& forward_rows) {
  const int parts = std::min(sequences, omp_in_parallel() ? 1 : omp_get_max_threads());
  if (parts <= 1) {
    forward_rows(0, rows);
    return;
  }
  const int64_t per_sequence = rows / sequences;
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int p = 0; p < parts; ++p) {
    forward_rows(int64_t(p) * sequences / parts * per_sequence, int64_t(p + 1) * sequences / parts * per_sequence);
  }
}

}  // namespace lmac
