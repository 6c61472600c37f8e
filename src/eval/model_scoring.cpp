#include "eval/model_scoring.hpp"

#include <algorithm>
#include <cstring>

#include "util/error.hpp"

namespace lmac {

std::vector<uint32_t> symbols_of_chunk(ByteView chunk, const SymbolFormat& format, int alphabet_size) {
  std::vector<uint32_t> symbols;
  if (alphabet_size == 65536) {
    if (format.bits != 16) {
      throw_error(ErrorCode::usage, "this model predicts 65536 symbols (16-bit samples): use --bits 16");
    }
    symbols.reserve(chunk.size() / 2);
    for (size_t i = 0; i + 1 < chunk.size(); i += 2) {
      const uint32_t first = chunk[i], second = chunk[i + 1];
      symbols.push_back(format.byte_order == ByteOrder::msb ? (first << 8) | second : (second << 8) | first);
    }
    return symbols;
  }
  if (alphabet_size != 256 && alphabet_size != 128) {
    throw_error(ErrorCode::unsupported, "models with {} symbols are not supported (expected 128, 256 or 65536)",
                alphabet_size);
  }
  const int shift = alphabet_size == 128 ? 1 : 0;
  symbols.reserve(chunk.size());
  for (uint8_t b : chunk) symbols.push_back(static_cast<uint32_t>(b >> shift));
  return symbols;
}

uint64_t dropped_bits_of_chunk(ByteView chunk, int alphabet_size) { return alphabet_size == 128 ? chunk.size() : 0; }

namespace {

// One window: the sequence x[begin, end) is fed to the model; rows for x[first_new, end) are kept.
struct Window {
  int begin, first_new, end;
};

std::vector<Window> windows_of(int length, int max_length) {
  std::vector<Window> windows;
  const int context = max_length / 2;
  int next = 0;
  while (next < length) {
    const int begin = next == 0 ? 0 : next - context;
    const int end = std::min(length, begin + max_length);
    windows.push_back({begin, next, end});
    next = end;
  }
  return windows;
}

}  // namespace

void score_in_windows(LanguageModel& model, std::span<const uint32_t> symbols, int batch, int length, int max_length,
                      bool slow, std::span<float> out) {
  const size_t A = static_cast<size_t>(model.alphabet_size());
  if (symbols.size() != static_cast<size_t>(batch) * length || out.size() != symbols.size() * A) {
    throw_error(ErrorCode::internal, "score_in_windows: buffer sizes do not match batch {} x length {}", batch, length);
  }
  if (!slow && length <= max_length) {
    model.log_probs(symbols, batch, length, out);
    return;
  }
  std::vector<uint32_t> window_symbols;
  std::vector<float> window_out;
  for (const Window& w : windows_of(length, max_length)) {
    // In slow mode every new row gets its own prefix; otherwise the whole window is one pass.
    const int first_end = slow ? w.first_new + 1 : w.end;
    for (int end = first_end; end <= w.end; ++end) {
      const int n = end - w.begin;
      window_symbols.resize(static_cast<size_t>(batch) * n);
      for (int b = 0; b < batch; ++b) {
        std::memcpy(&window_symbols[static_cast<size_t>(b) * n], &symbols[static_cast<size_t>(b) * length + w.begin],
                    sizeof(uint32_t) * n);
      }
      window_out.resize(window_symbols.size() * A);
      model.log_probs(window_symbols, batch, n, window_out);
      const int keep_from = slow ? end - 1 : w.first_new;
      for (int b = 0; b < batch; ++b) {
        for (int t = keep_from; t < end; ++t) {
          std::memcpy(&out[(static_cast<size_t>(b) * length + t) * A],
                      &window_out[(static_cast<size_t>(b) * n + (t - w.begin)) * A], sizeof(float) * A);
        }
      }
    }
  }
}

}  // namespace lmac
