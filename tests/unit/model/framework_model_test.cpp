// The framework transformer against the real dm-haiku (tools/make_framework_fixtures.py): the log-probs of every
// checkpoint form, the incremental path, and a precise error for each bad checkpoint or flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "model/framework_loader.hpp"
#include "model/framework_model.hpp"
#include "model/npy_file.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using ::testing::HasSubstr;

const std::string kDir = std::string(LMAC_TEST_DATA_DIR) + "/framework/";
constexpr double kTolerance = 2e-4;  // natural log; float32 compute vs the float64 reference

NpyArray load_npy(const std::string& name) {
  std::ifstream in(kDir + name, std::ios::binary);
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  NpyContents c = parse_npy(data, name);
  return c.array;
}

std::vector<uint32_t> symbols_of(const NpyArray& a) {
  std::vector<uint32_t> out(size_t(a.element_count()));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = a.dtype.item_size == 1 ? a.data[i] : uint32_t(a.data[2 * i] | a.data[2 * i + 1] << 8);
  }
  return out;
}

std::vector<double> doubles_of(const NpyArray& a) {
  std::vector<double> out(size_t(a.element_count()));
  if (a.dtype.item_size == 8) {
    std::memcpy(out.data(), a.data.data(), a.data.size());
  } else {
    std::vector<float> f = a.to_float32("expected");
    out.assign(f.begin(), f.end());
  }
  return out;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

class ModelA : public ::testing::TestWithParam<const char*> {};

// Model A (D=32, 2 layers, 8 heads by default) in each of its three forms, on three speech sequences.
TEST_P(ModelA, MatchesHaiku) {
  auto model = load_framework_model(kDir + GetParam(), {});
  ASSERT_EQ(model->alphabet_size(), 256);
  for (int i = 0; i < 3; ++i) {
    std::vector<uint32_t> x = symbols_of(load_npy("a_seq" + std::to_string(i) + ".npy"));
    std::vector<double> expected = doubles_of(load_npy("a_logprobs" + std::to_string(i) + ".npy"));
    ASSERT_EQ(expected.size(), x.size() * 256);
    std::vector<float> out(expected.size());
    model->log_probs(x, 1, int(x.size()), out);
    double worst = 0;
    for (size_t j = 0; j < out.size(); ++j) worst = std::max(worst, std::abs(out[j] - expected[j]));
    EXPECT_LT(worst, kTolerance) << "sequence " << i;
    std::printf("  %s sequence %d (%zu symbols): max |error| %.2e\n", GetParam(), i, x.size(), worst);
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, ModelA, ::testing::Values("a_jax_numpy2.npz", "a_jax_numpy1.npz", "a_flat.npz"));

// Sequences of equal length batched together give each sequence's own rows.
TEST(FrameworkModel, BatchEqualsSingle) {
  auto model = load_framework_model(kDir + "a_flat.npz", {});
  std::vector<uint32_t> a = symbols_of(load_npy("a_seq2.npy"));  // 300 symbols: use two windows of 100
  std::vector<uint32_t> x(a.begin(), a.begin() + 200);
  std::vector<float> both(200 * 256), one(100 * 256);
  model->log_probs(x, 2, 100, both);
  for (int b = 0; b < 2; ++b) {
    model->log_probs(std::span(x).subspan(size_t(b) * 100, 100), 1, 100, one);
    for (size_t j = 0; j < one.size(); ++j) ASSERT_NEAR(both[size_t(b) * 100 * 256 + j], one[j], 1e-5);
  }
}

TEST(FrameworkModel, SessionEqualsBatch) {
  auto loaded = load_framework_model(kDir + "a_jax_numpy2.npz", {});
  auto* model = dynamic_cast<FrameworkModel*>(loaded.get());
  ASSERT_NE(model, nullptr);
  std::vector<uint32_t> s1 = symbols_of(load_npy("a_seq1.npy"));  // 150 symbols
  std::vector<uint32_t> s2 = symbols_of(load_npy("a_seq2.npy"));
  const int T = 150;
  std::vector<uint32_t> x(s1.begin(), s1.begin() + T);
  x.insert(x.end(), s2.begin(), s2.begin() + T);
  std::vector<float> batch(2 * T * 256);
  model->log_probs(x, 2, T, batch);
  FrameworkSession session(*model);
  session.reset(2);
  std::vector<float> row(2 * 256);
  double worst = 0;
  for (int t = 0; t < T; ++t) {
    uint32_t prev[2] = {t ? x[t - 1] : 0u, t ? x[T + t - 1] : 0u};
    session.step(t ? prev : nullptr, row.data());
    for (int b = 0; b < 2; ++b) {
      for (int s = 0; s < 256; ++s) {
        worst = std::max(worst, double(std::abs(row[b * 256 + s] - batch[(size_t(b) * T + t) * 256 + s])));
      }
    }
  }
  // Different summation orders (BLAS blocks vs one dot per key); log-probs reach -50 here, so 1e-4 is ~2e-6
  // relative. Measured: 2.7e-5.
  EXPECT_LT(worst, 1e-4);
  EXPECT_EQ(session.position(), T);
}

// Model B: 65536 symbols (one per 16-bit sample), D=8, 1 layer; np.savez_compressed of jax arrays.
TEST(FrameworkModel, Vocab65536MatchesHaiku) {
  FrameworkOptions options;
  options.num_heads = 2;
  auto model = load_framework_model(kDir + "b_vocab65536.npz", options);
  ASSERT_EQ(model->alphabet_size(), 65536);
  EXPECT_EQ(model->declared_bits(), 16);
  std::vector<uint32_t> x = symbols_of(load_npy("b_seqs.npy"));
  ASSERT_EQ(x.size(), 200u);
  std::vector<double> actual = doubles_of(load_npy("b_actual_logprobs.npy"));
  std::vector<double> row = doubles_of(load_npy("b_row_1_99.npy"));
  std::vector<float> out(size_t(200) * 65536);
  model->log_probs(x, 2, 100, out);
  double worst = 0;
  for (size_t i = 0; i < 200; ++i) worst = std::max(worst, std::abs(out[i * 65536 + x[i]] - actual[i]));
  EXPECT_LT(worst, kTolerance);
  std::printf("  actual symbols: max |error| %.2e\n", worst);
  worst = 0;
  for (size_t s = 0; s < 65536; ++s) worst = std::max(worst, std::abs(out[199 * 65536 + s] - row[s]));
  EXPECT_LT(worst, kTolerance);
  std::printf("  full row (sequence 1, t = 99): max |error| %.2e\n", worst);
}

TEST(FrameworkModel, Info) {
  auto model = load_framework_model(kDir + "a_jax_numpy1.npz", {});
  const ModelInfo& info = model->info();
  EXPECT_EQ(info.name, "a_jax_numpy1");
  EXPECT_EQ(info.model_type, "framework");
  EXPECT_EQ(info.format, "npz");
  EXPECT_EQ(info.stored_dtype, "f32");
  EXPECT_EQ(info.parameter_count, 256u * 32 + 2 * (4 * 32 * 32 + 4 * 32 + 32 * 128 + 128 + 128 * 32 + 32) + 32 * 256 + 256);
  EXPECT_EQ(info.bos_token, 0);
  EXPECT_THAT(info.architecture, HasSubstr("D 32, 2 layers, 8 heads"));
  EXPECT_EQ(info.fingerprint.size(), 16u);
  EXPECT_EQ(model->declared_bits(), std::nullopt);
  // Same tensors and config, any file form: same fingerprint. Another head count: another fingerprint.
  EXPECT_EQ(load_framework_model(kDir + "a_flat.npz", {})->info().fingerprint, info.fingerprint);
  FrameworkOptions four;
  four.num_heads = 4;
  EXPECT_NE(load_framework_model(kDir + "a_flat.npz", four)->info().fingerprint, info.fingerprint);
}

TEST(FrameworkModel, DeclaredBits) {
  FrameworkOptions options;
  options.num_heads = 2;
  EXPECT_EQ(load_framework_model(kDir + "t_bits8.npz", options)->declared_bits(), 8);
}

TEST(FrameworkModel, OptionsCheckedAgainstShapes) {
  FrameworkOptions ok;
  ok.embedding_dim = 32;
  ok.num_layers = 2;
  ok.widening_factor = 4;
  EXPECT_NO_THROW(load_framework_model(kDir + "a_flat.npz", ok));
  FrameworkOptions o;
  o.num_layers = 4;
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "a_flat.npz", o); }),
              HasSubstr("--num_layers 4 does not match " + kDir + "a_flat.npz: the tensors give 2 layers"));
  o = {};
  o.embedding_dim = 64;
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "a_flat.npz", o); }),
              HasSubstr("--embedding_dim 64 does not match"));
  o = {};
  o.widening_factor = 2;
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "a_flat.npz", o); }),
              HasSubstr("--widening_factor 2 does not match"));
  o = {};
  o.num_heads = 5;
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "a_flat.npz", o); }),
              HasSubstr("--num_heads 5 does not divide embedding_dim 32"));
}

