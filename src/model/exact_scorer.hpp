// Scoring for real .lmac files, where the decoder must see bit-identical pdfs (DESIGN.md section 4).
//
// Strategy: batch-invariant kernels with a fixed reduction order. Every value a row depends on is computed
// the same way whether the row comes from a full-sequence pass (the encoder's fast path) or from one step of
// the incremental path (the decoder), whatever the batch size, the thread count or the x86-64 CPU: matrix
// products sum over k left to right with no FMA, attention and normalisation reduce left to right over
// their row, and exp/tanh are lmac's own float32 routines built from IEEE additions and multiplications.
// kernel_id() names that arithmetic; a file records it, and a different one is refused.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace lmac {

class ExactScorer {
 public:
  virtual ~ExactScorer() = default;

  virtual int alphabet_size() const = 0;

  // Names the arithmetic, e.g. "cpu-exact-v1"; two scorers with the same id and model give identical rows.
  virtual std::string kernel_id() const = 0;

  // The encoder's path: the contract of LanguageModel::log_probs, with rows bit-identical to step()'s.
  virtual void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) = 0;

  // The decoder's path. begin() starts `batch` empty sequences (the next row each is the BOS row, t = 0).
  // step() appends previous[b] to sequence b, except on the first call after begin(), where `previous` is
  // ignored, and writes the next row of every sequence to out[b * alphabet_size() + s].
  virtual void begin(int batch) = 0;
  virtual void step(std::span<const uint32_t> previous, std::span<float> out) = 0;
};

}  // namespace lmac
