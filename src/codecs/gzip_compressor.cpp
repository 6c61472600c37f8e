// gzip as the reference runs it (Python's gzip.compress(x, 9)): raw deflate at level 9 in a gzip container.
// windowBits 31 = 15 plus 16 for the gzip wrapper; sizes equal Python's byte for byte (header 21 for b"\0").
#include <zlib.h>

#include <climits>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

class GzipCompressor : public Compressor {
 public:
  std::string_view name() const override { return "gzip"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    if (data.size() > UINT_MAX) throw_error(ErrorCode::codec, "gzip: input of {} bytes is too large", data.size());
    z_stream z{};
    int rc = deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) throw_error(ErrorCode::codec, "gzip: deflateInit2 failed ({})", rc);
    // deflateEnd must run on every path; the bound below makes a single Z_FINISH call sufficient.
    struct End {
      z_stream* z;
      ~End() { deflateEnd(z); }
    } end{&z};
    Bytes out(deflateBound(&z, uLong(data.size())));
    z.next_in = const_cast<Bytef*>(data.data());
    z.avail_in = uInt(data.size());
    z.next_out = out.data();
    z.avail_out = uInt(out.size());
    rc = deflate(&z, Z_FINISH);
    if (rc != Z_STREAM_END) throw_error(ErrorCode::codec, "gzip: deflate failed ({})", rc);
    out.resize(z.total_out);
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_gzip_compressor() { return std::make_unique<GzipCompressor>(); }

}  // namespace lmac
