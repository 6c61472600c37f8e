// Arithmetic-coder throughput: symbols per second on one core, for 256-way symbols with realistic peaked
// distributions (log-softmax of random logits with scale 4; symbols drawn from the distribution). Single thread.
// Two timed spans:
//   BM_EncodeChunksFromProbs  float32 probabilities (exp(log_probs), unnormalised as the reference's coder gets
//                             them) to output bits: normalisation, bounds and coding (encode_chunks_from_probs);
//   BM_EncodeChunks           float32 log-probabilities to output bits: exp on top of that (encode_chunks).
//
//   build/coder_bench --benchmark_min_time=1 --benchmark_repetitions=3
//
// items_per_second is symbols per second.
#include "coding/arithmetic_coder.hpp"
#include "coding/batch_encoder.hpp"
#include "coding/pdf.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr int kAlphabet = 256;
constexpr int kLength = 2048;  // one reference chunk

struct Workload {
  int chunks;
  int length;
  std::vector<float> log_probs;  // [chunk][t][256]
  std::vector<float> probs;      // exp_f32(log_probs), same layout
  std::vector<uint32_t> symbols;
};

const Workload& workload(int chunks, int length = kLength) {
  static std::vector<std::unique_ptr<Workload>> cache;
  for (auto& w : cache)
    if (w->chunks == chunks && w->length == length) return *w;
  auto w = std::make_unique<Workload>();
  w->chunks = chunks;
  w->length = length;
  const size_t rows = static_cast<size_t>(chunks) * length;
  w->log_probs.resize(rows * kAlphabet);
  w->symbols.resize(rows);
  std::mt19937 rng(1234);
  std::normal_distribution<float> logit(0.0f, 4.0f);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (size_t r = 0; r < rows; ++r) {
    float* lp = &w->log_probs[r * kAlphabet];
    double mx = -1e300, z = 0;
    for (int i = 0; i < kAlphabet; ++i) mx = std::max(mx, static_cast<double>(lp[i] = logit(rng)));
    for (int i = 0; i < kAlphabet; ++i) z += std::exp(lp[i] - mx);
    const double log_z = mx + std::log(z);
    double target = u(rng), c = 0;
    uint32_t s = kAlphabet - 1;
    for (int i = 0; i < kAlphabet; ++i) {
      lp[i] = static_cast<float>(lp[i] - log_z);
      c += std::exp(static_cast<double>(lp[i]));
      if (c > target && s == kAlphabet - 1) s = static_cast<uint32_t>(i);
    }
    w->symbols[r] = s;
  }
  w->probs.resize(w->log_probs.size());
  lmac::exp_f32(w->log_probs, w->probs);
  cache.push_back(std::move(w));
  return *cache.back();
}

// Times encode(workload, chunks, length), which codes the workload's chunks with `kernel`, at state's shape.
template <typename Encode>
void time_encoder(benchmark::State& state, lmac::BatchKernel kernel, Encode encode) {
  if (!lmac::batch_kernel_available(kernel)) {
    state.SkipWithError("kernel not available on this CPU");
    return;
  }
  const int chunks = static_cast<int>(state.range(0));
  const int length = static_cast<int>(state.range(1));
  const Workload& w = workload(chunks, length);
  uint64_t bits = 0;
  for (auto _ : state) {
    auto out = encode(w, chunks, length);
    bits = 0;
    for (const auto& e : out) bits += e.num_bits;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(chunks) * length);
  state.counters["bits_per_symbol"] = static_cast<double>(bits) / (static_cast<double>(chunks) * length);
}

void BM_EncodeChunks(benchmark::State& state, lmac::BatchKernel kernel) {
  time_encoder(state, kernel, [&](const Workload& w, int chunks, int length) {
    return lmac::encode_chunks(w.log_probs, w.symbols, chunks, length, kAlphabet, {1, kernel});
  });
}

void BM_EncodeChunksFromProbs(benchmark::State& state, lmac::BatchKernel kernel) {
  time_encoder(state, kernel, [&](const Workload& w, int chunks, int length) {
    return lmac::encode_chunks_from_probs(w.probs, w.symbols, chunks, length, kAlphabet, {1, kernel});
  });
}

