// The restricted unpickler: what NumPy and JAX write is read; everything else is refused without running anything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "model/npz_archive.hpp"
#include "model/pickle_reader.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;  // "..."s keeps embedded NUL bytes

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string error_of(const Bytes& pickle) {
  try {
    unpickle_param_dict(pickle, "m.npz:e.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A protocol-2 pickle of a 0-d object array holding {'w': float32 array [2]}, written the NumPy 1 way (GLOBAL
// opcodes, BINPUT/BINGET), by hand.
std::string object_array_pickle(const std::string& inner_data) {
  std::string p = "\x80\x02"s;
  p += "cnumpy.core.multiarray\n_reconstruct\nq\x00"s;
  p += "cnumpy\nndarray\nq\x01"s;
  p += "K\x00\x85q\x02" "C\x01" "b" "\x87R"s;                     // _reconstruct(ndarray, (0,), b'b')
  p += "(K\x01)cnumpy\ndtype\nq\x03X\x02\x00\x00\x00O8\x89\x88\x87Rq\x04(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xff"
       "J\xff\xff\xff\xffK?tb"s;                                     // dtype('O8') with its state
  p += "\x89]}X\x01\x00\x00\x00w"s;                                 // fortran False, [ { 'w':
  p += "h\x00h\x01K\x00\x85" "C\x01" "b" "\x87R"s;                     //   _reconstruct(ndarray, (0,), b'b')
  p += "(K\x01K\x02\x85h\x03X\x02\x00\x00\x00" "f4\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xff"
       "J\xff\xff\xff\xffK\x00tb\x89"s;
  p += inner_data;
  p += "tbsatb."s;                                                   // } ] ) BUILD STOP
  return p;
}

TEST(Pickle, ReadsHandWrittenNumpy1Pickle) {
  std::string data = "C\x08"s + "\x00\x00\x80?\x00\x00\x00\xc0"s;
  auto d = unpickle_param_dict(bytes(object_array_pickle(data)), "m.npz:e.npy"s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.at("w"s).shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(d.at("w"s).to_float32("w"s), (std::vector<float>{1.0f, -2.0f}));
}

TEST(Pickle, DataThatDoesNotMatchTheShape) {
  std::string data = "C\x04"s + "\x00\x00\x80?"s;
  EXPECT_THAT(error_of(bytes(object_array_pickle(data))),
              HasSubstr("m.npz:e.npy: array data of 4 bytes does not match its shape and dtype f4"s));
}

TEST(Pickle, ForbiddenGlobalWithGlobalOpcode) {
  // os.system('echo pwned'): refused when the global is named, before anything could be called.
  Bytes evil = bytes(("\x80\x02" "cos\nsystem\nq\x00X\x0a\x00\x00\x00" "echo pwnedq\x01\x85q\x02R."s));
  EXPECT_THAT(error_of(evil), HasSubstr("forbidden pickle global os.system in m.npz:e.npy"s));
}

TEST(Pickle, ForbiddenGlobalWithStackGlobal) {
  Bytes evil = bytes(("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93\x8c\x01" "1\x85R."s));
  EXPECT_THAT(error_of(evil), HasSubstr("forbidden pickle global builtins.eval in m.npz:e.npy"s));
}

TEST(Pickle, NearMissNamesAreRefused) {
  Bytes evil = bytes(("\x80\x02" "cnumpy.core.multiarray\nscalar\n."s));
  EXPECT_THAT(error_of(evil), HasSubstr("forbidden pickle global numpy.core.multiarray.scalar"s));
}

TEST(Pickle, MalformedStreams) {
  EXPECT_THAT(error_of(bytes(""s)), HasSubstr("m.npz:e.npy: truncated pickle"s));
  EXPECT_THAT(error_of(bytes("\x80\x02X\xff\xff\xff\x7f" "abc"s)), HasSubstr("truncated pickle (2147483647 bytes needed"s));
  EXPECT_THAT(error_of(bytes("\x80\x02h\x05."s)), HasSubstr("memo entry 5 is not defined"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "a."s)), HasSubstr("stack underflow"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "t."s)), HasSubstr("no MARK on the stack"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "K\x00K\x01K\x02s."s)), HasSubstr("SETITEM on a int"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "K\x01)R."s)), HasSubstr("REDUCE calls a int"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "I1\n."s)), HasSubstr("unsupported pickle opcode 0x49"s));
  EXPECT_THAT(error_of(bytes("\x80\x09."s)), HasSubstr("unsupported pickle protocol 9"s));
  EXPECT_THAT(error_of(bytes("\x80\x02}."s)), HasSubstr("expected a pickled 0-d object array"s));
  EXPECT_THAT(error_of(bytes("\x80\x02" "cnumpy\nndarray\n)R."s)), HasSubstr("REDUCE calls numpy.ndarray directly"s));
}

TEST(Pickle, LoaderNamesTheFileAndEntry) {
  const std::string path = std::string(LMAC_TEST_DATA_DIR) + "/framework/bad_forbidden_global.npz";
  try {
    read_npz_params_file(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("forbidden pickle global os.system in " + path + ":embed.npy"));
  }
}

}  // namespace
}  // namespace lmac
