#include "model/gguf_format.hpp"

#include <cstring>

#include "util/error.hpp"

namespace lmac {

namespace {

// ggml's limits: tensors have at most 4 dimensions; metadata arrays nest only a few levels in practice, and the
// limit keeps a hostile file from exhausting the stack.
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;
// The smallest encoding of each item, for checking counts against the bytes that remain before allocating.
constexpr uint64_t kMinKvBytes = 8 + 4;          // empty key + value type (+ the value, at least 1 byte)
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset

// A cursor over the input that never reads past its end.
class Reader {
 public:
  Reader(ByteView bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const std::string& file() const { return file_; }

  const uint8_t* take(uint64_t n, const std::string& what) {
    if (n > remaining())
      throw_error(ErrorCode::bad_model, "{}: truncated GGUF file: {} needs {} bytes at offset {}, but the file has {}",
                  file_, what, n, pos_, bytes_.size());
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T read(const std::string& what) {
    T v;
    std::memcpy(&v, take(sizeof v, what), sizeof v);  // GGUF is little-endian, as is every host lmac builds on
    return v;
  }
  std::string read_string(const std::string& what) {
    const uint64_t n = read<uint64_t>(what + " length");
    if (n > remaining())
      throw_error(ErrorCode::bad_model, "{}: {} has length {} at offset {}, past the end of the file ({} bytes)",
                  file_, what, n, pos_ - 8, bytes_.size());
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), size_t(n));
  }
  // A count of items each at least `min_bytes` long: refused before anything is allocated for them.
  uint64_t read_count(const std::string& what, uint64_t min_bytes) {
    const uint64_t n = read<uint64_t>(what);
    if (min_bytes > 0 && n > remaining() / min_bytes)
      throw_error(ErrorCode::bad_model,
                  "{}: {} is {}, more than the {} bytes left in the file could hold (a truncated or corrupt file)",
                  file_, what, n, remaining());
    return n;
  }

 private:
  ByteView bytes_;
  const std::string& file_;
  uint64_t pos_ = 0;
};

bool valid_value_type(uint32_t t) { return t <= uint32_t(GgufValueType::f64); }

// Bytes of a scalar of this type; 0 for string and array.
uint64_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::u8: case GgufValueType::i8: case GgufValueType::boolean: return 1;
    case GgufValueType::u16: case GgufValueType::i16: return 2;
    case GgufValueType::u32: case GgufValueType::i32: case GgufValueType::f32: return 4;
    case GgufValueType::u64: case GgufValueType::i64: case GgufValueType::f64: return 8;
    default: return 0;
  }
}

