// A GGUF file on disk: memory-mapped read-only and parsed (model/gguf_format.hpp). Tensor data stays in the
// mapping in its stored type; pages load when first touched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/quant_dequantize.hpp"
#include "model/gguf_format.hpp"

namespace lmac {

class MappedFile;

class GgufFile {
 public:
  // Maps and parses PATH; throws lmac::Error (io, bad_model, unsupported) naming it.
  static std::shared_ptr<const GgufFile> open(const std::string& path);
  ~GgufFile();

  const GgufHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  ByteView bytes() const;

  // The tensor, checked: it exists and its ggml shape is `ne`; throws naming the tensor and the file.
  const GgufTensorInfo& require(const std::string& name, const std::vector<int64_t>& ne) const;

  // A weight stored with ggml shape [cols, rows] (rows of `cols` contiguous elements), as a matrix.
  QuantMatrix matrix(const std::string& name, int64_t rows, int64_t cols) const;

  // A 1-D tensor of `size` elements dequantized to float32 (norm scales; they are tiny).
  std::vector<float> vector_f32(const std::string& name, int64_t size) const;

 private:
  GgufFile() = default;
  std::string path_;
  std::unique_ptr<MappedFile> file_;
  GgufHeader header_;
};

}  // namespace lmac
