#include "util/npy_writer.hpp"

#include <fmt/format.h>

#include <cstring>

#include "util/error.hpp"

namespace lmac {

std::string npy_float32_bytes(std::span<const float> values, const std::vector<uint64_t>& shape) {
  uint64_t count = 1;
  std::string dims;
  for (uint64_t d : shape) {
    count *= d;
    dims += fmt::format("{}, ", d);
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // "(3, 4)"; a 1-d shape keeps its comma: "(3,)"
  else if (!shape.empty()) dims.resize(dims.size() - 1);
  if (count != values.size()) throw_error(ErrorCode::internal, "npy: {} values do not fill the shape ({})", values.size(), dims);
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and a newline to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(float));
  std::memcpy(out.data() + at, values.data(), values.size() * sizeof(float));  // x86-64 is little-endian
  return out;
}

}  // namespace lmac