GgufValue read_value(Reader& in, GgufValueType type, const std::string& what, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufValueType::u8: v.unsigned_integer = in.read<uint8_t>(what); v.integer = int64_t(v.unsigned_integer); break;
    case GgufValueType::i8: v.integer = in.read<int8_t>(what); break;
    case GgufValueType::u16: v.unsigned_integer = in.read<uint16_t>(what); v.integer = int64_t(v.unsigned_integer); break;
    case GgufValueType::i16: v.integer = in.read<int16_t>(what); break;
    case GgufValueType::u32: v.unsigned_integer = in.read<uint32_t>(what); v.integer = int64_t(v.unsigned_integer); break;
    case GgufValueType::i32: v.integer = in.read<int32_t>(what); break;
    case GgufValueType::u64: v.unsigned_integer = in.read<uint64_t>(what); v.integer = int64_t(v.unsigned_integer); break;
    case GgufValueType::i64: v.integer = in.read<int64_t>(what); break;
    case GgufValueType::f32: v.real = in.read<float>(what); break;
    case GgufValueType::f64: v.real = in.read<double>(what); break;
    case GgufValueType::boolean: {
      const uint8_t b = in.read<uint8_t>(what);
      if (b > 1) throw_error(ErrorCode::bad_model, "{}: {} is a bool with byte value {}", in.file(), what, b);
      v.integer = b;
      v.unsigned_integer = b;
      break;
    }
    case GgufValueType::string: v.string = in.read_string(what); break;
    case GgufValueType::array: {
      if (depth >= kMaxArrayDepth)
        throw_error(ErrorCode::bad_model, "{}: {} nests arrays more than {} deep", in.file(), what, kMaxArrayDepth);
      const uint32_t et = in.read<uint32_t>(what + " element type");
      if (!valid_value_type(et))
        throw_error(ErrorCode::bad_model, "{}: {} has unknown element type {}", in.file(), what, et);
      v.element_type = GgufValueType(et);
      const uint64_t size = scalar_size(v.element_type);
      const uint64_t min_bytes = v.element_type == GgufValueType::string  ? 8
                                 : v.element_type == GgufValueType::array ? 12
                                                                          : size;
      v.count = in.read_count(what + " element count", min_bytes);
      if (v.element_type == GgufValueType::string) {
        v.strings.reserve(size_t(v.count));
        for (uint64_t i = 0; i < v.count; ++i) v.strings.push_back(in.read_string(what + "[" + std::to_string(i) + "]"));
      } else if (v.element_type == GgufValueType::array) {
        v.arrays.reserve(size_t(v.count));
        for (uint64_t i = 0; i < v.count; ++i)
          v.arrays.push_back(read_value(in, GgufValueType::array, what + "[" + std::to_string(i) + "]", depth + 1));
      } else {
        const uint8_t* p = in.take(v.count * size, what);  // count * size <= remaining: checked by read_count
        v.numbers.assign(p, p + v.count * size);
        if (v.element_type == GgufValueType::boolean)
          for (uint64_t i = 0; i < v.count; ++i)
            if (p[i] > 1)
              throw_error(ErrorCode::bad_model, "{}: {}[{}] is a bool with byte value {}", in.file(), what, i, p[i]);
      }
      break;
    }
  }
  return v;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::u8: return "uint8";
    case GgufValueType::i8: return "int8";
    case GgufValueType::u16: return "uint16";
    case GgufValueType::i16: return "int16";
    case GgufValueType::u32: return "uint32";
    case GgufValueType::i32: return "int32";
    case GgufValueType::f32: return "float32";
    case GgufValueType::boolean: return "bool";
    case GgufValueType::string: return "string";
    case GgufValueType::array: return "array";
    case GgufValueType::u64: return "uint64";
    case GgufValueType::i64: return "int64";
    case GgufValueType::f64: return "float64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  return scalar_size(type) > 0 && !is_float() && type != GgufValueType::boolean;
}

std::string GgufValue::type_name() const {
  if (type != GgufValueType::array) return gguf_value_type_name(type);
  return std::string("array of ") + gguf_value_type_name(element_type);
}

int64_t GgufValue::integer_at(uint64_t i) const {
  const uint8_t* p = numbers.data() + i * scalar_size(element_type);
  auto get = [&](auto v) {
    std::memcpy(&v, p, sizeof v);
    return int64_t(v);
  };
  switch (element_type) {
    case GgufValueType::u8: case GgufValueType::boolean: return get(uint8_t());
    case GgufValueType::i8: return get(int8_t());
    case GgufValueType::u16: return get(uint16_t());
    case GgufValueType::i16: return get(int16_t());
    case GgufValueType::u32: return get(uint32_t());
    case GgufValueType::i32: return get(int32_t());
    case GgufValueType::u64: return get(uint64_t());
    case GgufValueType::i64: return get(int64_t());
    default: break;
  }
  throw_error(ErrorCode::internal, "GgufValue::integer_at on an {}", type_name());
}

