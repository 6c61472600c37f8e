#include "model/npz_archive.hpp"

#include <zip.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "model/npy_file.hpp"
#include "model/pickle_reader.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};


}  // namespace

std::vector<ZipEntry> read_zip_entries(ByteView bytes, const std::string& file) {
  zip_error_t error;
  zip_error_init(&error);
  // libzip wants a non-const pointer but never writes through a read-only archive.
  zip_source_t* source = zip_source_buffer_create(const_cast<uint8_t*>(bytes.data()), bytes.size(), 0, &error);
  if (!source) throw_error(ErrorCode::internal, "{}: cannot read: {}", file, zip_error_strerror(&error));
  std::unique_ptr<zip_t, ArchiveCloser> archive(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    throw_error(ErrorCode::bad_model, "{}: not a valid .npz (zip) archive: {}", file, why);
  }
  zip_error_fini(&error);

  std::vector<ZipEntry> entries;
  zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE)) {
      throw_error(ErrorCode::bad_model, "{}: unreadable zip entry {}", file, i);
    }
    std::string name = st.name;
    if (!name.empty() && name.back() == '/') continue;  // a directory
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      throw_error(ErrorCode::bad_model, "{}: entry {} is encrypted", file, name);
    }
    // Never trust the declared size for allocation: deflate expands at most ~1032x, a stored entry not at all.
    uint64_t plausible = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size * 1100 + 65536 : bytes.size() * 1100 + 65536;
    if (st.size > plausible) {
      throw_error(ErrorCode::bad_model, "{}: entry {} claims {} bytes, more than its compressed size allows", file,
                  name, st.size);
    }
    std::unique_ptr<zip_file_t, FileCloser> f(zip_fopen_index(archive.get(), zip_uint64_t(i), 0));
    if (!f) {
      throw_error(ErrorCode::bad_model, "{}: cannot open entry {}: {}", file, name, zip_strerror(archive.get()));
    }
    ZipEntry e;
    e.name = name;
    e.data.resize(size_t(st.size));
    zip_uint64_t got = 0;
    while (got < st.size) {
      zip_int64_t n = zip_fread(f.get(), e.data.data() + got, st.size - got);
      if (n < 0) {
        throw_error(ErrorCode::bad_model, "{}: entry {} is corrupt: {}", file, name, zip_file_strerror(f.get()));
      }
      if (n == 0) break;
      got += zip_uint64_t(n);
    }
    if (got != st.size) {
      throw_error(ErrorCode::bad_model, "{}: entry {} is truncated ({} of {} bytes)", file, name, got, st.size);
    }
    // Reading past the end makes libzip verify the CRC of what it inflated.
    uint8_t extra;
    if (zip_fread(f.get(), &extra, 1) != 0) {
      throw_error(ErrorCode::bad_model, "{}: entry {} is corrupt: {}", file, name, zip_file_strerror(f.get()));
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

std::map<std::string, NpyArray> read_npz_params(ByteView zip, const std::string& file) {
  std::map<std::string, NpyArray> params;
  auto add = [&](const std::string& key, NpyArray a, const std::string& where) {
    if (!params.emplace(key, std::move(a)).second) {
      throw_error(ErrorCode::bad_model, "{}: parameter {} appears twice", where, key);
    }
  };
  for (ZipEntry& e : read_zip_entries(zip, file)) {
    if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0) continue;  // not an array
    std::string key = e.name.substr(0, e.name.size() - 4);
    std::string where = file + ":" + e.name;
    NpyContents c = parse_npy(e.data, where);
    if (c.is_object) {
      if (!c.shape.empty()) {
        throw_error(ErrorCode::bad_model, "{}: expected a 0-d object array (a pickled dict), found {} dimensions",
                    where, c.shape.size());
      }
      for (auto& [param, array] : unpickle_param_dict(c.pickle, where)) add(key + "/" + param, std::move(array), where);
    } else {
      add(key, std::move(c.array), where);
    }
  }
  return params;
}

std::map<std::string, NpyArray> read_npz_params_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::io, "cannot open {}: {}", path, std::strerror(errno));
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw_error(ErrorCode::io, "cannot read {}: {}", path, std::strerror(errno));
  return read_npz_params(data, path);
}

}  // namespace lmac
