// Times lmac's GPU kernels on a Llama-2-7B pass's shapes (tuning aid for bench/results/gpu_notes.md):
// - each attention kernel on 32 heads of 128 over `positions` tokens, q|k|v rows of 12288 bf16 as the fused
//   projection leaves them; TFLOP/s of causal attention count 4 hd operations per unmasked score (q.k and p v);
// - the four linear layers at `batch` x `positions` rows, through lmac's linear() and through every algorithm
//   cuBLASLt's heuristic offers for the same product (does a better one than cuBLAS's default exist?); o and down
//   accumulate into a bf16 residual as the pass does.
// With hot_ms > 0 every measurement runs for at least that long after as long a heat-up with the same call, so the
// card is at its sustained clock and power limit, as in a long pass; short runs measure boost clocks.
// Usage: lmac_kernel_bench [batch=16] [repeats=10] [positions=2048] [hot_ms=0]
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "engine/cuda/cuda_attention.hpp"
#include "engine/cuda/cuda_context.hpp"
#include "engine/cuda/cuda_gemm.hpp"
#include "engine/cuda/cuda_upload.hpp"
#include "util/error.hpp"

namespace {

using namespace lmac::cuda;

double hot_ms = 0;  // see the usage above

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Milliseconds a call of f takes, averaged over `repeats` (or over hot_ms) after a warm-up (a call, or hot_ms).
double time_ms(Context& ctx, int repeats, const std::function<void()>& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  ctx.synchronize();
  if (hot_ms > 0) {
    const double one = elapsed_ms(start);
    repeats = std::max(repeats, int(hot_ms / one) + 1);
    for (int i = 0; i < repeats; ++i) f();
    ctx.synchronize();
  }
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) f();
  ctx.synchronize();
  return elapsed_ms(start) / repeats;
}

DeviceBuffer random_bf16(Context& ctx, size_t n, const char* what) {
  std::vector<float> host(n);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& x : host) x = normal(rng);
  DeviceBuffer b(ctx, n * 2, what);
  upload_f32(ctx, host.data(), host.size(), DType::bf16, b.get());
  return b;
}

void attention(Context& ctx, int B, int T, int repeats) {
  const int H = 32, hd = 128, stride = 3 * H * hd;
  DeviceBuffer qkv = random_bf16(ctx, size_t(B) * T * stride, "q|k|v");
  DeviceBuffer out(ctx, size_t(B) * T * H * hd * 2, "attention output");
  const double flops = 4.0 * B * H * hd * (double(T) * (T + 1) / 2);
  std::printf("attention, batch %d x %d positions, %d heads of %d, bf16\n", B, T, H, hd);
  for (AttentionKernel kernel : {AttentionKernel::wgmma, AttentionKernel::mma_sync}) {
    try {
      const double ms = time_ms(ctx, repeats, [&] {
        causal_attention(ctx, qkv.get(), qkv.as<char>() + H * hd * 2, qkv.as<char>() + 2 * H * hd * 2, stride,
                         stride, out.get(), H * hd, DType::bf16, B, T, H, H, hd, 1.0f / 11.3137085f, kernel);
      });
      std::printf("  %-9s  %8.3f ms  %6.1f TFLOP/s\n", attention_kernel_name(kernel), ms, flops / ms / 1e9);
    } catch (const lmac::Error& e) {
      std::printf("  %-9s  not available: %s\n", attention_kernel_name(kernel), e.what());
    }
  }
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw lmac::Error(lmac::ErrorCode::internal, std::string(what) + " failed");
}