double GgufValue::real_at(uint64_t i) const {
  const uint8_t* p = numbers.data() + i * scalar_size(element_type);
  if (element_type == GgufValueType::f32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  if (element_type == GgufValueType::f64) {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  throw_error(ErrorCode::internal, "GgufValue::real_at on an {}", type_name());
}

int64_t GgufTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // checked against overflow when parsed
  return n;
}

GgufHeader parse_gguf(ByteView bytes, const std::string& file) {
  GgufHeader h;
  h.file = file;
  Reader in(bytes, file);

  if (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0) {
    std::string seen;
    for (size_t i = 0; i < std::min<size_t>(4, bytes.size()); ++i) seen += fmt::format("{:02x}", bytes[i]);
    throw_error(ErrorCode::bad_model, "{}: not a GGUF file: the magic is '{}' (hex), expected 'GGUF' (47475546)",
                file, seen.empty() ? "<empty>" : seen);
  }
  in.take(4, "magic");
  h.version = in.read<uint32_t>("version");
  if (h.version != 2 && h.version != 3) {
    if (h.version == 1)
      throw_error(ErrorCode::unsupported, "{}: GGUF version 1 is not supported (only versions 2 and 3); convert the "
                  "file again with a current llama.cpp", file);
    if ((h.version & 0xFFFF) == 0 && h.version != 0)
      throw_error(ErrorCode::unsupported, "{}: big-endian GGUF (version field {:#010x}) is not supported", file,
                  h.version);
    throw_error(ErrorCode::unsupported, "{}: GGUF version {} is not supported (only versions 2 and 3)", file,
                h.version);
  }
  const uint64_t tensor_count = in.read_count("tensor count", kMinTensorInfoBytes);
  const uint64_t kv_count = in.read_count("metadata key/value count", kMinKvBytes + 1);

  for (uint64_t i = 0; i < kv_count; ++i) {
    const std::string what = fmt::format("metadata entry {}", i);
    std::string key = in.read_string(what + " key");
    const uint32_t type = in.read<uint32_t>(fmt::format("metadata {} value type", key));
    if (!valid_value_type(type))
      throw_error(ErrorCode::bad_model, "{}: metadata {} has unknown value type {}", file, key, type);
    GgufValue value = read_value(in, GgufValueType(type), "metadata " + key, 0);
    if (h.metadata.count(key)) throw_error(ErrorCode::bad_model, "{}: metadata key {} appears twice", file, key);
    h.keys.push_back(key);
    h.metadata.emplace(std::move(key), std::move(value));
  }

  if (const GgufValue* a = h.find("general.alignment")) {
    if (a->type != GgufValueType::u32)
      throw_error(ErrorCode::bad_model, "{}: metadata general.alignment has type {}, expected uint32", file,
                  a->type_name());
    if (a->unsigned_integer == 0 || (a->unsigned_integer & (a->unsigned_integer - 1)) != 0)
      throw_error(ErrorCode::bad_model, "{}: general.alignment is {}, not a power of two", file, a->unsigned_integer);
    h.alignment = a->unsigned_integer;
  }

  h.tensors.reserve(size_t(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    t.name = in.read_string(fmt::format("tensor info {} name", i));
    const std::string what = "tensor " + t.name;
    const uint32_t n_dims = in.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      throw_error(ErrorCode::bad_model, "{}: {} has {} dimensions (1 to {} allowed)", file, what, n_dims, kMaxDims);
    int64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = in.read<uint64_t>(what + " shape");
      if (ne == 0 || ne > uint64_t(INT64_MAX) || uint64_t(elements) > uint64_t(INT64_MAX) / ne)
        throw_error(ErrorCode::bad_model, "{}: {} has dimension {} of size {}, which is zero or overflows", file, what,
                    d, ne);
      elements *= int64_t(ne);
      t.ne.push_back(int64_t(ne));
    }
    const uint32_t type = in.read<uint32_t>(what + " type");
    const GgmlTypeTraits* traits = ggml_type_traits(type);
    if (!traits) throw_error(ErrorCode::bad_model, "{}: {} has unknown tensor type {}", file, what, type);
    t.type = GgmlType(type);
    if (t.ne[0] % traits->block_size != 0)
      throw_error(ErrorCode::bad_model, "{}: {} of type {} has rows of {} elements, not a multiple of its block size {}",
                  file, what, traits->name, t.ne[0], traits->block_size);
    // elements / block_size * type_size cannot overflow: elements < 2^63 and type_size / block_size <= 8.
    t.size = uint64_t(elements / traits->block_size) * uint64_t(traits->type_size);
    t.offset = in.read<uint64_t>(what + " offset");
    if (t.offset % h.alignment != 0)
      throw_error(ErrorCode::bad_model, "{}: {} has data offset {}, not a multiple of the alignment {}", file, what,
                  t.offset, h.alignment);
    if (h.tensor_index.count(t.name)) throw_error(ErrorCode::bad_model, "{}: tensor {} appears twice", file, t.name);
    h.tensor_index.emplace(t.name, h.tensors.size());
    h.tensors.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = in.pos();
  h.data_offset = end_of_infos + (h.alignment - end_of_infos % h.alignment) % h.alignment;
  if (!h.tensors.empty() && h.data_offset > bytes.size())
    throw_error(ErrorCode::bad_model, "{}: truncated GGUF file: tensor data would start at offset {}, but the file has "
                "{} bytes", file, h.data_offset, bytes.size());
  const uint64_t data_size = h.tensors.empty() ? 0 : bytes.size() - h.data_offset;
  for (GgufTensorInfo& t : h.tensors) {
    if (t.offset > data_size || t.size > data_size - t.offset)
      throw_error(ErrorCode::bad_model, "{}: tensor {} ({} bytes at data offset {}) runs past the end of the file "
                  "(the data section holds {} bytes)", file, t.name, t.size, t.offset, data_size);
    t.data = bytes.data() + h.data_offset + t.offset;
  }
  return h;
}

// --- typed metadata reads ---

const GgufValue* GgufHeader::find(const std::string& key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufHeader::find_tensor(const std::string& name) const {
  auto it = tensor_index.find(name);
  return it == tensor_index.end() ? nullptr : &tensors[it->second];
}

std::optional<int64_t> GgufHeader::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer())
    throw_error(ErrorCode::bad_model, "{}: metadata {} has type {}, expected an integer", file, key, v->type_name());
  if (v->type == GgufValueType::u64 && v->unsigned_integer > uint64_t(INT64_MAX))
    throw_error(ErrorCode::bad_model, "{}: metadata {} is {}, out of range", file, key, v->unsigned_integer);
  return v->integer;
}

int64_t GgufHeader::require_int(const std::string& key) const {
  auto v = get_int(key);
  if (!v) throw_error(ErrorCode::bad_model, "{}: metadata {} is missing", file, key);
  return *v;
}

std::optional<double> GgufHeader::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_float())
    throw_error(ErrorCode::bad_model, "{}: metadata {} has type {}, expected float32", file, key, v->type_name());
  return v->real;
}

double GgufHeader::require_float(const std::string& key) const {
  auto v = get_float(key);
  if (!v) throw_error(ErrorCode::bad_model, "{}: metadata {} is missing", file, key);
  return *v;
}

std::optional<std::string> GgufHeader::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::string)
    throw_error(ErrorCode::bad_model, "{}: metadata {} has type {}, expected string", file, key, v->type_name());
  return v->string;
}

std::string GgufHeader::require_string(const std::string& key) const {
  auto v = get_string(key);
  if (!v) throw_error(ErrorCode::bad_model, "{}: metadata {} is missing", file, key);
  return *v;
}

std::optional<bool> GgufHeader::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::boolean)
    throw_error(ErrorCode::bad_model, "{}: metadata {} has type {}, expected bool", file, key, v->type_name());
  return v->integer != 0;
}

const std::vector<std::string>& GgufHeader::require_string_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw_error(ErrorCode::bad_model, "{}: metadata {} is missing", file, key);
  if (v->type != GgufValueType::array || v->element_type != GgufValueType::string)
    throw_error(ErrorCode::bad_model, "{}: metadata {} has type {}, expected array of string", file, key,
                v->type_name());
  return v->strings;
}

}  // namespace lmac
