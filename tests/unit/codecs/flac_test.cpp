// flac (libFLAC -8 on the true waveform): the output is a plain FLAC file that libFLAC's decoder turns back into
// exactly the waveform the stream stands for, with STREAMINFO complete and no padding or seek table.
#include <FLAC/stream_decoder.h>
#include <gtest/gtest.h>

#include <cstring>

#include "codecs/compressor.hpp"
#include "test_inputs.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using test::speech_like;

struct Decoded {
  std::vector<int32_t> samples;
  FLAC__StreamMetadata_StreamInfo info{};
  std::vector<FLAC__MetadataType> blocks;
  bool error = false;
};

struct Source {
  const Bytes* bytes;
  size_t position = 0;
  Decoded* out;
};

FLAC__StreamDecoderReadStatus on_read(const FLAC__StreamDecoder*, FLAC__byte buffer[], size_t* bytes, void* data) {
  auto* source = static_cast<Source*>(data);
  const size_t n = std::min(*bytes, source->bytes->size() - source->position);
  std::memcpy(buffer, source->bytes->data() + source->position, n);
  source->position += n;
  *bytes = n;
  return n == 0 ? FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM : FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
}

FLAC__StreamDecoderWriteStatus on_write(const FLAC__StreamDecoder*, const FLAC__Frame* frame,
                                        const FLAC__int32* const channels[], void* data) {
  auto* out = static_cast<Source*>(data)->out;
  out->samples.insert(out->samples.end(), channels[0], channels[0] + frame->header.blocksize);
  return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

void on_metadata(const FLAC__StreamDecoder*, const FLAC__StreamMetadata* metadata, void* data) {
  auto* out = static_cast<Source*>(data)->out;
  out->blocks.push_back(metadata->type);
  if (metadata->type == FLAC__METADATA_TYPE_STREAMINFO) out->info = metadata->data.stream_info;
}

void on_error(const FLAC__StreamDecoder*, FLAC__StreamDecoderErrorStatus, void* data) {
  static_cast<Source*>(data)->out->error = true;
}

Decoded decode(const Bytes& flac) {
  Decoded out;
  Source source{&flac, 0, &out};
  FLAC__StreamDecoder* decoder = FLAC__stream_decoder_new();
  FLAC__stream_decoder_set_md5_checking(decoder, true);
  FLAC__stream_decoder_set_metadata_respond_all(decoder);
  EXPECT_EQ(FLAC__stream_decoder_init_stream(decoder, on_read, nullptr, nullptr, nullptr, nullptr, on_write,
                                             on_metadata, on_error, &source),
            FLAC__STREAM_DECODER_INIT_STATUS_OK);
  EXPECT_TRUE(FLAC__stream_decoder_process_until_end_of_stream(decoder));
  EXPECT_TRUE(FLAC__stream_decoder_finish(decoder));  // false if the MD5 does not match
  FLAC__stream_decoder_delete(decoder);
  return out;
}

TEST(Flac, EightBitStreamDecodesToBytesMinus128) {
  Bytes input = speech_like(5000, 1);
  input[0] = 0;  // the extremes of the waveform
  input[1] = 255;
  const Decoded out = decode(make_compressor("flac")->compress(input, SymbolFormat{8, ByteOrder::msb, 22050}));
  EXPECT_FALSE(out.error);
  ASSERT_EQ(out.samples.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) ASSERT_EQ(out.samples[i], int(input[i]) - 128) << i;
  EXPECT_EQ(out.info.bits_per_sample, 8u);
  EXPECT_EQ(out.info.channels, 1u);
  EXPECT_EQ(out.info.sample_rate, 22050u);
  EXPECT_EQ(out.info.total_samples, input.size());  // written back at the end, as the CLI does
  EXPECT_EQ(out.info.max_blocksize, 4096u);         // -8
}

TEST(Flac, SixteenBitStreamDecodesToOffsetBinaryMinus32768InEitherByteOrder) {
  const Bytes input = speech_like(4096, 2);
  for (const ByteOrder order : {ByteOrder::msb, ByteOrder::lsb}) {
    const Decoded out = decode(make_compressor("flac")->compress(input, SymbolFormat{16, order, 16000}));
    ASSERT_EQ(out.samples.size(), input.size() / 2);
    for (size_t i = 0; i < out.samples.size(); ++i) {
      const int hi = order == ByteOrder::msb ? input[2 * i] : input[2 * i + 1];
      const int lo = order == ByteOrder::msb ? input[2 * i + 1] : input[2 * i];
      ASSERT_EQ(out.samples[i], (hi << 8 | lo) - 32768) << i;
    }
    EXPECT_EQ(out.info.bits_per_sample, 16u);
  }
}

TEST(Flac, HasNoPaddingAndNoSeekTable) {
  const Decoded out = decode(make_compressor("flac")->compress(speech_like(2048, 3), {}));
  EXPECT_EQ(out.blocks, (std::vector<FLAC__MetadataType>{FLAC__METADATA_TYPE_STREAMINFO,
                                                          FLAC__METADATA_TYPE_VORBIS_COMMENT}));
}

TEST(Flac, StoresTheMd5OfTheSamples) {
  const Decoded out = decode(make_compressor("flac")->compress(speech_like(2048, 4), {}));
  EXPECT_NE(std::count(std::begin(out.info.md5sum), std::end(out.info.md5sum), 0), 16);
}

TEST(Flac, PartialSampleIsACodecError) {
  try {
    make_compressor("flac")->compress(Bytes(3, 0), SymbolFormat{16, ByteOrder::msb, 16000});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::codec);
    EXPECT_NE(std::string(e.what()).find("flac"), std::string::npos);
  }
}

TEST(Flac, UnsupportedWidthOrRateIsACodecError) {
  // The last one fails inside libFLAC's init, after the encoder exists (the sanitizer build checks for leaks).
  for (const SymbolFormat format : {SymbolFormat{12, ByteOrder::msb, 16000}, SymbolFormat{8, ByteOrder::msb, 0},
                                    SymbolFormat{8, ByteOrder::msb, 2000000}}) {
    try {
      make_compressor("flac")->compress(Bytes(4, 0), format);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::codec);
    }
  }
}

}  // namespace
}  // namespace lmac
