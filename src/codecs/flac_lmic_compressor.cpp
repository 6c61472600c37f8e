// FLAC as the reference code runs it (SPEC-LMIC section 4): pydub's AudioSegment(data=chunk, sample_width=1,
// channels=1).export(format='flac', parameters=['-compression_level', '12']). pydub biases the bytes by +128
// into an unsigned 8-bit WAV (pydub takes 8-bit data as signed) and runs the ffmpeg CLI, which converts u8 to the
// FLAC encoder's s16 and muxes with ffmpeg's FLAC muxer. Mirrored here through the same libraries:
//   - byte b becomes the s16 sample int8(b) << 8 (the sign-wrapped waveform; exact, so no libswresample);
//   - libavcodec's FLAC encoder at compression_level 12, frames of the encoder's frame_size (1152 at 16 kHz);
//   - libavformat's FLAC muxer into memory: STREAMINFO (rewritten at the end, as for a file), a VORBIS_COMMENT
//     with vendor and "encoder" tag Lavf<version> as the CLI writes, and the 8192-byte PADDING block.
// The rate is format.sample_rate (the reference hard-codes 16000; at 16 kHz the two agree).
// 16-bit mode, which the reference never ran: pydub's sample_width=2 semantics, i.e. each pair of stream bytes
// is read as a little-endian signed int16, whatever format.byte_order says - again the stream as pydub would
// see it, not the true waveform.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
}

#include "codecs/builtin.hpp"
#include "codecs/seekable_buffer.hpp"
#include "codecs/waveform.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

constexpr int kCompressionLevel = 12;
constexpr int kIoBufferSize = 1 << 16;

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = "";
  av_strerror(code, text, sizeof text);
  return text;
}

[[noreturn]] void fail(const char* what, int code) {
  throw_error(ErrorCode::codec, "flac-lmic: {}: {}", what, av_error(code));
}

// The signed 16-bit samples the reference's ffmpeg run encodes.
std::vector<int16_t> reference_samples(ByteView data, const SymbolFormat& format) {
  check_audio_format(data, format, "flac-lmic");
  std::vector<int16_t> samples(data.size() / format.bytes_per_sample());
  if (format.bits == 8) {
    for (size_t i = 0; i < samples.size(); ++i) samples[i] = int16_t(int8_t(data[i]) * 256);
  } else {
    for (size_t i = 0; i < samples.size(); ++i) samples[i] = int16_t(uint16_t(data[2 * i] | data[2 * i + 1] << 8));
  }
  return samples;
}

#if LIBAVFORMAT_VERSION_MAJOR >= 61
int on_write(void* sink, const uint8_t* buffer, int size) {
#else
int on_write(void* sink, uint8_t* buffer, int size) {
#endif
  try {
    static_cast<SeekableBuffer*>(sink)->write(buffer, size_t(size));
    return size;
  } catch (...) {  // no exception may cross libavformat's C frames
    return AVERROR(ENOMEM);
  }
}

int64_t on_seek(void* opaque, int64_t offset, int whence) {
  auto* sink = static_cast<SeekableBuffer*>(opaque);
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return int64_t(sink->bytes.size());
    case SEEK_SET: break;
    case SEEK_CUR: offset += int64_t(sink->position); break;
    case SEEK_END: offset += int64_t(sink->bytes.size()); break;
    default: return AVERROR(EINVAL);
  }
  if (offset < 0) return AVERROR(EINVAL);
  sink->seek(size_t(offset));
  return offset;
}

// Owners of the libav objects, so that every exit frees them.
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FormatContextDeleter {
  void operator()(AVFormatContext* f) const { avformat_free_context(f); }
};
struct IoContextDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

class FlacLmicCompressor : public Compressor {
 public:
  FlacLmicCompressor() {
    static std::once_flag quiet;
    std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  }

  std::string_view name() const override { return "flac-lmic"; }

  Bytes compress(ByteView data, const SymbolFormat& format) const override {
    const std::vector<int16_t> samples = reference_samples(data, format);

    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_FLAC);
    if (!codec) throw_error(ErrorCode::codec, "flac-lmic: libavcodec has no FLAC encoder");
    std::unique_ptr<AVCodecContext, CodecContextDeleter> encoder(avcodec_alloc_context3(codec));
    if (!encoder) throw_error(ErrorCode::codec, "flac-lmic: cannot allocate an encoder");
    AVCodecContext* enc = encoder.get();
    enc->sample_fmt = AV_SAMPLE_FMT_S16;
    enc->sample_rate = format.sample_rate;
    enc->time_base = AVRational{1, format.sample_rate};
    av_channel_layout_default(&enc->ch_layout, 1);
    enc->bits_per_raw_sample = format.bits;  // what the CLI passes on from the WAV decoder
    enc->compression_level = kCompressionLevel;
    int rc = avcodec_open2(enc, codec, nullptr);
    if (rc < 0) {
      throw_error(ErrorCode::codec, "flac-lmic: cannot open the FLAC encoder at {} Hz: {}", format.sample_rate,
                  av_error(rc));
    }

