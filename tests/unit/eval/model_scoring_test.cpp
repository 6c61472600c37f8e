// Windows of --max_length, the slow prefix path, and the symbols a model sees.
#include "eval/model_scoring.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace lmac {
namespace {

// A causal stand-in for a model that reports what it saw: row t holds, in column 0, the sum of the symbols
// before position t in its input (its context), and in column 1 the position t itself.
class ContextProbe : public LanguageModel {
 public:
  const ModelInfo& info() const override { return info_; }
  int alphabet_size() const override { return 4; }
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override {
    ++calls;
    for (int b = 0; b < batch; ++b) {
      float sum = 0;
      for (int t = 0; t < length; ++t) {
        float* row = &out[(static_cast<size_t>(b) * length + t) * 4];
        row[0] = sum;
        row[1] = static_cast<float>(t);
        row[2] = row[3] = 0;
        sum += static_cast<float>(symbols[static_cast<size_t>(b) * length + t]);
      }
    }
  }
  int calls = 0;

 private:
  ModelInfo info_;
};

TEST(ScoreInWindows, ShortSequencesAreOnePass) {
  ContextProbe model;
  std::vector<uint32_t> x = {1, 2, 3, 1, 2, 3};
  std::vector<float> out(x.size() * 4);
  score_in_windows(model, x, 2, 3, 2048, false, out);
  EXPECT_EQ(model.calls, 1);
  EXPECT_EQ(out[(1 * 3 + 2) * 4 + 0], 1 + 2);  // second sequence, t = 2: saw x0 + x1
}

TEST(ScoreInWindows, LongSequencesUseHalfWindowContext) {
  // T = 10, max_length = 4: windows [0,4) new 0..3; [2,6) new 4,5; [4,8) new 6,7; [6,10) new 8,9.
  ContextProbe model;
  std::vector<uint32_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::vector<float> out(x.size() * 4);
  score_in_windows(model, x, 1, 10, 4, false, out);
  EXPECT_EQ(model.calls, 4);
  auto context = [&](int t) { return out[t * 4 + 0]; };
  auto position = [&](int t) { return out[t * 4 + 1]; };
  EXPECT_EQ(context(3), 1 + 2 + 3);
  EXPECT_EQ(position(3), 3);
  EXPECT_EQ(context(4), 3 + 4);  // window [2,6): context x2, x3
  EXPECT_EQ(position(4), 2);     // positions restart at 0 in every window
  EXPECT_EQ(context(5), 3 + 4 + 5);
  EXPECT_EQ(context(6), 5 + 6);
  EXPECT_EQ(context(9), 7 + 8 + 9);
  EXPECT_EQ(position(9), 3);
}

TEST(ScoreInWindows, SlowPathGivesTheSameRowsForACausalModel) {
  ContextProbe fast_model, slow_model;
  std::vector<uint32_t> x = {3, 1, 2, 0, 1, 3, 2, 2, 1, 0, 3};
  std::vector<float> fast(x.size() * 4), slow(x.size() * 4);
  score_in_windows(fast_model, x, 1, 11, 6, false, fast);
  score_in_windows(slow_model, x, 1, 11, 6, true, slow);
  EXPECT_EQ(fast, slow);
  EXPECT_EQ(slow_model.calls, 11);  // one pass per symbol
}

TEST(SymbolsOfChunk, EachAlphabetSeesItsOwnSymbols) {
  Bytes chunk = {0x12, 0x34, 0xFF, 0x01};
  SymbolFormat eight{8, ByteOrder::msb, 16000}, msb{16, ByteOrder::msb, 16000}, lsb{16, ByteOrder::lsb, 16000};
  EXPECT_EQ(symbols_of_chunk(chunk, eight, 256), (std::vector<uint32_t>{0x12, 0x34, 0xFF, 0x01}));
  EXPECT_EQ(symbols_of_chunk(chunk, eight, 128), (std::vector<uint32_t>{0x09, 0x1A, 0x7F, 0x00}));
  EXPECT_EQ(dropped_bits_of_chunk(chunk, 128), 4u);
  EXPECT_EQ(dropped_bits_of_chunk(chunk, 256), 0u);
  EXPECT_EQ(symbols_of_chunk(chunk, msb, 65536), (std::vector<uint32_t>{0x1234, 0xFF01}));
  EXPECT_EQ(symbols_of_chunk(chunk, lsb, 65536), (std::vector<uint32_t>{0x3412, 0x01FF}));
  EXPECT_THROW(symbols_of_chunk(chunk, eight, 65536), Error);
}

}  // namespace
}  // namespace lmac
