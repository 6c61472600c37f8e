#include "audio/riff_check.hpp"

#include <fmt/format.h>

#include <cstring>

namespace lmac {

namespace {

uint32_t read_le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }

}  // namespace

std::optional<std::string> find_riff_problem(ByteView head, uint64_t file_size) {
  if (head.size() < 12 || std::memcmp(head.data(), "RIFF", 4) != 0 || std::memcmp(head.data() + 8, "WAVE", 4) != 0) {
    return std::nullopt;  // not RIFF/WAVE: nothing to say
  }
  bool seen_fmt = false;
  uint64_t pos = 12;
  while (pos + 8 <= file_size) {
    if (pos + 8 > head.size()) return std::nullopt;  // beyond what we hold: libsndfile checks the rest
    const uint8_t* chunk = head.data() + pos;
    std::string id(reinterpret_cast<const char*>(chunk), 4);
    uint64_t size = read_le32(chunk + 4);
    if (id == "fmt ") seen_fmt = true;
    if (id == "data") {
      if (!seen_fmt) return std::string("'data' chunk before the 'fmt ' chunk");
      // RF64-style placeholders (0xFFFFFFFF) and streaming writers (0) leave the size open.
      if (size != 0xFFFFFFFFu && size != 0 && pos + 8 + size > file_size) {
        return fmt::format("truncated: the 'data' chunk declares {} bytes but only {} remain", size,
                           file_size - pos - 8);
      }
      return std::nullopt;
    }
    if (pos + 8 + size > file_size) {
      return fmt::format("corrupt or truncated: chunk '{}' at byte {} declares {} bytes but only {} remain", id, pos, size,
                         file_size - pos - 8);
    }
    pos += 8 + size + (size & 1);  // chunks are padded to even sizes
  }
  return std::string("no 'data' chunk");
}

}  // namespace lmac
