// FLAC as an audio engineer runs it: libFLAC at -8 on the true waveform (see waveform.hpp), one mono channel at
// the file's rate, no padding, no seek table. libFLAC always writes a VORBIS_COMMENT block holding its vendor
// string, as `flac -8 --no-padding --no-seektable` does, so the sizes equal the CLI's.
#include <FLAC/stream_encoder.h>

#include <memory>

#include "codecs/builtin.hpp"
#include "codecs/seekable_buffer.hpp"
#include "codecs/waveform.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

struct EncoderDeleter {
  void operator()(FLAC__StreamEncoder* e) const { FLAC__stream_encoder_delete(e); }
};

FLAC__StreamEncoderWriteStatus on_write(const FLAC__StreamEncoder*, const FLAC__byte buffer[], size_t bytes,
                                        uint32_t, uint32_t, void* sink) {
  try {
    static_cast<SeekableBuffer*>(sink)->write(buffer, bytes);
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
  } catch (...) {  // no exception may cross libFLAC's C frames
    return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
  }
}

FLAC__StreamEncoderSeekStatus on_seek(const FLAC__StreamEncoder*, FLAC__uint64 offset, void* sink) {
  static_cast<SeekableBuffer*>(sink)->seek(offset);
  return FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
}

FLAC__StreamEncoderTellStatus on_tell(const FLAC__StreamEncoder*, FLAC__uint64* offset, void* sink) {
  *offset = static_cast<SeekableBuffer*>(sink)->position;
  return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
}

class FlacCompressor : public Compressor {
 public:
  std::string_view name() const override { return "flac"; }

  Bytes compress(ByteView data, const SymbolFormat& format) const override {
    const std::vector<int32_t> samples = true_waveform(data, format, "flac");
    std::unique_ptr<FLAC__StreamEncoder, EncoderDeleter> encoder(FLAC__stream_encoder_new());
    if (!encoder) throw_error(ErrorCode::codec, "flac: cannot allocate an encoder");
    FLAC__StreamEncoder* e = encoder.get();
    bool ok = FLAC__stream_encoder_set_channels(e, 1) && FLAC__stream_encoder_set_bits_per_sample(e, format.bits) &&
              FLAC__stream_encoder_set_sample_rate(e, unsigned(format.sample_rate)) &&
              FLAC__stream_encoder_set_compression_level(e, 8) &&
              FLAC__stream_encoder_set_total_samples_estimate(e, samples.size());
    if (!ok) throw_error(ErrorCode::codec, "flac: cannot configure the encoder");

    SeekableBuffer sink;
    const FLAC__StreamEncoderInitStatus init =
        FLAC__stream_encoder_init_stream(e, on_write, on_seek, on_tell, /*metadata_callback=*/nullptr, &sink);
    if (init != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
      throw_error(ErrorCode::codec, "flac: {} ({} Hz, {} bits)", FLAC__StreamEncoderInitStatusString[init],
                  format.sample_rate, format.bits);
    }
    if (!samples.empty() && !FLAC__stream_encoder_process_interleaved(e, samples.data(), unsigned(samples.size()))) {
      const char* state = FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(e)];
      FLAC__stream_encoder_finish(e);  // frees the encoder's buffers; the result no longer matters
      throw_error(ErrorCode::codec, "flac: {}", state);
    }
    // finish() flushes the last frame and seeks back to complete STREAMINFO.
    if (!FLAC__stream_encoder_finish(e)) {
      throw_error(ErrorCode::codec, "flac: {}", FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(e)]);
    }
    return std::move(sink.bytes);
  }
};

}  // namespace

std::unique_ptr<Compressor> make_flac_compressor() { return std::make_unique<FlacCompressor>(); }

}  // namespace lmac
