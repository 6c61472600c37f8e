// lzma as the reference runs it (Python's lzma.compress(x)): the xz container, preset 6 (LZMA2), CRC64 check.
#include <lzma.h>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

class LzmaCompressor : public Compressor {
 public:
  std::string_view name() const override { return "lzma"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    lzma_stream strm = LZMA_STREAM_INIT;
    lzma_ret rc = lzma_easy_encoder(&strm, 6, LZMA_CHECK_CRC64);
    if (rc != LZMA_OK) throw_error(ErrorCode::codec, "lzma: lzma_easy_encoder failed ({})", int(rc));
    struct End {
      lzma_stream* s;
      ~End() { lzma_end(s); }
    } end{&strm};
    Bytes out(lzma_stream_buffer_bound(data.size()));
    strm.next_in = data.data();
    strm.avail_in = data.size();
    strm.next_out = out.data();
    strm.avail_out = out.size();
    rc = lzma_code(&strm, LZMA_FINISH);
    if (rc != LZMA_STREAM_END) throw_error(ErrorCode::codec, "lzma: lzma_code failed ({})", int(rc));
    out.resize(strm.total_out);
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_lzma_compressor() { return std::make_unique<LzmaCompressor>(); }

}  // namespace lmac