    std::unique_ptr<AVFormatContext, FormatContextDeleter> muxer;
    {
      AVFormatContext* raw = nullptr;
      rc = avformat_alloc_output_context2(&raw, nullptr, "flac", nullptr);
      if (rc < 0) fail("cannot create the FLAC muxer", rc);
      muxer.reset(raw);
    }
    AVFormatContext* mux = muxer.get();
    SeekableBuffer sink;
    auto* io_buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
    if (!io_buffer) throw_error(ErrorCode::codec, "flac-lmic: out of memory");
    std::unique_ptr<AVIOContext, IoContextDeleter> io(
        avio_alloc_context(io_buffer, kIoBufferSize, /*write_flag=*/1, &sink, nullptr, on_write, on_seek));
    if (!io) {
      av_free(io_buffer);
      throw_error(ErrorCode::codec, "flac-lmic: out of memory");
    }
    io->seekable = AVIO_SEEKABLE_NORMAL;  // the muxer rewrites STREAMINFO at the end, as for a file
    mux->pb = io.get();
    mux->flags |= AVFMT_FLAG_CUSTOM_IO;

    AVStream* stream = avformat_new_stream(mux, nullptr);
    if (!stream) throw_error(ErrorCode::codec, "flac-lmic: cannot add a stream");
    rc = avcodec_parameters_from_context(stream->codecpar, enc);
    if (rc < 0) fail("cannot set the stream parameters", rc);
    stream->time_base = enc->time_base;
    av_dict_set(&mux->metadata, "encoder", LIBAVFORMAT_IDENT, 0);  // the ffmpeg CLI adds this tag
    rc = avformat_write_header(mux, nullptr);
    if (rc < 0) fail("cannot write the FLAC header", rc);

    std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
    if (!packet || !frame) throw_error(ErrorCode::codec, "flac-lmic: out of memory");
    auto drain = [&] {
      for (;;) {
        int r = avcodec_receive_packet(enc, packet.get());
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
        if (r < 0) fail("encoding failed", r);
        av_packet_rescale_ts(packet.get(), enc->time_base, stream->time_base);
        packet->stream_index = stream->index;
        r = av_write_frame(mux, packet.get());
        av_packet_unref(packet.get());
        if (r < 0) fail("cannot write a FLAC frame", r);
      }
    };
    // The CLI feeds the encoder whole frames of frame_size samples, the last one shorter.
    const size_t frame_size = enc->frame_size > 0 ? size_t(enc->frame_size) : 4096;
    for (size_t start = 0; start < samples.size(); start += frame_size) {
      const size_t count = std::min(frame_size, samples.size() - start);
      av_frame_unref(frame.get());
      frame->nb_samples = int(count);
      frame->format = enc->sample_fmt;
      frame->sample_rate = enc->sample_rate;
      rc = av_channel_layout_copy(&frame->ch_layout, &enc->ch_layout);
      if (rc < 0) fail("cannot set the channel layout", rc);
      rc = av_frame_get_buffer(frame.get(), 0);
      if (rc < 0) fail("cannot allocate a frame", rc);
      std::memcpy(frame->data[0], samples.data() + start, count * sizeof(int16_t));
      frame->pts = int64_t(start);
      rc = avcodec_send_frame(enc, frame.get());
      if (rc < 0) fail("encoding failed", rc);
      drain();
    }
    rc = avcodec_send_frame(enc, nullptr);  // flush; the last packet carries the final STREAMINFO
    if (rc < 0) fail("encoding failed", rc);
    drain();
    rc = av_write_trailer(mux);
    if (rc < 0) fail("cannot finish the FLAC file", rc);
    avio_flush(io.get());
    return std::move(sink.bytes);
  }
};

}  // namespace

std::unique_ptr<Compressor> make_flac_lmic_compressor() { return std::make_unique<FlacLmicCompressor>(); }

}  // namespace lmac
