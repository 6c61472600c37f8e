// WavPack as `wavpack -hh -x6 -r` runs it on a mono WAV: very high quality mode with extra processing level 6, on
// the true waveform (see waveform.hpp), one mono channel at the stream's width and the file's rate. Like the CLI,
// the file holds the RIFF header libwavpack generates (80 bytes) and the "wav" extension, so that it unpacks to a
// WAV; the sizes equal the CLI's byte for byte.
#include <wavpack/wavpack.h>

#include <climits>

#include "codecs/builtin.hpp"
#include "codecs/waveform.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

int on_block(void* sink, void* data, int32_t size) {
  try {
    Bytes& out = *static_cast<Bytes*>(sink);
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    out.insert(out.end(), bytes, bytes + size);
    return 1;
  } catch (...) {  // no exception may cross libwavpack's C frames
    return 0;
  }
}

class WavpackCompressor : public Compressor {
 public:
  std::string_view name() const override { return "wavpack"; }

  Bytes compress(ByteView data, const SymbolFormat& format) const override {
    std::vector<int32_t> samples = true_waveform(data, format, "wavpack");
    if (samples.size() > UINT_MAX) throw_error(ErrorCode::codec, "wavpack: too many samples ({})", samples.size());
    Bytes out;
    struct Closer {
      WavpackContext* wpc;
      ~Closer() { WavpackCloseFile(wpc); }
    } context{WavpackOpenFileOutput(on_block, &out, nullptr)};
    if (!context.wpc) throw_error(ErrorCode::codec, "wavpack: cannot open an encoder");
    WavpackContext* wpc = context.wpc;

    WavpackConfig config{};
    config.bits_per_sample = format.bits;
    config.bytes_per_sample = format.bytes_per_sample();
    config.num_channels = 1;
    config.channel_mask = 0x4;  // front centre, as the CLI gives a mono WAV
    config.sample_rate = format.sample_rate;
    config.flags = CONFIG_HIGH_FLAG | CONFIG_VERY_HIGH_FLAG | CONFIG_EXTRA_MODE;  // -hh -x6
    config.xmode = 6;
    WavpackSetFileInformation(wpc, const_cast<char*>("wav"), WP_FORMAT_WAV);  // as the CLI records its input
    if (!WavpackSetConfiguration64(wpc, &config, int64_t(samples.size()), nullptr) || !WavpackPackInit(wpc) ||
        !WavpackPackSamples(wpc, samples.data(), uint32_t(samples.size())) || !WavpackFlushSamples(wpc)) {
      throw_error(ErrorCode::codec, "wavpack: {}", WavpackGetErrorMessage(wpc));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_wavpack_compressor() { return std::make_unique<WavpackCompressor>(); }

}  // namespace lmac
