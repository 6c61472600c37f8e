// Turning chunks into the symbols a model predicts, and scoring them within --max_length windows.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/language_model.hpp"
#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

// The symbols a model of `alphabet_size` sees for one chunk of stream bytes:
//   256   the bytes themselves;
//   128   the reference's mask, b >> 1 (one bit per byte is dropped and accounted for separately);
//   65536 one symbol per 16-bit sample, s + 32768 (needs a 16-bit stream).
std::vector<uint32_t> symbols_of_chunk(ByteView chunk, const SymbolFormat& format, int alphabet_size);

// Bits that symbols_of_chunk drops from a chunk: one per byte under the 128-symbol mask, else none.
uint64_t dropped_bits_of_chunk(ByteView chunk, int alphabet_size);

// Scores `batch` sequences of `length` symbols (back to back in `symbols`) into
// out[(b * length + t) * A + s] = log p(x_t = s | ...), coding long sequences in windows (DESIGN.md section 2):
// each window holds BOS, the last max_length / 2 symbols already scored as context, then new symbols, up to
// max_length positions in all; positions start at 0 in every window.
// With `slow`, every row comes from its own forward pass over the prefix that ends at it, as the reference's
// slow path does: O(n^2), and what a decoder computes.
void score_in_windows(LanguageModel& model, std::span<const uint32_t> symbols, int batch, int length, int max_length,
                      bool slow, std::span<float> out);

}  // namespace lmac
