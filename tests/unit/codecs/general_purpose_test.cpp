// gzip, lzma, zstd, bzip2 and brotli: each output decodes back to its input with the library's own decoder, and the
// containers are the ones the reference uses (header sizes of SPEC-LMIC section 4).
#include <brotli/decode.h>
#include <bzlib.h>
#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>

#include "codecs/compressor.hpp"
#include "test_inputs.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using test::speech_like;
using test::noise;

std::vector<Bytes> inputs() {
  return {Bytes{0}, Bytes(2048, 0), Bytes(2048, 0xff), speech_like(2048, 1), noise(2048, 2), speech_like(100000, 3)};
}

Bytes gunzip(const Bytes& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 31), Z_OK);
  Bytes out(1 << 20);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = uInt(in.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

Bytes unxz(const Bytes& in) {
  Bytes out(1 << 20);
  uint64_t memlimit = UINT64_MAX;
  size_t in_pos = 0, out_pos = 0;
  EXPECT_EQ(lzma_stream_buffer_decode(&memlimit, 0, nullptr, in.data(), &in_pos, in.size(), out.data(), &out_pos,
                                      out.size()),
            LZMA_OK);
  EXPECT_EQ(in_pos, in.size());
  out.resize(out_pos);
  return out;
}

Bytes unzstd(const Bytes& in) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
  EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);  // the frame records its content size
  Bytes out(size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Bytes bunzip2(const Bytes& in) {
  Bytes out(1 << 20);
  unsigned int size = unsigned(out.size());
  EXPECT_EQ(BZ2_bzBuffToBuffDecompress(reinterpret_cast<char*>(out.data()), &size,
                                       const_cast<char*>(reinterpret_cast<const char*>(in.data())),
                                       unsigned(in.size()), 0, 0),
            BZ_OK);
  out.resize(size);
  return out;
}

Bytes unbrotli(const Bytes& in) {
  BrotliDecoderState* state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  EXPECT_TRUE(BrotliDecoderSetParameter(state, BROTLI_DECODER_PARAM_LARGE_WINDOW, 1));
  Bytes out(1 << 20);
  size_t available_in = in.size(), available_out = out.size();
  const uint8_t* next_in = in.data();
  uint8_t* next_out = out.data();
  EXPECT_EQ(BrotliDecoderDecompressStream(state, &available_in, &next_in, &available_out, &next_out, nullptr),
            BROTLI_DECODER_RESULT_SUCCESS);
  BrotliDecoderDestroyInstance(state);
  out.resize(out.size() - available_out);
  return out;
}

struct Case {
  const char* name;
  Bytes (*decode)(const Bytes&);
};

class GeneralPurpose : public ::testing::TestWithParam<Case> {};

TEST_P(GeneralPurpose, DecodesBackToTheInput) {
  const auto compressor = make_compressor(GetParam().name);
  for (const SymbolFormat format : {SymbolFormat{}, SymbolFormat{16, ByteOrder::lsb, 44100}}) {
    for (const Bytes& input : inputs()) {
      const Bytes packed = compressor->compress(input, format);
      EXPECT_EQ(GetParam().decode(packed), input) << GetParam().name << " on " << input.size() << " bytes";
    }
  }
}

TEST_P(GeneralPurpose, CompressesSpeechLikeBytes) {
  const Bytes input = speech_like(100000, 7);
  EXPECT_LT(make_compressor(GetParam().name)->compress(input, {}).size(), input.size() * 3 / 4);
}

INSTANTIATE_TEST_SUITE_P(Codecs, GeneralPurpose,
                         ::testing::Values(Case{"gzip", gunzip}, Case{"lzma", unxz}, Case{"zstd", unzstd},
                                           Case{"bzip2", bunzip2}, Case{"brotli", unbrotli}),
                         [](const auto& info) { return std::string(info.param.name); });

// SPEC-LMIC section 4: the reference's header_length for b"\x00".
TEST(GeneralPurpose, HeaderOfOneZeroByteMatchesTheReference) {
  EXPECT_EQ(make_compressor("gzip")->compress(Bytes{0}, {}).size(), 21u);
  EXPECT_EQ(make_compressor("lzma")->compress(Bytes{0}, {}).size(), 60u);
}

TEST(GeneralPurpose, GzipIsAGzipContainerAtMaximumCompression) {
  const Bytes out = make_compressor("gzip")->compress(speech_like(4096, 5), {});
  ASSERT_GE(out.size(), 18u);
  EXPECT_EQ(out[0], 0x1f);
  EXPECT_EQ(out[1], 0x8b);
  EXPECT_EQ(out[2], 8);  // deflate
  EXPECT_EQ(out[8], 2);  // XFL: slowest algorithm, i.e. level 9
}

TEST(GeneralPurpose, LzmaIsAnXzStreamWithCrc64) {
  const Bytes out = make_compressor("lzma")->compress(speech_like(4096, 5), {});
  ASSERT_GE(out.size(), 12u);
  const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  EXPECT_TRUE(std::equal(magic, magic + 6, out.begin()));
  EXPECT_EQ(out[7], LZMA_CHECK_CRC64);  // stream flags, second byte
}

}  // namespace
}  // namespace lmac