TEST(FrameworkModel, BadCheckpoints) {
  FrameworkOptions o;
  o.num_heads = 2;
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "bad_missing_module.npz", o); }),
              HasSubstr("bad_missing_module.npz: missing module layer_norm_1"));
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "bad_wrong_shape.npz", o); }),
              HasSubstr("bad_wrong_shape.npz: tensor linear_1/b has shape [7], expected [8]"));
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "bad_forbidden_global.npz", o); }),
              HasSubstr("forbidden pickle global os.system in " + kDir + "bad_forbidden_global.npz:embed.npy"));
  EXPECT_THAT(error_of([&] { load_framework_model(kDir + "bad_truncated.npz", o); }),
              HasSubstr("bad_truncated.npz: not a valid .npz (zip) archive"));
}

TEST(FrameworkModel, SymbolOutsideAlphabet) {
  FrameworkOptions o;
  o.num_heads = 2;
  auto model = load_framework_model(kDir + "t_bits8.npz", o);
  std::vector<uint32_t> x = {1, 2, 300};
  std::vector<float> out(3 * 256);
  EXPECT_THAT(error_of([&] { model->log_probs(x, 1, 3, out); }),
              HasSubstr("symbol 300 at position 2 of sequence 0 is outside the model's alphabet of 256"));
}

TEST(FrameworkModel, PositionTableMatchesSpec) {
  // D = 8: f = 0, 2, 4, 6, 8; columns 0..4 are sines, 5..7 cosines of the first three frequencies.
  float row[8];
  framework_position_row(3, 8, row);
  for (int j = 0; j < 5; ++j) EXPECT_FLOAT_EQ(row[j], float(std::sin(3 * std::pow(1e4, -2.0 * j / 8))));
  for (int j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(row[5 + j], float(std::cos(3 * std::pow(1e4, -2.0 * j / 8))));
}

}  // namespace
}  // namespace lmac
