// A model fingerprint: XXH3-64 over a sequence of length-prefixed strings and raw words, printed as 16 hex
// digits. Length prefixes keep ("ab", "c") and ("a", "bc") apart. Files record it, so the byte sequence fed
// for a given model must never change.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmac {

class Fingerprint {
 public:
  Fingerprint() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~Fingerprint() { XXH3_freeState(state_); }
  Fingerprint(const Fingerprint&) = delete;
  Fingerprint& operator=(const Fingerprint&) = delete;

  void add(const std::string& s) {
    const uint64_t n = s.size();
    add_raw(&n, sizeof n);
    add_raw(s.data(), s.size());
  }
  void add_raw(const void* data, size_t size) { XXH3_64bits_update(state_, data, size); }
  std::string hex() const;

 private:
  XXH3_state_t* state_;
};

}  // namespace lmac
