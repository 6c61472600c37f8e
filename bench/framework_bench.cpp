// The framework transformer's CPU forward pass: the paper's 3.2M model (D = 256, 4 layers, 8 heads, widening 4,
// 256 symbols; random weights) scoring 2048-byte chunks in batches. FLOPs per position t follow the usual count:
// 2 x (non-embedding parameters) + 4 x D x (t + 1) per layer. Compare the FLOPS counter with bench/sgemm_bench.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "model/framework_model.hpp"
#include "random_framework_model.hpp"

namespace {

double flops_per_chunk(int D, int L, int wf, int V, int T) {
  const double non_embedding = double(L) * (4.0 * D * D + 2.0 * D * D * wf + D * wf + D + 4.0 * D) + double(D) * V + V;
  double total = 0;
  for (int t = 0; t < T; ++t) total += 2 * non_embedding + 4.0 * D * (t + 1) * L;
  return total;
}

void BM_Framework3M(benchmark::State& state) {
  const int D = 256, L = 4, H = 8, wf = 4, V = 256, T = 2048;
  const int batch = int(state.range(0));
  lmac::FrameworkModel model = random_framework_model(D, L, H, wf, V);
  std::mt19937 rng(3);
  std::vector<uint32_t> x(size_t(batch) * T);
  for (uint32_t& s : x) s = rng() % 256;
  std::vector<float> out(x.size() * V);
  for (auto _ : state) {
    model.log_probs(x, batch, T, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["FLOPS"] =
      benchmark::Counter(flops_per_chunk(D, L, wf, V, T) * batch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] = benchmark::Counter(double(batch) * T, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Framework3M)->Arg(1)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