// Args: chunks, positions per chunk. {32, 2048}: 64 MB of (log-)probabilities, streamed from memory as in an
// evaluation batch; {32, 64}: 2 MB, from cache, the coder's own speed.
BENCHMARK_CAPTURE(BM_EncodeChunksFromProbs, avx512, lmac::BatchKernel::avx512)
    ->Args({32, 2048})->Args({32, 64})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeChunksFromProbs, avx2, lmac::BatchKernel::avx2)
    ->Args({32, 2048})->Args({32, 64})->Args({8, 2048})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeChunksFromProbs, scalar, lmac::BatchKernel::scalar)
    ->Args({8, 256})->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_EncodeChunks, avx512, lmac::BatchKernel::avx512)
    ->Args({32, 2048})->Args({32, 64})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeChunks, avx2, lmac::BatchKernel::avx2)
    ->Args({32, 2048})->Args({32, 64})->Args({8, 2048})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeChunks, scalar, lmac::BatchKernel::scalar)->Args({8, 256})->Unit(benchmark::kMillisecond);

// The decoder, one symbol at a time as decompression runs it: pdf_from_log_probs + ArithmeticDecoder::decode.
void BM_Decode(benchmark::State& state) {
  const Workload& w = workload(8);
  const auto coded = lmac::encode_chunks(std::span<const float>(w.log_probs).first(kLength * kAlphabet),
                                           std::span<const uint32_t>(w.symbols).first(kLength), 1, kLength, kAlphabet);
  std::vector<float> pdf(kAlphabet);
  for (auto _ : state) {
    lmac::ArithmeticDecoder dec(coded[0].bytes, coded[0].num_bits);
    for (int t = 0; t < kLength; ++t) {
      lmac::pdf_from_log_probs({&w.log_probs[static_cast<size_t>(t) * kAlphabet], kAlphabet}, pdf);
      const uint32_t s = dec.decode(pdf);
      if (s != w.symbols[static_cast<size_t>(t)]) state.SkipWithError("decoded the wrong symbol");
    }
  }
  state.SetItemsProcessed(state.iterations() * kLength);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond);

// The decoder from probabilities: normalize_pdf + ArithmeticDecoder::decode, one symbol at a time.
void BM_DecodeFromProbs(benchmark::State& state) {
  const Workload& w = workload(8);
  const auto coded = lmac::encode_chunks_from_probs(std::span<const float>(w.probs).first(kLength * kAlphabet),
                                                    std::span<const uint32_t>(w.symbols).first(kLength), 1, kLength,
                                                    kAlphabet);
  std::vector<float> pdf(kAlphabet);
  for (auto _ : state) {
    lmac::ArithmeticDecoder dec(coded[0].bytes, coded[0].num_bits);
    for (int t = 0; t < kLength; ++t) {
      const float* row = &w.probs[static_cast<size_t>(t) * kAlphabet];
      std::copy(row, row + kAlphabet, pdf.begin());
      lmac::normalize_pdf(pdf);
      const uint32_t s = dec.decode(pdf);
      if (s != w.symbols[static_cast<size_t>(t)]) state.SkipWithError("decoded the wrong symbol");
    }
  }
  state.SetItemsProcessed(state.iterations() * kLength);
}
BENCHMARK(BM_DecodeFromProbs)->Unit(benchmark::kMicrosecond);

// The plain encoder alone, from an already normalised pdf (bounds and coding only).
void BM_EncodeNormalisedPdf(benchmark::State& state) {
  const Workload& w = workload(8);
  std::vector<std::vector<float>> pdfs(kLength, std::vector<float>(kAlphabet));
  for (int t = 0; t < kLength; ++t)
    lmac::pdf_from_log_probs({&w.log_probs[static_cast<size_t>(t) * kAlphabet], kAlphabet}, pdfs[t]);
  for (auto _ : state) {
    lmac::ArithmeticEncoder enc;
    for (int t = 0; t < kLength; ++t) enc.encode(pdfs[t], w.symbols[static_cast<size_t>(t)]);
    benchmark::DoNotOptimize(enc.finish());
  }
  state.SetItemsProcessed(state.iterations() * kLength);
}
BENCHMARK(BM_EncodeNormalisedPdf)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
