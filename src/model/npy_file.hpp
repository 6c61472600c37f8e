// The .npy file format (NumPy's format.py, versions 1.0, 2.0 and 3.0): magic, a Python-literal header dict,
// then the array's bytes. An object array (dtype '|O') is followed by a pickle instead, which the caller
// hands to the restricted unpickler (model/pickle_reader.hpp).
#pragma once

#include <string>

#include "model/npy_array.hpp"
#include "util/bytes.hpp"

namespace lmac {

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  size_t data_offset = 0;  // where the array bytes (or the pickle) start
};

// Parses and validates the header. `where` names the file and entry in every error.
NpyHeader parse_npy_header(ByteView file, const std::string& where);

struct NpyContents {
  bool is_object = false;  // true: `pickle` holds the pickled object array; `array` is unused
  NpyArray array;
  ByteView pickle;  // a view into the caller's bytes
  std::vector<int64_t> shape;
};

// A whole .npy: header plus exactly the number of bytes the header promises (fortran_order true, truncated
// data or trailing bytes are errors naming `where`).
NpyContents parse_npy(ByteView file, const std::string& where);

}  // namespace lmac
