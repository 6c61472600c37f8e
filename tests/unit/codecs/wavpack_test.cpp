// wavpack (-hh -x6 on the true waveform): libwavpack's decoder turns the output back into exactly the waveform,
// in very high mode with extra processing, at the stream's width and the file's rate.
#include <gtest/gtest.h>
#include <wavpack/wavpack.h>

#include <algorithm>
#include <cstring>

#include "codecs/compressor.hpp"
#include "test_inputs.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using test::speech_like;

// A read-only WavPack "file" in memory.
struct Memory {
  const Bytes* bytes;
  int64_t position = 0;
};

int32_t read_bytes(void* id, void* data, int32_t count) {
  auto* m = static_cast<Memory*>(id);
  const int32_t take = int32_t(std::clamp<int64_t>(int64_t(m->bytes->size()) - m->position, 0, count));
  std::memcpy(data, m->bytes->data() + m->position, size_t(take));
  m->position += take;
  return take;
}
int32_t write_bytes(void*, void*, int32_t) { return 0; }
int64_t get_pos(void* id) { return static_cast<Memory*>(id)->position; }
int set_pos_abs(void* id, int64_t pos) {
  auto* m = static_cast<Memory*>(id);
  m->position = pos;
  return 0;
}
int set_pos_rel(void* id, int64_t delta, int mode) {
  auto* m = static_cast<Memory*>(id);
  const int64_t base = mode == SEEK_SET ? 0 : mode == SEEK_CUR ? m->position : int64_t(m->bytes->size());
  m->position = base + delta;
  return 0;
}
int push_back_byte(void* id, int c) {
  auto* m = static_cast<Memory*>(id);
  m->position -= 1;  // the byte just read is still in the buffer
  return c;
}
int64_t get_length(void* id) { return int64_t(static_cast<Memory*>(id)->bytes->size()); }
int can_seek(void*) { return 1; }
int truncate_here(void*) { return 0; }
int close_file(void*) { return 0; }

struct Decoded {
  std::vector<int32_t> samples;
  int bits = 0, channels = 0, mode = 0;
  uint32_t rate = 0;
};

Decoded decode(const Bytes& wv) {
  WavpackStreamReader64 reader{read_bytes, write_bytes,  get_pos,       set_pos_abs, set_pos_rel,
                               push_back_byte, get_length, can_seek, truncate_here, close_file};
  Memory memory{&wv};
  char error[80] = "";
  WavpackContext* wpc = WavpackOpenFileInputEx64(&reader, &memory, nullptr, error, 0, 0);
  Decoded out;
  EXPECT_NE(wpc, nullptr) << error;
  if (!wpc) return out;
  out.bits = WavpackGetBitsPerSample(wpc);
  out.channels = WavpackGetNumChannels(wpc);
  out.rate = WavpackGetSampleRate(wpc);
  out.mode = WavpackGetMode(wpc);
  out.samples.resize(size_t(WavpackGetNumSamples64(wpc)));
  EXPECT_EQ(WavpackUnpackSamples(wpc, out.samples.data(), uint32_t(out.samples.size())), out.samples.size());
  EXPECT_EQ(WavpackGetNumErrors(wpc), 0);
  WavpackCloseFile(wpc);
  return out;
}

TEST(Wavpack, EightBitStreamDecodesToBytesMinus128) {
  Bytes input = speech_like(6000, 1);
  input[0] = 0, input[1] = 255;
  const Decoded out = decode(make_compressor("wavpack")->compress(input, SymbolFormat{8, ByteOrder::msb, 8000}));
  ASSERT_EQ(out.samples.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) ASSERT_EQ(out.samples[i], int(input[i]) - 128) << i;
  EXPECT_EQ(out.bits, 8);
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(out.rate, 8000u);
  EXPECT_TRUE(out.mode & MODE_LOSSLESS);
  EXPECT_TRUE(out.mode & MODE_VERY_HIGH);
  EXPECT_TRUE(out.mode & MODE_EXTRA);
}

TEST(Wavpack, SixteenBitStreamDecodesToOffsetBinaryMinus32768InEitherByteOrder) {
  const Bytes input = speech_like(4096, 2);
  for (const ByteOrder order : {ByteOrder::msb, ByteOrder::lsb}) {
    const Decoded out = decode(make_compressor("wavpack")->compress(input, SymbolFormat{16, order, 16000}));
    ASSERT_EQ(out.samples.size(), input.size() / 2);
    for (size_t i = 0; i < out.samples.size(); ++i) {
      const int hi = order == ByteOrder::msb ? input[2 * i] : input[2 * i + 1];
      const int lo = order == ByteOrder::msb ? input[2 * i + 1] : input[2 * i];
      ASSERT_EQ(out.samples[i], (hi << 8 | lo) - 32768) << i;
    }
    EXPECT_EQ(out.bits, 16);
  }
}

TEST(Wavpack, PartialSampleIsACodecError) {
  try {
    make_compressor("wavpack")->compress(Bytes(5, 0), SymbolFormat{16, ByteOrder::msb, 16000});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::codec);
  }
}

}  // namespace
}  // namespace lmac
