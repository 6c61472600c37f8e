// The framework transformer's exact scorer (model/framework_exact.hpp): close to the real dm-haiku on the fixtures
// of tools/make_framework_fixtures.py, and bit-identical between its full pass and its incremental steps, across
// batch sizes, sequence lengths, instruction-set variants and thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "exact_scorer_checks.hpp"
#include "model/framework_exact.hpp"
#include "model/framework_loader.hpp"
#include "model/framework_model.hpp"
#include "model/npy_file.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using namespace exact_checks;

const std::string kDir = std::string(LMAC_TEST_DATA_DIR) + "/framework/";

NpyArray load_npy(const std::string& name) {
  std::ifstream in(kDir + name, std::ios::binary);
  Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(data, name).array;
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

// A seeded random model of any shape, for head sizes the fixtures do not have.
std::unique_ptr<FrameworkModel> random_model(int D, int L, int H, int V, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  auto fill = [&](size_t count, float scale, float mean = 0.0f) {
    std::vector<float> v(count);
    for (float& x : v) x = mean + scale * n(rng);
    return v;
  };
  FrameworkConfig c{V, D, L, H, 4};
  FrameworkWeights w;
  w.embed = fill(size_t(V) * D, 1.0f);
  const float s = 1.0f / std::sqrt(float(D));
  for (int l = 0; l < L; ++l) {
    FrameworkLayer layer;
    layer.w_qkv = fill(size_t(D) * 3 * D, s);
    layer.w_out = fill(size_t(D) * D, s);
    layer.ln1_scale = fill(size_t(D), 0.2f, 1.0f);
    layer.ln1_offset = fill(size_t(D), 0.1f);
    layer.w1 = fill(size_t(D) * 4 * D, s);
    layer.b1 = fill(size_t(4 * D), 0.1f);
    layer.w2 = fill(size_t(4 * D) * D, 0.5f * s);
    layer.b2 = fill(size_t(D), 0.1f);
    layer.ln2_scale = fill(size_t(D), 0.2f, 1.0f);
    layer.ln2_offset = fill(size_t(D), 0.1f);
    w.layers.push_back(std::move(layer));
  }
  w.w_logits = fill(size_t(D) * V, 2.0f * s);
  w.b_logits = fill(size_t(V), 0.5f);
  return std::make_unique<FrameworkModel>(c, std::move(w), ModelInfo{}, std::nullopt);
}

std::vector<uint32_t> speech(size_t n, size_t offset = 0) {
  static const std::vector<uint32_t> all = [] {
    std::vector<uint32_t> s;
    for (int i = 0; i < 3; ++i) {
      auto x = symbols_of(load_npy("a_seq" + std::to_string(i) + ".npy"));
      s.insert(s.end(), x.begin(), x.end());
    }
    return s;
  }();
  std::vector<uint32_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = all[(offset + i) % all.size()];
  return out;
}

TEST(FrameworkExact, MatchesHaikuAndTheFloatModel) {
  auto model = load_framework_model(kDir + "a_flat.npz", {});
  auto scorer = model->exact_scorer();
  ASSERT_NE(scorer, nullptr);
  EXPECT_EQ(scorer->kernel_id(), "cpu-exact-v1");
  EXPECT_EQ(scorer->alphabet_size(), 256);
  for (int i = 0; i < 3; ++i) {
    std::vector<uint32_t> x = symbols_of(load_npy("a_seq" + std::to_string(i) + ".npy"));
    std::vector<double> expected = doubles_of(load_npy("a_logprobs" + std::to_string(i) + ".npy"));
    std::vector<float> exact = full_pass(*scorer, x, 1, int(x.size())), fast(expected.size());
    model->log_probs(x, 1, int(x.size()), fast);
    double to_haiku = 0, to_float = 0;
    for (size_t j = 0; j < exact.size(); ++j) {
      to_haiku = std::max(to_haiku, std::abs(exact[j] - expected[j]));
      to_float = std::max(to_float, double(std::abs(exact[j] - fast[j])));
    }
    EXPECT_LT(to_haiku, 2e-4) << "sequence " << i;
    EXPECT_LT(to_float, 1e-4) << "sequence " << i;
    std::printf("  sequence %d (%zu symbols): max |exact - haiku| %.2e, max |exact - float| %.2e\n", i, x.size(),
                to_haiku, to_float);
  }
}

TEST(FrameworkExact, Vocab65536MatchesHaiku) {
  FrameworkOptions options;
  options.num_heads = 2;
  auto model = load_framework_model(kDir + "b_vocab65536.npz", options);
  auto scorer = model->exact_scorer();
  std::vector<uint32_t> x = symbols_of(load_npy("b_seqs.npy"));
  std::vector<double> actual = doubles_of(load_npy("b_actual_logprobs.npy"));
  std::vector<double> row = doubles_of(load_npy("b_row_1_99.npy"));
  std::vector<float> out = full_pass(*scorer, x, 2, 100);
  double worst = 0;
  for (size_t i = 0; i < 200; ++i) worst = std::max(worst, std::abs(out[i * 65536 + x[i]] - actual[i]));
  for (size_t s = 0; s < 65536; ++s) worst = std::max(worst, std::abs(out[199 * 65536 + s] - row[s]));
  EXPECT_LT(worst, 2e-4);
  std::printf("  max |exact - haiku| %.2e\n", worst);
  // And the 65536-wide rows of the incremental path are the full pass's, bit for bit.
  std::vector<float> steps = stepped(*scorer, x, 2, 100);
  EXPECT_TRUE(same_bits(steps.data(), out.data(), out.size()));
}

struct Shape {
  const char* name;
  std::function<std::unique_ptr<LanguageModel>()> load;
};

std::vector<Shape> shapes() {
  return {
      {"fixture A (D 32, 8 heads of 4)", [] { return load_framework_model(kDir + "a_flat.npz", {}); }},
      {"fixture T (D 8, 2 heads of 4)",
       [] {
         FrameworkOptions o;
         o.num_heads = 2;
         return load_framework_model(kDir + "t_bits8.npz", o);
       }},
      {"random (D 48, 3 heads of 16)", [] { return random_model(48, 2, 3, 256, 7); }},
      {"random (D 96, 2 heads of 48)", [] { return random_model(96, 1, 2, 256, 8); }},
  };
}

// The decoder's rows are the encoder's, bit for bit: batch sizes 1, 3 and 8, and sequences of several lengths
// (a shorter pass gives the prefix of a longer one: a row sees only its past).
TEST(FrameworkExact, StepRowsEqualFullPassRowsBitForBit) {
  for (const Shape& shape : shapes()) {
    auto model = shape.load();
    auto scorer = model->exact_scorer();
    const int T = 160;
    std::vector<uint32_t> x8;
    for (int b = 0; b < 8; ++b) {
      auto s = speech(T, size_t(b) * 61);
      x8.insert(x8.end(), s.begin(), s.end());
    }
    expect_steps_equal_full_pass(*scorer, x8, T, {1, 17, 129}, shape.name);
  }
}

// Same bits with 1, 2 and 7 threads and under every instruction-set variant the CPU has.
TEST(FrameworkExact, BitsDoNotDependOnThreadsOrInstructionSet) {
  for (const Shape& shape : shapes()) {
    auto model = shape.load();
    auto scorer = model->exact_scorer();
    const int T = 120, B = 4;
    std::vector<uint32_t> x;
    for (int b = 0; b < B; ++b) {
      auto s = speech(T, size_t(b) * 97);
      x.insert(x.end(), s.begin(), s.end());
    }
    expect_bits_independent_of_threads_and_isa(*scorer, x, B, T, shape.name);
  }
}

TEST(FrameworkExact, RejectsSymbolsOutsideTheAlphabet) {
  auto model = load_framework_model(kDir + "a_flat.npz", {});
  auto scorer = model->exact_scorer();
  std::vector<uint32_t> x = {1, 2, 256, 3};
  std::vector<float> out(4 * 256);
  EXPECT_THROW(scorer->log_probs(x, 1, 4, out), Error);
  std::vector<float> row(256);
  scorer->begin(1);
  scorer->step(std::vector<uint32_t>{0}, row);
  EXPECT_THROW(scorer->step(std::vector<uint32_t>{300}, row), Error);
}

// The position table: sines then cosines as SPEC-LMIC section 7 defines them, within float32 rounding of libm's.
TEST(FrameworkExact, PositionTableMatchesTheDefinition) {
  const int d = 64;
  std::vector<float> row(d);
  for (int64_t pos : {0, 1, 7, 100, 2047, 100000}) {
    framework_exact_position_row(pos, d, row.data());
    for (int c = 0; c < d; ++c) {
      const int j = c <= d / 2 ? c : c - (d / 2 + 1);
      const double angle = double(pos) * std::pow(1e4, -2.0 * j / d);
      const double want = c <= d / 2 ? std::sin(angle) : std::cos(angle);
      EXPECT_NEAR(row[c], want, 1.2e-7) << "pos " << pos << " column " << c;
    }
  }
}

}  // namespace
}  // namespace lmac
