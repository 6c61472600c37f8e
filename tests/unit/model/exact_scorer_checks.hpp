// The bit-exactness checks every ExactScorer (model/exact_scorer.hpp) must pass, whatever the architecture: the
// incremental steps give the full pass's rows bit for bit, at any batch size and length, and neither depends on
// the thread count or the instruction-set variant. exact_framework_test and exact_llama_test run them on their
// models; the models and the inputs are theirs.
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "engine/exact_kernels.hpp"
#include "model/exact_scorer.hpp"

namespace lmac::exact_checks {

// Puts the instruction-set choice and the thread count back as they were when the test ends.
struct DispatchGuard {
  int threads = omp_get_max_threads();
  ~DispatchGuard() {
    exact_force_isa(std::nullopt);
    omp_set_num_threads(threads);
  }
};

// Full-pass rows of `batch` sequences of `length` symbols.
inline std::vector<float> full_pass(ExactScorer& scorer, const std::vector<uint32_t>& x, int batch, int length) {
  std::vector<float> out(size_t(batch) * length * scorer.alphabet_size());
  scorer.log_probs(x, batch, length, out);
  return out;
}

// The same rows from begin/step, laid out like full_pass's.
inline std::vector<float> stepped(ExactScorer& scorer, const std::vector<uint32_t>& x, int batch, int length) {
  const int A = scorer.alphabet_size();
  std::vector<float> out(size_t(batch) * length * A), row(size_t(batch) * A);
  std::vector<uint32_t> prev(static_cast<size_t>(batch));
  scorer.begin(batch);
  for (int t = 0; t < length; ++t) {
    for (int b = 0; b < batch; ++b) prev[size_t(b)] = t ? x[size_t(b) * length + t - 1] : 12345u;  // ignored at t = 0
    scorer.step(prev, row);
    for (int b = 0; b < batch; ++b)
      std::memcpy(&out[(size_t(b) * length + t) * A], &row[size_t(b) * A], size_t(A) * sizeof(float));
  }
  return out;
}

inline bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// x8 holds 8 sequences of T symbols. The rows of steps and of full passes at batch sizes 1, 3 and 8 are those of
// the batch-8 full pass, and so are the rows of shorter sequences (`lengths`, each < T): a row sees only its past.
// A scorer can also start over: a second begin() gives the same rows.
inline void expect_steps_equal_full_pass(ExactScorer& scorer, const std::vector<uint32_t>& x8, int T,
                                         std::initializer_list<int> lengths, const std::string& label) {
  const int A = scorer.alphabet_size();
  const std::vector<float> full8 = full_pass(scorer, x8, 8, T);
  for (int batch : {1, 3, 8}) {
    std::vector<uint32_t> x(x8.begin(), x8.begin() + size_t(batch) * T);
    const std::vector<float> steps = stepped(scorer, x, batch, T);
    EXPECT_TRUE(same_bits(steps.data(), full8.data(), steps.size())) << label << ", step batch " << batch;
    const std::vector<float> full = full_pass(scorer, x, batch, T);
    EXPECT_TRUE(same_bits(full.data(), full8.data(), full.size())) << label << ", full batch " << batch;
  }
  for (int length : lengths) {
    std::vector<uint32_t> x;
    for (int b = 0; b < 3; ++b) x.insert(x.end(), x8.begin() + size_t(b) * T, x8.begin() + size_t(b) * T + length);
    const std::vector<float> full = full_pass(scorer, x, 3, length);
    const std::vector<float> steps = stepped(scorer, x, 3, length);
    for (int b = 0; b < 3; ++b) {
      const size_t n = size_t(length) * A;
      EXPECT_TRUE(same_bits(&full[b * n], &full8[size_t(b) * T * A], n)) << label << ", length " << length;
      EXPECT_TRUE(same_bits(&steps[b * n], &full8[size_t(b) * T * A], n)) << label << ", length " << length;
    }
  }
  const std::vector<float> again = stepped(scorer, x8, 8, T);
  EXPECT_TRUE(same_bits(again.data(), full8.data(), again.size())) << label << ", second begin";
}

// The same bits, full pass and steps, with 1, 2 and 7 threads under every instruction-set variant the CPU has, as
// the baseline variant on one thread gives. x holds `batch` sequences of `length` symbols.
inline void expect_bits_independent_of_threads_and_isa(ExactScorer& scorer, const std::vector<uint32_t>& x, int batch,
                                                       int length, const std::string& label) {
  DispatchGuard guard;
  ASSERT_TRUE(exact_force_isa(ExactIsa::baseline));
  omp_set_num_threads(1);
  const std::vector<float> reference = full_pass(scorer, x, batch, length);
  for (ExactIsa isa : {ExactIsa::baseline, ExactIsa::avx2, ExactIsa::avx512}) {
    if (!exact_force_isa(isa)) {
      std::printf("  (this CPU has no %s: not tested)\n", exact_isa_name(isa));
      continue;
    }
    for (int threads : {1, 2, 7}) {
      omp_set_num_threads(threads);
      const std::vector<float> full = full_pass(scorer, x, batch, length);
      EXPECT_TRUE(same_bits(full.data(), reference.data(), full.size()))
          << label << ", " << exact_isa_name(isa) << ", " << threads << " threads, full pass";
      const std::vector<float> steps = stepped(scorer, x, batch, length);
      EXPECT_TRUE(same_bits(steps.data(), reference.data(), steps.size()))
          << label << ", " << exact_isa_name(isa) << ", " << threads << " threads, steps";
    }
  }
}

}  // namespace lmac::exact_checks
