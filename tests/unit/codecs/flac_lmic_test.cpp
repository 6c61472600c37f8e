// flac-lmic (the reference's pydub + ffmpeg FLAC): libavformat's demuxer and libavcodec's FLAC decoder turn the
// output back into the reference's sign-wrapped waveform, int8(b) << 8, and the file carries the ffmpeg muxer's
// 8192-byte padding, so that the header is the reference's 8300 bytes.
#include <gtest/gtest.h>

#include <cstring>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "codecs/compressor.hpp"
#include "test_inputs.hpp"
#include "util/error.hpp"

namespace lmac {
namespace {

using test::speech_like;

struct Memory {
  const Bytes* bytes;
  size_t position = 0;
};

int read_packet(void* opaque, uint8_t* buffer, int size) {
  auto* m = static_cast<Memory*>(opaque);
  const size_t n = std::min(size_t(size), m->bytes->size() - m->position);
  if (n == 0) return AVERROR_EOF;
  std::memcpy(buffer, m->bytes->data() + m->position, n);
  m->position += n;
  return int(n);
}

int64_t seek(void* opaque, int64_t offset, int whence) {
  auto* m = static_cast<Memory*>(opaque);
  if (whence == AVSEEK_SIZE) return int64_t(m->bytes->size());
  const int64_t base = whence == SEEK_CUR ? int64_t(m->position) : whence == SEEK_END ? int64_t(m->bytes->size()) : 0;
  m->position = size_t(base + offset);
  return int64_t(m->position);
}

struct Decoded {
  std::vector<int16_t> samples;
  int sample_rate = 0, bits_per_raw_sample = 0;
};

Decoded decode(const Bytes& flac) {
  Decoded out;
  Memory memory{&flac};
  const int buffer_size = 4096;
  auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_size));
  AVIOContext* io = avio_alloc_context(buffer, buffer_size, 0, &memory, read_packet, nullptr, seek);
  AVFormatContext* format = avformat_alloc_context();
  format->pb = io;
  EXPECT_EQ(avformat_open_input(&format, nullptr, av_find_input_format("flac"), nullptr), 0);
  EXPECT_GE(avformat_find_stream_info(format, nullptr), 0);
  const AVCodecParameters* par = format->streams[0]->codecpar;
  EXPECT_EQ(par->codec_id, AV_CODEC_ID_FLAC);
  out.sample_rate = par->sample_rate;
  out.bits_per_raw_sample = par->bits_per_raw_sample;
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_FLAC);
  AVCodecContext* decoder = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(decoder, par);
  EXPECT_EQ(avcodec_open2(decoder, codec, nullptr), 0);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  auto receive = [&] {
    while (avcodec_receive_frame(decoder, frame) == 0) {
      EXPECT_EQ(frame->format, AV_SAMPLE_FMT_S16);
      const auto* s = reinterpret_cast<const int16_t*>(frame->data[0]);
      out.samples.insert(out.samples.end(), s, s + frame->nb_samples);
    }
  };
  while (av_read_frame(format, packet) == 0) {
    EXPECT_EQ(avcodec_send_packet(decoder, packet), 0);
    av_packet_unref(packet);
    receive();
  }
  avcodec_send_packet(decoder, nullptr);
  receive();
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&decoder);
  avformat_close_input(&format);
  av_freep(&io->buffer);
  avio_context_free(&io);
  return out;
}

TEST(FlacLmic, EightBitStreamDecodesToTheSignWrappedWaveform) {
  Bytes input = speech_like(5000, 1);  // more than one 1152-sample frame, the last one shorter
  input[0] = 0, input[1] = 127, input[2] = 128, input[3] = 255;
  const Decoded out = decode(make_compressor("flac-lmic")->compress(input, SymbolFormat{8, ByteOrder::msb, 16000}));
  ASSERT_EQ(out.samples.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) ASSERT_EQ(out.samples[i], int8_t(input[i]) * 256) << i;
  EXPECT_EQ(out.sample_rate, 16000);
  EXPECT_EQ(out.bits_per_raw_sample, 16);  // ffmpeg encodes the u8 WAV as s16
}

TEST(FlacLmic, UsesTheFilesSampleRate) {
  const Decoded out = decode(make_compressor("flac-lmic")->compress(speech_like(3000, 2), {8, ByteOrder::msb, 44100}));
  EXPECT_EQ(out.sample_rate, 44100);
  EXPECT_EQ(out.samples.size(), 3000u);
}

TEST(FlacLmic, SixteenBitStreamIsReadAsLittleEndianSignedLikePydub) {
  const Bytes input = speech_like(4096, 3);
  for (const ByteOrder order : {ByteOrder::msb, ByteOrder::lsb}) {  // pydub knows no byte order
    const Decoded out = decode(make_compressor("flac-lmic")->compress(input, SymbolFormat{16, order, 16000}));
    ASSERT_EQ(out.samples.size(), input.size() / 2);
    for (size_t i = 0; i < out.samples.size(); ++i) {
      ASSERT_EQ(out.samples[i], int16_t(uint16_t(input[2 * i] | input[2 * i + 1] << 8))) << i;
    }
  }
}

TEST(FlacLmic, RateTheEncoderRefusesIsACodecError) {
  try {
    make_compressor("flac-lmic")->compress(speech_like(100, 4), SymbolFormat{8, ByteOrder::msb, 2000000});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::codec);
    EXPECT_NE(std::string(e.what()).find("flac-lmic"), std::string::npos);
  }
}

TEST(FlacLmic, HeaderOfOneZeroByteMatchesTheReference) {
  EXPECT_EQ(make_compressor("flac-lmic")->compress(Bytes{0}, {}).size(), 8300u);  // SPEC-LMIC section 4
}

TEST(FlacLmic, WritesTheMuxersMetadataAndPadding) {
  const Bytes out = make_compressor("flac-lmic")->compress(Bytes{0}, {});
  ASSERT_GT(out.size(), 8u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 4), "fLaC");
  // Walk the metadata blocks: STREAMINFO, VORBIS_COMMENT, then the last one, PADDING of 8192 bytes.
  std::vector<std::pair<int, size_t>> blocks;
  size_t at = 4;
  for (bool last = false; !last && at + 4 <= out.size();) {
    last = out[at] & 0x80;
    const size_t length = size_t(out[at + 1]) << 16 | size_t(out[at + 2]) << 8 | out[at + 3];
    blocks.emplace_back(out[at] & 0x7f, length);
    at += 4 + length;
  }
  EXPECT_EQ(blocks, (std::vector<std::pair<int, size_t>>{{0, 34}, {4, 46}, {1, 8192}}));
}

}  // namespace
}  // namespace lmac
