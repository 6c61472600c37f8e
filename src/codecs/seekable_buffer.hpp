// An in-memory output file for encoders that go back to patch their headers when they finish (libFLAC rewrites
// STREAMINFO with the MD5 and sample count; ffmpeg's FLAC muxer does the same), so that the bytes equal those
// of the command-line tools writing to a real file.
#pragma once

#include <algorithm>
#include <cstring>

#include "util/bytes.hpp"

namespace lmac {

struct SeekableBuffer {
  Bytes bytes;
  size_t position = 0;

  void write(const uint8_t* data, size_t size) {
    if (position + size > bytes.size()) bytes.resize(position + size);
    std::memcpy(bytes.data() + position, data, size);
    position += size;
  }
  // Seeking past the end is allowed, as for a file; a later write fills the gap with zeros.
  void seek(size_t offset) { position = offset; }
};

}  // namespace lmac
