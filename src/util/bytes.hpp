// Byte buffers shared by every layer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace lmac {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

}  // namespace lmac
