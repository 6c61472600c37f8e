#include "model/gguf_file.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/safetensors_checkpoint.hpp"
#include "util/error.hpp"

namespace lmac {

GgufFile::~GgufFile() = default;

std::shared_ptr<const GgufFile> GgufFile::open(const std::string& path) {
  std::shared_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->file_ = std::make_unique<MappedFile>(path);
  f->header_ = parse_gguf(f->file_->bytes(), path);
  return f;
}

ByteView GgufFile::bytes() const { return file_->bytes(); }

const GgufTensorInfo& GgufFile::require(const std::string& name, const std::vector<int64_t>& ne) const {
  const GgufTensorInfo* t = header_.find_tensor(name);
  if (!t) throw_error(ErrorCode::bad_model, "{}: tensor {} is missing", path_, name);
  if (t->ne != ne)
    throw_error(ErrorCode::bad_model, "{}: tensor {} has shape [{}], expected [{}] (ggml order)", path_, name,
                fmt::join(t->ne, ", "), fmt::join(ne, ", "));
  if (!ggml_traits(t->type).dequantizable)
    throw_error(ErrorCode::unsupported, "{}: tensor {} has type {}, which lmac cannot dequantize (supported: {})",
                path_, name, ggml_type_name(t->type), ggml_dequantizable_type_list());
  return *t;
}

QuantMatrix GgufFile::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  const GgufTensorInfo& t = require(name, {cols, rows});
  return QuantMatrix{t.data, t.type, rows, cols};
}

std::vector<float> GgufFile::vector_f32(const std::string& name, int64_t size) const {
  const GgufTensorInfo& t = require(name, {size});
  std::vector<float> out(static_cast<size_t>(size));
  dequantize_row(t.type, t.data, out.data(), size);
  return out;
}

}  // namespace lmac