// y[M, N] (+)= x[M, K] w[N, K]^T as lmac's linear() computes it, then as each cuBLASLt heuristic algorithm does.
void linear_layer(Context& ctx, cublasLtHandle_t lt, const char* name, int M, int N, int K, bool accumulate,
                  int repeats) {
  DeviceBuffer x = random_bf16(ctx, size_t(M) * K, "x"), w = random_bf16(ctx, size_t(N) * K, "w");
  DeviceBuffer y(ctx, size_t(M) * N * 2, "y");
  cudaMemset(y.get(), 0, y.bytes());
  const double flops = 2.0 * M * N * K;
  const double ms = time_ms(
      ctx, repeats, [&] { linear(ctx, x.get(), w.get(), DType::bf16, y.get(), DType::bf16, M, N, K, accumulate); });
  std::printf("%-8s %6d x %5d x %5d %s: linear() %7.3f ms %6.1f TFLOP/s; cuBLASLt algorithms:", name, M, N, K,
              accumulate ? "+=" : "= ", ms, flops / ms / 1e9);

  cublasLtMatmulDesc_t op;
  check(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta);
  cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb);
  cublasLtMatrixLayout_t a, b, c;
  check(cublasLtMatrixLayoutCreate(&a, CUDA_R_16BF, K, N, K), "layout");
  check(cublasLtMatrixLayoutCreate(&b, CUDA_R_16BF, K, M, K), "layout");
  check(cublasLtMatrixLayoutCreate(&c, CUDA_R_16BF, N, M, N), "layout");
  cublasLtMatmulPreference_t pref;
  check(cublasLtMatmulPreferenceCreate(&pref), "preference");
  size_t workspace_bytes = size_t(32) << 20;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes,
                                       sizeof workspace_bytes);
  DeviceBuffer workspace(ctx, workspace_bytes, "workspace");
  cublasLtMatmulHeuristicResult_t found[12];
  int n = 0;
  check(cublasLtMatmulAlgoGetHeuristic(lt, op, a, b, c, c, pref, 12, found, &n), "heuristic");
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  for (int i = 0; i < n; ++i) {
    const double t = time_ms(ctx, repeats, [&] {
      cublasLtMatmul(lt, op, &alpha, w.get(), a, x.get(), b, &beta, y.get(), c, y.get(), c, &found[i].algo,
                     workspace.get(), workspace_bytes, static_cast<cudaStream_t>(ctx.stream()));
    });
    // The algorithm's configuration: id, tile, stages, cluster shape, CTA swizzling, custom option (cublasLt.h).
    int config[6] = {};
    const cublasLtMatmulAlgoConfigAttributes_t fields[6] = {
        CUBLASLT_ALGO_CONFIG_ID, CUBLASLT_ALGO_CONFIG_TILE_ID, CUBLASLT_ALGO_CONFIG_STAGES_ID,
        CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION};
    for (int f = 0; f < 6; ++f) {
      size_t written = 0;
      cublasLtMatmulAlgoConfigGetAttribute(&found[i].algo, fields[f], &config[f], sizeof(int), &written);
    }
    std::printf(" %.1f[%d/t%d/s%d/c%d/w%d/o%d]", flops / t / 1e9, config[0], config[1], config[2], config[3],
                config[4], config[5]);
  }
  const double again = time_ms(
      ctx, repeats, [&] { linear(ctx, x.get(), w.get(), DType::bf16, y.get(), DType::bf16, M, N, K, accumulate); });
  std::printf(" TFLOP/s; linear() again %6.1f\n", flops / again / 1e9);
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(a), cublasLtMatrixLayoutDestroy(b), cublasLtMatrixLayoutDestroy(c);
  cublasLtMatmulDescDestroy(op);
}

}  // namespace

int main(int argc, char** argv) {
  const int B = argc > 1 ? std::atoi(argv[1]) : 16, repeats = argc > 2 ? std::atoi(argv[2]) : 10;
  const int T = argc > 3 ? std::atoi(argv[3]) : 2048;
  hot_ms = argc > 4 ? std::atof(argv[4]) : 0.0;
  try {
    Context ctx(0);
    std::printf("%s\n", ctx.description().c_str());
    attention(ctx, B, T, repeats);
    cublasLtHandle_t lt;
    check(cublasLtCreate(&lt), "cublasLtCreate");
    const int M = B * T;
    linear_layer(ctx, lt, "q|k|v", M, 12288, 4096, false, repeats);
    linear_layer(ctx, lt, "o", M, 4096, 4096, true, repeats);
    linear_layer(ctx, lt, "gate|up", M, 22016, 4096, false, repeats);
    linear_layer(ctx, lt, "down", M, 4096, 11008, true, repeats);
    cublasLtDestroy(lt);
  } catch (const lmac::Error& e) {
    std::fprintf(stderr, "lmac_kernel_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
