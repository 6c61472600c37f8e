#include "model/npy_array.hpp"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/half_float.hpp"
#include "util/error.hpp"

namespace lmac {

std::string NpyDType::name() const { return fmt::format("{}{}", kind, item_size); }

NpyDType parse_npy_descr(std::string_view descr, const std::string& where) {
  std::string_view d = descr;
  if (!d.empty() && (d[0] == '<' || d[0] == '|' || d[0] == '=')) {
    d.remove_prefix(1);  // '=' is native order, and lmac only runs on little-endian machines
  } else if (!d.empty() && d[0] == '>') {
    throw_error(ErrorCode::bad_model, "{}: big-endian dtype '{}' is not supported", where, descr);
  }
  if (d == "O") return NpyDType{'O', 8};  // NumPy writes object arrays as '|O'
  if (d.size() < 2) throw_error(ErrorCode::bad_model, "{}: unsupported dtype '{}'", where, descr);
  NpyDType t;
  t.kind = d[0];
  std::string_view digits = d.substr(1);
  int size = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || size > 100) throw_error(ErrorCode::bad_model, "{}: unsupported dtype '{}'", where, descr);
    size = size * 10 + (c - '0');
  }
  t.item_size = size;
  bool ok = (t.kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
            ((t.kind == 'i' || t.kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
            (t.kind == 'b' && size == 1) || (t.kind == 'O' && size == 8);
  if (!ok) throw_error(ErrorCode::bad_model, "{}: unsupported dtype '{}'", where, descr);
  return t;
}

int64_t npy_element_count(const std::vector<int64_t>& shape, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d == 0) return 0;  // an empty array, whatever the other dimensions
  }
  for (int64_t d : shape) {
    if (n > limit / d) return -1;
    n *= d;
  }
  return n;
}

int64_t NpyArray::element_count() const { return npy_element_count(shape, INT64_MAX); }

std::string NpyArray::shape_string() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::vector<float> NpyArray::to_float32(const std::string& where) const {
  int64_t n = element_count();
  if (dtype.kind != 'f') {
    throw_error(ErrorCode::bad_model, "{}: expected a float array, found dtype {}", where, dtype.name());
  }
  if (n < 0 || data.size() != size_t(n) * size_t(dtype.item_size)) {
    throw_error(ErrorCode::internal, "{}: array data does not match its shape", where);
  }
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t* p = data.data();
  for (int64_t i = 0; i < n; ++i) {
    if (dtype.item_size == 4) {
      std::memcpy(&out[i], p + 4 * i, 4);
    } else if (dtype.item_size == 8) {
      double v;
      std::memcpy(&v, p + 8 * i, 8);
      out[i] = float(v);
    } else {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = f16_to_f32(h);
    }
  }
  return out;
}

int64_t NpyArray::scalar_int(const std::string& where) const {
  if (element_count() != 1 || !(dtype.kind == 'i' || dtype.kind == 'u' || dtype.kind == 'b')) {
    throw_error(ErrorCode::bad_model, "{}: expected one integer, found dtype {} of shape {}", where, dtype.name(),
                shape_string());
  }
  if (dtype.kind == 'i') {
    int64_t v = 0;
    switch (dtype.item_size) {
      case 1: { int8_t x; std::memcpy(&x, data.data(), 1); v = x; break; }
      case 2: { int16_t x; std::memcpy(&x, data.data(), 2); v = x; break; }
      case 4: { int32_t x; std::memcpy(&x, data.data(), 4); v = x; break; }
      default: std::memcpy(&v, data.data(), 8);
    }
    return v;
  }
  uint64_t v = 0;
  std::memcpy(&v, data.data(), size_t(dtype.item_size));  // little-endian: the low bytes come first
  if (v > uint64_t(INT64_MAX)) throw_error(ErrorCode::bad_model, "{}: integer {} is out of range", where, v);
  return int64_t(v);
}

}  // namespace lmac
