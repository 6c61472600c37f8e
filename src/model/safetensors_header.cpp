#include "model/safetensors_header.hpp"

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac {

size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2},    {"BF16", 2},   {"I64", 8},     {"I32", 4},       {"I16", 2},
      {"I8", 1},  {"U64", 8}, {"U32", 4},    {"U16", 2},    {"U8", 1},      {"BOOL", 1},      {"F8_E4M3", 1},
      {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"C64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

static uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

static SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& j, uint64_t data_start,
                                    uint64_t file_size, const std::string& file) {
  if (!j.is_object()) throw_error(ErrorCode::bad_model, "{}: tensor '{}': header entry is not a JSON object", file, name);
  SafetensorsEntry e;
  auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string())
    throw_error(ErrorCode::bad_model, "{}: tensor '{}': missing or non-string field 'dtype'", file, name);
  e.dtype = dtype->get<std::string>();
  size_t element_size = safetensors_dtype_size(e.dtype);
  if (element_size == 0) throw_error(ErrorCode::bad_model, "{}: tensor '{}': unknown dtype '{}'", file, name, e.dtype);

  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array())
    throw_error(ErrorCode::bad_model, "{}: tensor '{}': missing or non-array field 'shape'", file, name);
  // The element count is checked against the data size below; guard the product against overflow first.
  unsigned __int128 count = 1;
  for (const auto& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0)
      throw_error(ErrorCode::bad_model, "{}: tensor '{}': shape holds a value that is not a non-negative integer",
                  file, name);
    e.shape.push_back(d.get<int64_t>());
    count *= uint64_t(e.shape.back());
    if (count > (unsigned __int128)file_size)
      throw_error(ErrorCode::bad_model, "{}: tensor '{}': shape is larger than the file", file, name);
  }

  auto offsets = j.find("data_offsets");
  if (offsets == j.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    throw_error(ErrorCode::bad_model, "{}: tensor '{}': 'data_offsets' must be two non-negative integers", file,
                name);
  uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
  uint64_t data_size = file_size - data_start;
  if (begin > end)
    throw_error(ErrorCode::bad_model, "{}: tensor '{}': data_offsets [{}, {}] run backwards", file, name, begin, end);
  if (end > data_size)
    throw_error(ErrorCode::bad_model,
                "{}: tensor '{}': data ends at byte {} of the data section, but the file holds only {} bytes there "
                "(truncated file?)",
                file, name, end, data_size);
  if ((unsigned __int128)(end - begin) != count * element_size)
    throw_error(ErrorCode::bad_model, "{}: tensor '{}': {} bytes of data do not match shape x dtype {} ({} bytes)",
                file, name, end - begin, e.dtype, uint64_t(count * element_size));
  e.begin = data_start + begin;
  e.end = data_start + end;
  return e;
}

SafetensorsHeader parse_safetensors_header(ByteView file, const std::string& file_name) {
  if (file.size() < 8)
    throw_error(ErrorCode::bad_model, "{}: {} bytes is too short for a safetensors file (truncated?)", file_name,
                file.size());
  uint64_t header_length = read_le64(file.data());
  if (header_length > file.size() - 8)
    throw_error(ErrorCode::bad_model,
                "{}: header length {} is larger than the file ({} bytes): truncated or not a safetensors file",
                file_name, header_length, file.size());
  const char* text = reinterpret_cast<const char*>(file.data() + 8);
  nlohmann::json header = nlohmann::json::parse(text, text + header_length, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    throw_error(ErrorCode::bad_model, "{}: the safetensors header is not valid JSON", file_name);
  if (!header.is_object())
    throw_error(ErrorCode::bad_model, "{}: the safetensors header is not a JSON object", file_name);

  SafetensorsHeader result;
  result.data_start = 8 + header_length;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) result.metadata[m.key()] = m->get<std::string>();
      continue;
    }
    result.tensors.emplace(it.key(), parse_entry(it.key(), it.value(), result.data_start, file.size(), file_name));
  }
  return result;
}

}  // namespace lmac
