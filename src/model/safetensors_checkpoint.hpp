// A Hugging Face safetensors checkpoint on disk: `model.safetensors`, or shards listed by
// `model.safetensors.index.json`. Files are memory-mapped read-only and never read whole into RAM: a tensor
// is a pointer into the mapping, and pages load when the forward pass first touches them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/half_matmul.hpp"
#include "model/safetensors_header.hpp"

namespace lmac {

// A read-only mmap of a whole file. Move-only; unmaps on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  ByteView bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct TensorRef {
  std::string name;
  std::string file;             // file name inside the checkpoint directory, for messages
  std::string dtype;            // safetensors name: "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t size = 0;              // bytes
};

class SafetensorsCheckpoint {
 public:
  // Opens DIR/model.safetensors.index.json if present (every shard it names must exist), else
  // DIR/model.safetensors.
  static SafetensorsCheckpoint open(const std::string& dir);

  // nullptr when the checkpoint has no such tensor.
  const TensorRef* find(const std::string& name) const;

  // The tensor, checked: it exists, its shape is `shape`, and its dtype is F32, F16 or BF16.
  // Each failure names the tensor and the file.
  const TensorRef& require(const std::string& name, const std::vector<int64_t>& shape) const;

  // The same, as a [rows, cols] weight for the matmul kernels.
  WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) const;

  const std::map<std::string, TensorRef>& tensors() const { return tensors_; }
  const std::string& dir() const { return dir_; }
  // "model.safetensors" or "model.safetensors.index.json (2 shards)", for messages.
  const std::string& source() const { return source_; }

 private:
  std::string dir_;
  std::string source_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorRef> tensors_;
};

// F32 / F16 / BF16 as a WeightDType; throws naming the tensor and file for any other dtype.
WeightDType weight_dtype_of(const TensorRef& tensor);

}  // namespace lmac
