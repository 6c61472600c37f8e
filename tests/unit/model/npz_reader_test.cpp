// The .npy parser and the .npz reader: both checkpoint forms, and a precise error for each malformed input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "model/npy_file.hpp"
#include "model/npz_archive.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using ::testing::HasSubstr;

const std::string kDir = std::string(LMAC_TEST_DATA_DIR) + "/framework/";

Bytes npy(int major, const std::string& dict, const Bytes& body) {
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  size_t len = dict.size();
  out.push_back(uint8_t(len));
  out.push_back(uint8_t(len >> 8));
  if (major >= 2) {
    out.push_back(uint8_t(len >> 16));
    out.push_back(uint8_t(len >> 24));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes floats(std::initializer_list<float> v) {
  Bytes b(v.size() * 4);
  std::memcpy(b.data(), std::data(v), b.size());
  return b;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Npy, ParsesVersions1To3) {
  for (int major : {1, 2, 3}) {
    Bytes file = npy(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }\n", floats({1.5f, -2}));
    NpyContents c = parse_npy(file, "x.npz:a.npy");
    ASSERT_FALSE(c.is_object);
    EXPECT_EQ(c.array.shape, (std::vector<int64_t>{2, 1}));
    std::vector<float> v = c.array.to_float32("x");
    EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f}));
  }
}

TEST(Npy, WidensF8AndF2) {
  double d[2] = {0.25, -3.0};
  Bytes body(16);
  std::memcpy(body.data(), d, 16);
  NpyContents c = parse_npy(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", body), "w");
  EXPECT_EQ(c.array.to_float32("w"), (std::vector<float>{0.25f, -3.0f}));
  Bytes half = {0x00, 0x3c, 0x00, 0xc0};  // 1.0, -2.0 in IEEE binary16
  c = parse_npy(npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", half), "w");
  EXPECT_EQ(c.array.to_float32("w"), (std::vector<float>{1.0f, -2.0f}));
}

TEST(Npy, ScalarIntegers) {
  Bytes body = {16, 0, 0, 0, 0, 0, 0, 0};
  NpyContents c = parse_npy(npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", body), "bits");
  EXPECT_EQ(c.array.scalar_int("bits"), 16);
}

TEST(Npy, MalformedInputsNameTheEntry) {
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_THAT(error_of([&] { parse_npy(Bytes{1, 2, 3}, "m.npz:e.npy"); }), HasSubstr("m.npz:e.npy: not a .npy array"));
  Bytes v9 = npy(1, f4, floats({1, 2}));
  v9[6] = 9;
  EXPECT_THAT(error_of([&] { parse_npy(v9, "m.npz:e.npy"); }), HasSubstr("unsupported .npy format version 9"));
  EXPECT_THAT(error_of([&] { parse_npy(npy(1, f4, floats({1})), "m.npz:e.npy"); }),
              HasSubstr("m.npz:e.npy: truncated array data"));
  EXPECT_THAT(error_of([&] { parse_npy(npy(1, f4, floats({1, 2, 3})), "m.npz:e.npy"); }),
              HasSubstr("4 unexpected bytes after the array data"));
  EXPECT_THAT(error_of([&] {
                parse_npy(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", floats({1})), "e");
              }),
              HasSubstr("e: Fortran-order arrays are not supported"));
  EXPECT_THAT(error_of([&] {
                parse_npy(npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", floats({1})), "e");
              }),
              HasSubstr("e: big-endian dtype '>f4'"));
  EXPECT_THAT(error_of([&] {
                parse_npy(npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", floats({1, 2})), "e");
              }),
              HasSubstr("e: unsupported dtype '<c8'"));
  EXPECT_THAT(error_of([&] {
                parse_npy(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", {}), "e");
              }),
              HasSubstr("structured dtypes are not supported"));
  EXPECT_THAT(error_of([&] { parse_npy(npy(1, "{'descr': '<f4', 'shape': (1,), }", floats({1})), "e"); }),
              HasSubstr("lacks 'descr', 'fortran_order' or 'shape'"));
  Bytes short_header = npy(1, f4, {});
  short_header.resize(20);
  EXPECT_THAT(error_of([&] { parse_npy(short_header, "e"); }), HasSubstr("e: truncated .npy header"));
  EXPECT_THAT(error_of([&] {
                parse_npy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                              floats({1})),
                          "e");
              }),
              HasSubstr("e: truncated array data"));
}

// The three forms of model A hold the same weights under the same names.
TEST(Npz, AllFormsAgree) {
  auto flat = read_npz_params_file(kDir + "a_flat.npz");
  auto jax2 = read_npz_params_file(kDir + "a_jax_numpy2.npz");
  auto jax1 = read_npz_params_file(kDir + "a_jax_numpy1.npz");
  EXPECT_EQ(flat.size(), 1u + 2 * 12 + 2);  // embed, 2 layers of 12 tensors, output w and b
  ASSERT_EQ(flat.size(), jax2.size());
  ASSERT_EQ(flat.size(), jax1.size());
  for (const auto& [name, a] : flat) {
    ASSERT_TRUE(jax2.count(name)) << name;
    ASSERT_TRUE(jax1.count(name)) << name;
    EXPECT_EQ(a.shape, jax2.at(name).shape) << name;
    EXPECT_EQ(a.data, jax2.at(name).data) << name;
    EXPECT_EQ(a.data, jax1.at(name).data) << name;
    EXPECT_EQ(jax1.at(name).dtype.name(), "f4");
  }
  EXPECT_EQ(flat.at("multi_head_dot_product_attention_1/linear_3/w").shape, (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(flat.at("linear_4/b").shape, (std::vector<int64_t>{256}));
}

TEST(Npz, DeflatedEntries) {
  auto p = read_npz_params_file(kDir + "b_vocab65536.npz");  // np.savez_compressed
  EXPECT_EQ(p.at("embed/embeddings").shape, (std::vector<int64_t>{65536, 8}));
}

TEST(Npz, TruncatedFile) {
  EXPECT_THAT(error_of([] { read_npz_params_file(kDir + "bad_truncated.npz"); }),
              HasSubstr("bad_truncated.npz: not a valid .npz (zip) archive"));
}

TEST(Npz, MissingFile) {
  EXPECT_THAT(error_of([] { read_npz_params_file(kDir + "no_such_model.npz"); }),
              HasSubstr("cannot open " + kDir + "no_such_model.npz"));
}

TEST(Npz, CorruptEntryFailsItsCrc) {
  std::ifstream in(kDir + "a_flat.npz", std::ios::binary);
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  data[5000] ^= 0x40;  // inside a stored entry's data
  EXPECT_THAT(error_of([&] { read_npz_params(data, "flipped.npz"); }), HasSubstr("flipped.npz: entry "));
}

}  // namespace
}  // namespace lmac
