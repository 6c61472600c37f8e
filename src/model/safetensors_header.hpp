// The safetensors container: an 8-byte little-endian header length N, N bytes of JSON describing every
// tensor (dtype, shape, [begin, end) offsets into the data that follows), then the raw tensor data.
// Parsing works on a byte span, so a fuzzer can feed it arbitrary bytes; every defect becomes lmac::Error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/bytes.hpp"

namespace lmac {

struct SafetensorsEntry {
  std::string dtype;            // as written: "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;           // absolute offsets into the file (header already added)
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_start = 0;      // 8 + N
  std::map<std::string, SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__", string values only
};

// Bytes per element of a safetensors dtype name, or 0 when the name is not one safetensors defines.
size_t safetensors_dtype_size(const std::string& dtype);

// Validates and parses the header of a whole safetensors file given as bytes. `file_name` is only used in
// messages. Checks: the length prefix fits, the JSON parses, every entry has a known dtype, a non-negative
// shape and offsets that lie inside the file and match shape x dtype size.
SafetensorsHeader parse_safetensors_header(ByteView file, const std::string& file_name);

}  // namespace lmac
