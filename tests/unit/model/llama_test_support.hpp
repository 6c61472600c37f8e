// Helpers shared by the Llama / safetensors / config / tokenizer tests: fixture paths, a scratch copy of a fixture
// directory to damage, and a reader for the float32 .npy files tools/make_llama_fixtures.py writes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace lmac::llama_test {

namespace fs = std::filesystem;

inline fs::path data_dir() { return fs::path(LMAC_TEST_DATA_DIR) / "llama"; }

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

inline nlohmann::json expected() { return nlohmann::json::parse(read_text(data_dir() / "expected.json")); }

// A fresh directory under the system temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("lmac-llama-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// A writable copy of fixture model `name` (e.g. "tiny-llama3") inside `scratch`.
inline fs::path copy_fixture(const ScratchDir& scratch, const std::string& name) {
  fs::path dst = scratch.path() / name;
  fs::copy(data_dir() / name, dst, fs::copy_options::recursive);
  for (auto& e : fs::directory_iterator(dst)) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  return dst;
}

inline void edit_json(const fs::path& p, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(read_text(p));
  edit(j);
  write_text(p, j.dump(2));
}

// The message of the lmac::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const lmac::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> f32;     // for '<f4'
  std::vector<uint8_t> u8;    // for '|u1'
};

// Minimal .npy (version 1) reader for C-order '<f4' and '|u1' arrays.
inline NpyArray read_npy(const fs::path& p) {
  std::string bytes = read_text(p);
  EXPECT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  size_t header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
  std::string header = bytes.substr(10, header_len);
  NpyArray a;
  EXPECT_EQ(header.find("'fortran_order': True"), std::string::npos);
  size_t lp = header.find("'shape': (") + 10, rp = header.find(')', lp);
  std::stringstream dims(header.substr(lp, rp - lp));
  std::string d;
  size_t count = 1;
  while (std::getline(dims, d, ','))
    if (d.find_first_not_of(' ') != std::string::npos) {
      a.shape.push_back(std::stoll(d));
      count *= size_t(a.shape.back());
    }
  const char* data = bytes.data() + 10 + header_len;
  if (header.find("'<f4'") != std::string::npos) {
    a.f32.resize(count);
    std::memcpy(a.f32.data(), data, count * 4);
  } else if (header.find("'|u1'") != std::string::npos) {
    a.u8.assign(data, data + count);
  } else {
    ADD_FAILURE() << "unsupported npy dtype in " << p << ": " << header;
  }
  return a;
}

}  // namespace lmac::llama_test
