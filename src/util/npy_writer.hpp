// Writing float32 arrays as NumPy .npy files (format version 1.0), for `lmac score --output`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lmac {

// The bytes of a .npy file holding `values` as little-endian float32 in C order with `shape`.
std::string npy_float32_bytes(std::span<const float> values, const std::vector<uint64_t>& shape);

}  // namespace lmac
