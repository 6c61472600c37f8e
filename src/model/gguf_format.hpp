// GGUF, llama.cpp's checkpoint format (versions 2 and 3, little-endian), parsed from a byte span:
//
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x   { string key | u32 value_type | value }
//   tensor_count x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to general.alignment (default 32) | tensor data (each offset relative to here, aligned)
//
// A string is u64 length + bytes; an array is u32 element type + u64 count + elements. Every length, count and
// offset is checked against the bytes that remain, so a damaged file ends in one lmac::Error (bad_model) naming
// the file and the field, never in a read past the end or an absurd allocation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/quant_types.hpp"
#include "util/bytes.hpp"

namespace lmac {

enum class GgufValueType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9,
  u64 = 10, i64 = 11, f64 = 12,
};

// "uint32", "string", "array of string", ... for messages.
const char* gguf_value_type_name(GgufValueType type);

struct GgufValue {
  GgufValueType type = GgufValueType::u8;
  // Scalars: integers and booleans in `integer` (signed types sign-extended), floats in `real`.
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;  // the same integer for unsigned types (u64 may exceed int64)
  double real = 0;
  std::string string;
  // Arrays: the element type and count, and the elements kept compactly (a file of 100 MB must not become gigabytes
  // of values): numbers and bools as their raw little-endian bytes, strings as strings, nested arrays as values.
  GgufValueType element_type = GgufValueType::u8;
  uint64_t count = 0;
  Bytes numbers;                     // count * element size bytes, for number and bool elements
  std::vector<std::string> strings;  // for string elements
  std::vector<GgufValue> arrays;     // for array elements

  bool is_integer() const;  // any of the eight integer types
  bool is_float() const { return type == GgufValueType::f32 || type == GgufValueType::f64; }
  std::string type_name() const;  // "uint32" or "array of string"
  // Element i of an array of integers (or bools) / of floats; i < count.
  int64_t integer_at(uint64_t i) const;
  double real_at(uint64_t i) const;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;   // ggml order: ne[0] is the contiguous dimension (a row), then rows, ...
  GgmlType type = GgmlType::f32;
  uint64_t offset = 0;       // from the start of the data section
  uint64_t size = 0;         // bytes
  const uint8_t* data = nullptr;  // into the parsed span

  int64_t elements() const;
};

struct GgufHeader {
  std::string file;          // for messages
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // from the start of the file
  std::vector<std::string> keys;              // in file order
  std::map<std::string, GgufValue> metadata;
  std::vector<GgufTensorInfo> tensors;        // in file order
  std::map<std::string, size_t> tensor_index; // name -> index into tensors

  const GgufValue* find(const std::string& key) const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;

  // Typed reads; each failure names the file and the key. Integer reads accept any integer type whose value
  // fits; float reads accept f32 and f64; nothing else is converted.
  std::optional<int64_t> get_int(const std::string& key) const;
  int64_t require_int(const std::string& key) const;
  std::optional<double> get_float(const std::string& key) const;
  double require_float(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  std::string require_string(const std::string& key) const;
  std::optional<bool> get_bool(const std::string& key) const;
  // An array whose elements are strings.
  const std::vector<std::string>& require_string_array(const std::string& key) const;
};

// Parses a whole GGUF file held in `bytes` (a memory map, or the fuzzer's input). Tensor data is located and
// bounds-checked but not read; GgufTensorInfo::data points into `bytes`. `file` names the input in messages.
GgufHeader parse_gguf(ByteView bytes, const std::string& file);

}  // namespace lmac
