// Deterministic inputs for the codec tests (no randomness from the clock, no files).
#pragma once

#include <cstdint>

#include "util/bytes.hpp"

namespace lmac::test {

// Bytes that look like quiet 8-bit audio: a triangle wave around 128 plus a little noise.
inline Bytes speech_like(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    const int wave = int(i % 64 < 32 ? i % 32 : 31 - i % 32) - 16;
    out[i] = uint8_t(128 + wave + int(state >> 29) - 4);
  }
  return out;
}

// Incompressible bytes.
inline Bytes noise(size_t n, uint32_t seed) {
  Bytes out(n);
  uint32_t state = seed;
  for (auto& b : out) b = uint8_t((state = state * 1664525u + 1013904223u) >> 24);
  return out;
}

}  // namespace lmac::test
