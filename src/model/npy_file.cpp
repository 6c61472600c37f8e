#include "model/npy_file.hpp"

#include <cstring>

#include "util/error.hpp"

namespace lmac {
namespace {

// A tiny reader for the header, which NumPy writes as a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (256, 64), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') { ++i_; break; }
      std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') fail("'descr' is not a plain dtype string (structured dtypes are not supported)");
        h.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = parse_shape();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') { ++i_; continue; }
      skip_space();
      if (peek() == '}') { ++i_; break; }
      fail("expected ',' or '}'");
    }
    skip_space();
    if (i_ != s_.size()) fail("trailing characters after the dict");
    if (!have_descr || !have_order || !have_shape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw_error(ErrorCode::bad_model, "{}: malformed .npy header ({} at character {})", where_, what, i_);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string parse_string() {
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++i_;
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') fail("escapes in header strings are not supported");
      ++i_;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    std::string out(s_.substr(start, i_ - start));
    ++i_;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") { i_ += 4; return true; }
    if (s_.substr(i_, 5) == "False") { i_ += 5; return false; }
    fail("expected True or False");
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(');
    for (;;) {
      skip_space();
      if (peek() == ')') { ++i_; break; }
      if (peek() < '0' || peek() > '9') fail("expected a dimension");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (INT64_MAX - 9) / 10) fail("dimension too large");
        v = v * 10 + (peek() - '0');
        ++i_;
      }
      if (peek() == 'L') ++i_;  // Python 2 longs
      shape.push_back(v);
      if (shape.size() > 32) fail("more than 32 dimensions");
      skip_space();
      if (peek() == ',') { ++i_; continue; }
      skip_space();
      if (peek() == ')') { ++i_; break; }
      fail("expected ',' or ')'");
    }
    return shape;
  }

  std::string_view s_;
  const std::string& where_;
  size_t i_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(ByteView file, const std::string& where) {
  static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (file.size() < 10 || std::memcmp(file.data(), magic, 6) != 0) {
    throw_error(ErrorCode::bad_model, "{}: not a .npy array (bad magic)", where);
  }
  int major = file[6];
  size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = size_t(file[8]) | size_t(file[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12) throw_error(ErrorCode::bad_model, "{}: truncated .npy header", where);
    header_len = size_t(file[8]) | size_t(file[9]) << 8 | size_t(file[10]) << 16 | size_t(file[11]) << 24;
    prefix = 12;
  } else {
    throw_error(ErrorCode::bad_model, "{}: unsupported .npy format version {}.{}", where, major, int(file[7]));
  }
  if (header_len > file.size() - prefix) {
    throw_error(ErrorCode::bad_model, "{}: truncated .npy header ({} bytes promised, {} present)", where, header_len,
                file.size() - prefix);
  }
  std::string_view text(reinterpret_cast<const char*>(file.data() + prefix), header_len);
  for (char c : text) {
    // Version 3 allows UTF-8, but a valid header of the kinds lmac reads is plain ASCII.
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
      throw_error(ErrorCode::bad_model, "{}: malformed .npy header (non-ASCII byte)", where);
    }
  }
  NpyHeader h = HeaderParser(text, where).parse();
  h.data_offset = prefix + header_len;
  return h;
}

NpyContents parse_npy(ByteView file, const std::string& where) {
  NpyHeader h = parse_npy_header(file, where);
  if (h.fortran_order) {
    throw_error(ErrorCode::bad_model, "{}: Fortran-order arrays are not supported (save with C order)", where);
  }
  NpyContents out;
  out.shape = h.shape;
  NpyDType dtype = parse_npy_descr(h.descr, where);
  ByteView body = file.subspan(h.data_offset);
  if (dtype.kind == 'O') {
    out.is_object = true;
    out.pickle = body;
    return out;
  }
  int64_t limit = int64_t(body.size() / size_t(dtype.item_size)) + 1;
  int64_t n = npy_element_count(h.shape, limit);
  if (n < 0 || body.size() < size_t(n) * size_t(dtype.item_size)) {
    throw_error(ErrorCode::bad_model, "{}: truncated array data (shape needs more than the {} bytes present)", where,
                body.size());
  }
  size_t need = size_t(n) * size_t(dtype.item_size);
  if (body.size() != need) {
    throw_error(ErrorCode::bad_model, "{}: {} unexpected bytes after the array data", where, body.size() - need);
  }
  out.array.dtype = dtype;
  out.array.shape = h.shape;
  out.array.data.assign(body.begin(), body.end());
  return out;
}

}  // namespace lmac
