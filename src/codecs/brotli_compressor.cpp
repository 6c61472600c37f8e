// brotli at quality 11 with the large-window extension (lgwin 30), its strongest setting. The output needs a
// decoder that enables BROTLI_DECODER_PARAM_LARGE_WINDOW (`brotli --large_window=30` on the command line).
// On 2048-byte chunks the window is irrelevant; it matters only for the unchunked run.
#include <brotli/encode.h>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

constexpr int kQuality = 11;
constexpr int kLgWin = 30;

class BrotliCompressor : public Compressor {
 public:
  std::string_view name() const override { return "brotli"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    // The one-shot call switches on BROTLI_PARAM_LARGE_WINDOW itself for lgwin > 24.
    Bytes out(BrotliEncoderMaxCompressedSize(data.size()) + 16);
    size_t out_size = out.size();
    if (!BrotliEncoderCompress(kQuality, kLgWin, BROTLI_MODE_GENERIC, data.size(), data.data(), &out_size,
                               out.data())) {
      throw_error(ErrorCode::codec, "brotli: BrotliEncoderCompress failed on {} bytes", data.size());
    }
    out.resize(out_size);
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_brotli_compressor() { return std::make_unique<BrotliCompressor>(); }

}  // namespace lmac
