// Scores one chunk of real speech bytes with a Llama checkpoint on the CPU, and reports seconds per chunk and peak
// RSS against the checkpoint's size on disk (the budget: peak RSS < 1.25 x checkpoint).
//
//   LMAC_LLAMA_DIR=/work/ckpt7b [LMAC_LLAMA_CHUNK=2048] /usr/bin/time -v build/llama_score_bench
//
// Without LMAC_LLAMA_DIR the benchmark reports an error and does nothing (CI has no 7B checkpoint).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "model/llama_loader.hpp"

namespace {

namespace fs = std::filesystem;

// b = ((s >> 8) + 128) % 256 of the 16-bit samples of a pocketsphinx LibriVox recording (RIFF "data" chunk).
std::vector<uint32_t> speech_bytes(size_t n) {
  const char* path = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> wav((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 12;
  while (pos + 8 <= wav.size() && std::string(wav.begin() + pos, wav.begin() + pos + 4) != "data")
    pos += 8 + (wav[pos + 4] | wav[pos + 5] << 8 | wav[pos + 6] << 16 | size_t(wav[pos + 7]) << 24);
  pos += 8;
  std::vector<uint32_t> out;
  for (size_t i = pos; i + 1 < wav.size() && out.size() < n; i += 2) {
    int16_t s = int16_t(wav[i] | wav[i + 1] << 8);
    out.push_back(uint32_t(((s >> 8) + 128) % 256));
  }
  out.resize(n, 128);
  return out;
}

uint64_t checkpoint_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") total += e.file_size();
  return total;
}

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;
}

void BM_LlamaScoreChunk(benchmark::State& state) {
  const char* dir = std::getenv("LMAC_LLAMA_DIR");
  if (!dir) {
    state.SkipWithError("set LMAC_LLAMA_DIR to a Llama checkpoint directory");
    return;
  }
  const char* chunk_env = std::getenv("LMAC_LLAMA_CHUNK");
  const int chunk = chunk_env ? std::atoi(chunk_env) : 2048;
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<lmac::LanguageModel> model = lmac::load_llama_model(dir, {});
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rss_after_load = peak_rss_bytes();
  std::vector<uint32_t> symbols = speech_bytes(size_t(chunk));
  std::vector<float> out(symbols.size() * model->alphabet_size());
  double bits = 0;
  for (auto _ : state) {
    model->log_probs(symbols, 1, chunk, out);
    benchmark::DoNotOptimize(out.data());
  }
  for (int t = 0; t < chunk; ++t) bits -= out[size_t(t) * model->alphabet_size() + symbols[t]] / std::log(2.0);
  const double ckpt = double(checkpoint_bytes(dir));
  state.counters["load_s"] = load_seconds;
  state.counters["chunk_bytes"] = chunk;
  state.counters["bits_per_byte"] = bits / chunk;
  state.counters["checkpoint_GB"] = ckpt / 1e9;
  state.counters["peak_rss_GB"] = peak_rss_bytes() / 1e9;
  state.counters["rss_after_load_GB"] = rss_after_load / 1e9;
  state.counters["peak_rss_over_ckpt"] = peak_rss_bytes() / ckpt;
  std::fprintf(stderr, "%s: %s\n", dir, model->info().architecture.c_str());
}
BENCHMARK(BM_LlamaScoreChunk)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
