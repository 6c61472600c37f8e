// The symbol streams of DESIGN.md section 2, checked against values worked out by hand from its formulas.
#include "audio/symbol_stream.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

namespace lmac {
namespace {

DecodedAudio audio_of(std::vector<int16_t> interleaved, int channels) {
  DecodedAudio a;
  a.channels = channels;
  a.sample_rate = 16000;
  a.source_bits = 16;
  a.frames = static_cast<int64_t>(interleaved.size()) / channels;
  for (int16_t s : interleaved) a.samples.push_back(static_cast<int32_t>(s) * 65536);
  return a;
}

TEST(SymbolStream, EightBitFollowsTheReference) {
  // b = ((s >> 8) + 128) mod 256 with an arithmetic shift.
  auto a = audio_of({0, 255, 256, -1, -256, -257, 32767, -32768}, 1);
  Bytes b = make_symbol_stream(a, {8, ByteOrder::msb, 1024});
  EXPECT_EQ(b, (Bytes{128, 128, 129, 127, 127, 126, 255, 0}));
}

TEST(SymbolStream, SixteenBitIsOffsetBinaryInEitherByteOrder) {
  auto a = audio_of({0, -1, 0x1234, -32768}, 1);
  EXPECT_EQ(make_symbol_stream(a, {16, ByteOrder::msb, 1024}), (Bytes{0x80, 0x00, 0x7F, 0xFF, 0x92, 0x34, 0x00, 0x00}));
  EXPECT_EQ(make_symbol_stream(a, {16, ByteOrder::lsb, 1024}), (Bytes{0x00, 0x80, 0xFF, 0x7F, 0x34, 0x92, 0x00, 0x00}));
}

TEST(SymbolStream, StereoIsLaidOutInBlocksWithAShortLastBlock) {
  // 5 frames, blocks of 2: [L0 L1][R0 R1][L2 L3][R2 R3][L4][R4]
  std::vector<int16_t> inter;
  for (int i = 0; i < 5; ++i) {
    inter.push_back(static_cast<int16_t>((10 + i) * 256));   // left: bytes 138..142
    inter.push_back(static_cast<int16_t>(-(10 + i) * 256));  // right: bytes 118..114
  }
  Bytes b = make_symbol_stream(audio_of(inter, 2), {8, ByteOrder::msb, 2});
  EXPECT_EQ(b, (Bytes{138, 139, 118, 117, 140, 141, 116, 115, 142, 114}));
}

TEST(SymbolStream, MonoIgnoresBlocking) {
  auto a = audio_of({256, 512, 768}, 1);
  EXPECT_EQ(make_symbol_stream(a, {8, ByteOrder::msb, 1}), make_symbol_stream(a, {8, ByteOrder::msb, 1024}));
}

TEST(SymbolStream, RejectsBadWidthAndBlocking) {
  auto a = audio_of({0}, 1);
  EXPECT_THROW(make_symbol_stream(a, {12, ByteOrder::msb, 1024}), Error);
  EXPECT_THROW(make_symbol_stream(a, {8, ByteOrder::msb, 0}), Error);
}

}  // namespace
}  // namespace lmac
