#include "model/safetensors_checkpoint.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac {

namespace fs = std::filesystem;

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_error(ErrorCode::io, "cannot open {}: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw_error(ErrorCode::io, "cannot stat {}: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw_error(ErrorCode::io, "{} is not a regular file", path);
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw_error(ErrorCode::io, "cannot map {}: {}", path, std::strerror(err));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file alive
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

static std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "cannot open {}", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Adds every tensor of one mapped file; `wanted` (from an index) limits which names are taken from it.
static void add_tensors(const MappedFile& file, const std::string& file_name, std::map<std::string, TensorRef>& out) {
  SafetensorsHeader header = parse_safetensors_header(file.bytes(), file_name);
  for (auto& [name, e] : header.tensors) {
    TensorRef t;
    t.name = name;
    t.file = file_name;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.data = file.bytes().data() + e.begin;
    t.size = size_t(e.end - e.begin);
    out[name] = std::move(t);
  }
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& dir) {
  SafetensorsCheckpoint ck;
  ck.dir_ = dir;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single_path = fs::path(dir) / "model.safetensors";

  if (fs::exists(index_path)) {
    const std::string index_name = "model.safetensors.index.json";
    nlohmann::json index = nlohmann::json::parse(read_text_file(index_path), nullptr, false);
    if (index.is_discarded() || !index.is_object())
      throw_error(ErrorCode::bad_model, "{}: not a valid JSON object", index_path.string());
    auto weight_map = index.find("weight_map");
    if (weight_map == index.end() || !weight_map->is_object())
      throw_error(ErrorCode::bad_model, "{}: missing object field 'weight_map'", index_path.string());
    std::map<std::string, std::set<std::string>> names_by_shard;
    for (auto it = weight_map->begin(); it != weight_map->end(); ++it) {
      if (!it->is_string())
        throw_error(ErrorCode::bad_model, "{}: weight_map['{}'] is not a file name", index_path.string(), it.key());
      std::string shard = it->get<std::string>();
      // Shards live beside the index: a path that climbs out of the directory is refused.
      if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
          shard == "." || shard == "..")
        throw_error(ErrorCode::bad_model, "{}: weight_map['{}'] names '{}', which is not a plain file name",
                    index_path.string(), it.key(), shard);
      names_by_shard[shard].insert(it.key());
    }
    for (auto& [shard, names] : names_by_shard) {
      const fs::path shard_path = fs::path(dir) / shard;
      if (!fs::exists(shard_path))
        throw_error(ErrorCode::bad_model, "{}: shard '{}' named in weight_map (e.g. for tensor '{}') does not exist",
                    index_path.string(), shard, *names.begin());
      ck.files_.push_back(std::make_unique<MappedFile>(shard_path.string()));
      std::map<std::string, TensorRef> shard_tensors;
      add_tensors(*ck.files_.back(), shard, shard_tensors);
      for (const auto& name : names) {
        auto t = shard_tensors.find(name);
        if (t == shard_tensors.end())
          throw_error(ErrorCode::bad_model, "{}: tensor '{}' is listed in {} but the shard does not contain it",
                      shard_path.string(), name, index_name);
        ck.tensors_[name] = t->second;
      }
    }
    ck.source_ = fmt::format("{} ({} shard{})", index_name, names_by_shard.size(),
                             names_by_shard.size() == 1 ? "" : "s");
  } else if (fs::exists(single_path)) {
    ck.files_.push_back(std::make_unique<MappedFile>(single_path.string()));
    add_tensors(*ck.files_.back(), "model.safetensors", ck.tensors_);
    ck.source_ = "model.safetensors";
  } else {
    std::string hint;
    if (fs::exists(fs::path(dir) / "pytorch_model.bin") || fs::exists(fs::path(dir) / "pytorch_model.bin.index.json"))
      hint = ": pytorch_model.bin is not read (it is a pickle); convert it to safetensors, e.g. with transformers' "
             "save_pretrained(..., safe_serialization=True)";
    throw_error(ErrorCode::bad_model, "{}: no model.safetensors or model.safetensors.index.json{}", dir, hint);
  }
  return ck;
}

const TensorRef* SafetensorsCheckpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

WeightDType weight_dtype_of(const TensorRef& t) {
  if (t.dtype == "F32") return WeightDType::f32;
  if (t.dtype == "F16") return WeightDType::f16;
  if (t.dtype == "BF16") return WeightDType::bf16;
  throw_error(ErrorCode::unsupported, "{}: tensor '{}' has dtype {}; lmac reads F32, F16 and BF16 weights", t.file,
              t.name, t.dtype);
}

const TensorRef& SafetensorsCheckpoint::require(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorRef* t = find(name);
  if (!t) throw_error(ErrorCode::bad_model, "{}: missing tensor '{}' (looked in {})", dir_, name, source_);
  if (t->shape != shape)
    throw_error(ErrorCode::bad_model, "{}: tensor '{}' has shape [{}], expected [{}] from config.json", t->file, name,
                fmt::join(t->shape, ", "), fmt::join(shape, ", "));
  weight_dtype_of(*t);
  return *t;
}

WeightMatrix SafetensorsCheckpoint::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  const TensorRef& t = require(name, {rows, cols});
  return WeightMatrix{t.data, weight_dtype_of(t), int(rows), int(cols)};
}

}  // namespace lmac
