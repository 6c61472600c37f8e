// The machine's SGEMM rate through lmac's OpenBLAS wrapper: the peak the framework transformer is measured against
// (bench/results/framework_cpu.md). Run with the thread count under test, e.g. OMP_NUM_THREADS=2.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "engine/matmul.hpp"

namespace {

void BM_Sgemm(benchmark::State& state) {
  const int M = int(state.range(0)), K = int(state.range(1)), N = int(state.range(2));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> x(size_t(M) * K), w(size_t(K) * N), y(size_t(M) * N);
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng);
  for (auto _ : state) {
    lmac::matmul(x.data(), w.data(), y.data(), M, K, N);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * M * K * N, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["blas_threads"] = openblas_get_num_threads();
  state.counters["blas_parallel"] = openblas_get_parallel();  // 0 sequential, 1 pthreads, 2 OpenMP
}

// Square sizes, and the framework transformer's own shapes (16384 rows = 8 chunks of 2048; D = 256).
BENCHMARK(BM_Sgemm)
    ->Args({1024, 1024, 1024})
    ->Args({2048, 2048, 2048})
    ->Args({4096, 4096, 4096})
    ->Args({16384, 256, 768})
    ->Args({16384, 256, 1024})
    ->Args({16384, 1024, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
