// The driver the exact scorers share (model/framework_exact.cpp, model/llama_exact.cpp). One forward routine takes
// R rows, row r being sequence row_seq_[r] at position row_pos_[r], whose keys and values up to that position are
// in the cache. The encoder's full pass fills the cache with every position of every sequence and runs all rows; the
// decoder's step appends one position per sequence and runs one row each. A subclass supplies the model: its
// caches, the embedding of an input, and the forward pass.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/exact_scorer.hpp"

namespace lmac {

class CachedExactScorer : public ExactScorer {
 public:
  int alphabet_size() const final { return alphabet_; }
  std::string kernel_id() const final;
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) final;
  void begin(int batch) final;
  void step(std::span<const uint32_t> previous, std::span<float> out) final;

 protected:
  // `rows_per_pass`: rows of one full-pass group, which bounds the scratch memory; grouping changes no value.
  CachedExactScorer(int alphabet, int rows_per_pass) : alphabet_(alphabet), rows_per_pass_(rows_per_pass) {}

  // Throws lmac::Error naming the sequence and position when `symbol` is outside the alphabet.
  virtual void check_symbol(uint32_t symbol, int sequence, int64_t position) const = 0;
  // Writes the input of row `row`: the embedding of `previous` (BOS when there is none) at position `pos`.
  virtual void embed_input(std::optional<uint32_t> previous, int64_t pos, int64_t row) = 0;
  // Empty caches for batch_ sequences of capacity_ positions, and scratch for `rows` rows at a time.
  virtual void allocate(int64_t rows) = 0;
  // The caches grown from capacity_ to `capacity` positions, keeping positions 0..pos_-1 (capacity_ is then set).
  virtual void grow(int64_t capacity) = 0;
  // Rows 0..R-1 (`seqs` sequences, each one's rows consecutive) through the model: R rows of log-probs to out.
  virtual void forward(int64_t R, int seqs, float* out) = 0;

  int batch_ = 0;
  int64_t capacity_ = 0, pos_ = 0;
  std::vector<int> row_seq_, row_pos_;

 private:
  void start(int batch, int64_t capacity, int64_t rows);

  const int alphabet_, rows_per_pass_;
};

}  // namespace lmac
