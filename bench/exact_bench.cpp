// The exact (fixed reduction order) scoring path that .lmac files are coded with, on the paper's 3.2M framework
// model (vocab 256, D = 256, 4 layers, 8 heads, widening 4; random weights), 2048-symbol chunks:
//   Encode: ExactScorer::log_probs over a batch of chunks (the compressor's full pass).
//   Decode: ExactScorer::begin + 2048 step() calls for a batch of chunks in parallel (the decompressor).
//   Float:  FrameworkModel::log_probs and FrameworkSession (OpenBLAS, the `eval` path, not bit-reproducible) on
//           the same chunks, for comparison under the same load.
// symbols_per_s counts every chunk symbol scored. Run with OMP_NUM_THREADS=2.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/exact_kernels.hpp"
#include "model/framework_model.hpp"
#include "random_framework_model.hpp"

namespace {

constexpr int kD = 256, kL = 4, kH = 8, kWf = 4, kV = 256, kT = 2048;

const lmac::FrameworkModel& model() {
  static const lmac::FrameworkModel m = random_framework_model(kD, kL, kH, kWf, kV);
  return m;
}

std::vector<uint32_t> chunks(int batch) {
  std::mt19937 rng(3);
  std::vector<uint32_t> x(size_t(batch) * kT);
  for (uint32_t& s : x) s = rng() % kV;
  return x;
}

benchmark::Counter symbols_per_second(int batch) {
  return benchmark::Counter(double(batch) * kT, benchmark::Counter::kIsIterationInvariantRate);
}

void label(benchmark::State& state) {
  state.SetLabel(lmac::exact_isa_name(lmac::exact_isa()));
}

void BM_ExactEncode(benchmark::State& state) {
  const int batch = int(state.range(0));
  auto scorer = const_cast<lmac::FrameworkModel&>(model()).exact_scorer();
  const std::vector<uint32_t> x = chunks(batch);
  std::vector<float> out(x.size() * kV);
  for (auto _ : state) {
    scorer->log_probs(x, batch, kT, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["symbols_per_s"] = symbols_per_second(batch);
  label(state);
}

void BM_ExactDecode(benchmark::State& state) {
  const int batch = int(state.range(0));
  auto scorer = const_cast<lmac::FrameworkModel&>(model()).exact_scorer();
  const std::vector<uint32_t> x = chunks(batch);
  std::vector<float> row(size_t(batch) * kV);
  std::vector<uint32_t> prev(static_cast<size_t>(batch));
  for (auto _ : state) {
    scorer->begin(batch);
    for (int t = 0; t < kT; ++t) {
      for (int b = 0; b < batch; ++b) prev[b] = t ? x[size_t(b) * kT + t - 1] : 0;
      scorer->step(prev, row);
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["symbols_per_s"] = symbols_per_second(batch);
  label(state);
}

void BM_FloatEncode(benchmark::State& state) {
  const int batch = int(state.range(0));
  auto& m = const_cast<lmac::FrameworkModel&>(model());
  const std::vector<uint32_t> x = chunks(batch);
  std::vector<float> out(x.size() * kV);
  for (auto _ : state) {
    m.log_probs(x, batch, kT, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["symbols_per_s"] = symbols_per_second(batch);
}

void BM_FloatDecode(benchmark::State& state) {
  const int batch = int(state.range(0));
  lmac::FrameworkSession session(model());
  const std::vector<uint32_t> x = chunks(batch);
  std::vector<float> row(size_t(batch) * kV);
  std::vector<uint32_t> prev(static_cast<size_t>(batch));
  for (auto _ : state) {
    session.reset(batch);
    for (int t = 0; t < kT; ++t) {
      for (int b = 0; b < batch; ++b) prev[b] = t ? x[size_t(b) * kT + t - 1] : 0;
      session.step(prev.data(), row.data());
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["symbols_per_s"] = symbols_per_second(batch);
}

BENCHMARK(BM_ExactEncode)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(2);
BENCHMARK(BM_ExactDecode)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(2);
BENCHMARK(BM_FloatDecode)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(2);
BENCHMARK(BM_FloatEncode)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(2);

}  // namespace

BENCHMARK_MAIN();
