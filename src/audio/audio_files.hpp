// Finding the audio under a directory.
#pragma once

#include <string>
#include <vector>

namespace lmac {

// Every regular file below `dir`, recursively, in sorted path order. Throws lmac::Error if `dir` is not a
// readable directory.
std::vector<std::string> list_files_sorted(const std::string& dir);

}  // namespace lmac
