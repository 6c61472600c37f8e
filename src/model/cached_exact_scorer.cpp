#include "model/cached_exact_scorer.hpp"

#include <algorithm>

#include "engine/exact_kernels.hpp"
#include "util/error.hpp"

namespace lmac {

std::string CachedExactScorer::kernel_id() const { return kExactKernelId; }

void CachedExactScorer::start(int batch, int64_t capacity, int64_t rows) {
  batch_ = batch;
  capacity_ = capacity;
  pos_ = 0;
  row_seq_.resize(size_t(rows));
  row_pos_.resize(size_t(rows));
  allocate(rows);
}

void CachedExactScorer::log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) {
  const size_t A = size_t(alphabet_);
  if (batch < 0 || length < 0 || symbols.size() != size_t(batch) * size_t(length) ||
      out.size() != size_t(batch) * size_t(length) * A) {
    throw_error(ErrorCode::internal, "exact log_probs: {} symbols, {} outputs do not fit batch {} x length {} x {}",
                symbols.size(), out.size(), batch, length, alphabet_);
  }
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < length; ++t) check_symbol(symbols[size_t(b) * length + t], b, t);  // the last too
  }
  if (batch == 0 || length == 0) return;
  const int group = std::max(1, std::min(batch, rows_per_pass_ / length));
  for (int b0 = 0; b0 < batch; b0 += group) {
    const int n = std::min(group, batch - b0);
    start(n, length, int64_t(n) * length);
    const uint32_t* x = symbols.data() + size_t(b0) * length;
    for (int b = 0; b < n; ++b) {
      for (int t = 0; t < length; ++t) {
        const int64_t r = int64_t(b) * length + t;
        row_seq_[size_t(r)] = b;
        row_pos_[size_t(r)] = t;
        // Inputs: BOS, then the symbols shifted right by one.
        embed_input(t == 0 ? std::nullopt : std::optional<uint32_t>(x[r - 1]), t, r);
      }
    }
    forward(int64_t(n) * length, n, out.data() + size_t(b0) * length * A);
  }
}

void CachedExactScorer::begin(int batch) {
  if (batch < 1) throw_error(ErrorCode::internal, "exact scorer: begin({})", batch);
  start(batch, 256, batch);
  for (int b = 0; b < batch; ++b) row_seq_[size_t(b)] = b;
}

void CachedExactScorer::step(std::span<const uint32_t> previous, std::span<float> out) {
  if (batch_ == 0) throw_error(ErrorCode::internal, "exact scorer: step() before begin()");
  if ((pos_ > 0 && previous.size() < size_t(batch_)) || out.size() != size_t(batch_) * size_t(alphabet_)) {
    throw_error(ErrorCode::internal, "exact scorer: step() with {} previous symbols and {} outputs for batch {}",
                previous.size(), out.size(), batch_);
  }
  if (pos_ >= capacity_) {
    grow(2 * capacity_);
    capacity_ = 2 * capacity_;
  }
  for (int b = 0; b < batch_; ++b) {
    if (pos_ > 0) check_symbol(previous[size_t(b)], b, pos_ - 1);
    row_pos_[size_t(b)] = int(pos_);
    embed_input(pos_ == 0 ? std::nullopt : std::optional<uint32_t>(previous[size_t(b)]), pos_, b);
  }
  forward(batch_, batch_, out.data());
  ++pos_;
}

}  // namespace lmac
