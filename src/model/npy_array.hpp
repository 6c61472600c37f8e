// NumPy arrays as lmac reads them from .npy files and pickles: a dtype, a shape and little-endian C-order bytes.
// Only what framework checkpoints hold is understood: floats (f2, f4, f8), integers and bools.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"

namespace lmac {

struct NpyDType {
  char kind = 'f';    // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'O' Python object
  int item_size = 4;  // bytes per element
  std::string name() const;  // "f4", "i8", ...
};

// Parses a dtype string such as "<f4", "|u1", "=i8" or "O8". Big-endian ('>') and anything that is not a plain
// number type or object is refused with a message naming `where`.
NpyDType parse_npy_descr(std::string_view descr, const std::string& where);

struct NpyArray {
  NpyDType dtype;
  std::vector<int64_t> shape;  // empty for a 0-d (scalar) array
  Bytes data;                  // element_count() * item_size bytes, little-endian, C order

  int64_t element_count() const;
  std::string shape_string() const;  // "[256, 64]"
  // The elements widened to float32 (f2/f4/f8 only; an integer array is refused with a message naming `where`).
  std::vector<float> to_float32(const std::string& where) const;
  // The value of a one-element integer array (e.g. `lmac_bits`).
  int64_t scalar_int(const std::string& where) const;
};

// Number of elements of `shape`, or -1 if a dimension is negative or the product overflows `limit`.
int64_t npy_element_count(const std::vector<int64_t>& shape, int64_t limit);

}  // namespace lmac
