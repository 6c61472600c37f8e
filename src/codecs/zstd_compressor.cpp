// zstd at level 19 (the strongest level of the zstd CLI without --ultra), one frame with the content size.
#include <zstd.h>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

class ZstdCompressor : public Compressor {
 public:
  std::string_view name() const override { return "zstd"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    Bytes out(ZSTD_compressBound(data.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
    if (ZSTD_isError(n)) throw_error(ErrorCode::codec, "zstd: {}", ZSTD_getErrorName(n));
    out.resize(n);
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_zstd_compressor() { return std::make_unique<ZstdCompressor>(); }

}  // namespace lmac
