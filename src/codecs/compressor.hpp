// A classic compressor behind one small interface: bytes of a symbol stream in, the complete
// compressed output (container, headers and all) out. The evaluation harness applies the reference
// protocol (chunking, header counted once) on top; a compressor knows nothing about it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"
#include "util/symbol_format.hpp"

namespace lmac {

class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual std::string_view name() const = 0;
  // Compresses `data`, a whole number of samples in `format`. Throws lmac::Error (ErrorCode::codec) on failure.
  virtual Bytes compress(ByteView data, const SymbolFormat& format) const = 0;
};

// The names make_compressor accepts, in the order `--help` lists them.
const std::vector<std::string>& compressor_names();

// Throws lmac::Error (ErrorCode::usage) for an unknown name, listing the valid ones.
std::unique_ptr<Compressor> make_compressor(std::string_view name);

}  // namespace lmac
