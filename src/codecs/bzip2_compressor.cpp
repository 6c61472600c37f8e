// bzip2 -9: 900 kB blocks, default work factor.
#include <bzlib.h>

#include <climits>

#include "codecs/builtin.hpp"
#include "util/error.hpp"

namespace lmac {

namespace {

class Bzip2Compressor : public Compressor {
 public:
  std::string_view name() const override { return "bzip2"; }

  Bytes compress(ByteView data, const SymbolFormat&) const override {
    // bzlib's documented bound: 1% more than the input plus 600 bytes.
    const size_t bound = data.size() + data.size() / 100 + 600;
    if (bound > UINT_MAX) throw_error(ErrorCode::codec, "bzip2: input of {} bytes is too large", data.size());
    Bytes out(bound);
    unsigned int out_size = unsigned(bound);
    const int rc = BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &out_size,
                                            const_cast<char*>(reinterpret_cast<const char*>(data.data())),
                                            unsigned(data.size()), /*blockSize100k=*/9, /*verbosity=*/0,
                                            /*workFactor=*/0);
    if (rc != BZ_OK) throw_error(ErrorCode::codec, "bzip2: BZ2_bzBuffToBuffCompress failed ({})", rc);
    out.resize(out_size);
    return out;
  }
};

}  // namespace

std::unique_ptr<Compressor> make_bzip2_compressor() { return std::make_unique<Bzip2Compressor>(); }

}  // namespace lmac
