// Dequantization of every supported ggml type against llama.cpp's own Python package: tests/data/gguf/dequant.gguf
// holds, per type T, random raw blocks "T.raw" and "T.expected" = gguf.quants.dequantize(raw) in float32
// (tools/make_gguf_fixtures.py). The kernels follow ggml's arithmetic operation for operation, so the comparison
// is bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/half_float.hpp"
#include "engine/half_matmul.hpp"
#include "engine/quant_dequantize.hpp"
#include "model/gguf_file.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

const std::string kDequantFile = std::string(LMAC_TEST_DATA_DIR) + "/gguf/dequant.gguf";

bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

class DequantTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DequantTest, MatchesGgufPythonPackageBitForBit) {
  auto file = GgufFile::open(kDequantFile);
  const std::string type = GetParam();
  const GgufTensorInfo* raw = file->header().find_tensor(type + ".raw");
  const GgufTensorInfo* expected = file->header().find_tensor(type + ".expected");
  ASSERT_NE(raw, nullptr);
  ASSERT_NE(expected, nullptr);
  EXPECT_STREQ(ggml_type_name(raw->type), type.c_str());
  ASSERT_EQ(expected->type, GgmlType::f32);
  ASSERT_EQ(raw->ne, expected->ne);
  const int64_t cols = raw->ne[0], rows = raw->ne[1];
  ASSERT_EQ(rows, 3);
  const float* want = reinterpret_cast<const float*>(expected->data);

  // All rows at once, then one row of the middle alone (the tile primitive with r0 > 0).
  QuantMatrix m{raw->data, raw->type, rows, cols};
  std::vector<float> got(size_t(rows * cols));
  dequantize_rows(m, 0, rows, got.data());
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!same_float(got[i], want[i]) && mismatches++ < 5)
      ADD_FAILURE() << type << " element " << i << ": lmac " << got[i] << ", gguf " << want[i];
  EXPECT_EQ(mismatches, 0);
  std::vector<float> middle(static_cast<size_t>(cols));
  dequantize_rows(m, 1, 2, middle.data());
  for (int64_t c = 0; c < cols; ++c) ASSERT_TRUE(same_float(middle[c], want[cols + c])) << type << " col " << c;

}

INSTANTIATE_TEST_SUITE_P(AllSupportedTypes, DequantTest,
                         ::testing::Values("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K",
                                           "Q5_K", "Q6_K"),
                         [](const auto& info) { return std::string(info.param); });

TEST(DequantTest, WeightMatrixOfAQuantizedTypeWidensLikeTheKernel) {
  // The Llama forward sees quantized weights through WeightMatrix (engine/half_matmul.hpp).
  auto file = GgufFile::open(kDequantFile);
  const GgufTensorInfo* raw = file->header().find_tensor("Q4_K.raw");
  const GgufTensorInfo* expected = file->header().find_tensor("Q4_K.expected");
  ASSERT_TRUE(raw && expected);
  WeightMatrix w{raw->data, WeightDType::q4_k, int(raw->ne[1]), int(raw->ne[0])};
  std::vector<float> row(static_cast<size_t>(w.cols));
  weight_row_f32(w, 2, row.data());
  const float* want = reinterpret_cast<const float*>(expected->data) + 2 * w.cols;
  for (int c = 0; c < w.cols; ++c) ASSERT_TRUE(same_float(row[c], want[c])) << c;
  // y = x @ w^T with x = e_5 picks column 5 of every row.
  std::vector<float> x(size_t(w.cols), 0.0f), y(size_t(w.rows));
  x[5] = 1.0f;
  matmul_weight_t(x.data(), w, y.data(), 1);
  for (int r = 0; r < w.rows; ++r)
    EXPECT_FLOAT_EQ(y[r], reinterpret_cast<const float*>(expected->data)[r * w.cols + 5]);
}

TEST(DequantTest, UnsupportedTypeIsNamed) {
  std::vector<uint8_t> block(84, 0);
  std::vector<float> out(256);
  try {
    dequantize_row(GgmlType::q2_k, block.data(), out.data(), 256);
    FAIL() << "Q2_K dequantized";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("Q2_K"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Q6_K"), std::string::npos) << e.what();  // the supported list
  }
}

TEST(DequantTest, PartialBlocksAreRefused) {
  std::vector<uint8_t> block(34, 0);
  std::vector<float> out(32);
  EXPECT_THROW(dequantize_row(GgmlType::q8_0, block.data(), out.data(), 31), Error);
}

TEST(DequantTest, TypeTableMatchesGgml) {
  // Sizes from ggml-common.h: what every tensor size in a GGUF file is computed from.
  struct Want { GgmlType type; int block, bytes; };
  for (const Want& w : {Want{GgmlType::q4_0, 32, 18}, Want{GgmlType::q4_1, 32, 20}, Want{GgmlType::q5_0, 32, 22},
                        Want{GgmlType::q5_1, 32, 24}, Want{GgmlType::q8_0, 32, 34}, Want{GgmlType::q4_k, 256, 144},
                        Want{GgmlType::q5_k, 256, 176}, Want{GgmlType::q6_k, 256, 210}, Want{GgmlType::bf16, 1, 2}}) {
    EXPECT_EQ(ggml_traits(w.type).block_size, w.block) << ggml_type_name(w.type);
    EXPECT_EQ(ggml_traits(w.type).type_size, w.bytes) << ggml_type_name(w.type);
  }
  EXPECT_EQ(ggml_type_traits(4), nullptr);  // removed from ggml
  EXPECT_EQ(ggml_type_traits(1000), nullptr);
  EXPECT_EQ(weight_row_bytes(WeightDType::q4_1, 576), size_t(18 * 20));
}

}  // namespace
}  // namespace lmac
