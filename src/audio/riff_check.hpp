// A structural check of RIFF/WAVE files. libsndfile quietly shortens a WAV whose data chunk claims more
// bytes than the file holds; a lossless tool must instead report the file as truncated.
#pragma once

#include <optional>
#include <string>

#include "util/bytes.hpp"

namespace lmac {

// Returns a description of the first structural problem of a RIFF/WAVE file whose first bytes and total
// size are given, or std::nullopt if the chunk layout is consistent. `head` must hold at least the first
// 64 KiB of the file (or all of it); chunks beyond it are only checked for their declared sizes when the
// header of each chunk lies inside `head`.
std::optional<std::string> find_riff_problem(ByteView head, uint64_t file_size);

}  // namespace lmac
