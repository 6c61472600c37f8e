// Writing outputs so that a failure never leaves a partial file: write to a temporary file in the same
// directory, fsync, then rename over the target. An interrupt (SIGINT, SIGTERM, SIGHUP) meanwhile removes the
// temporary file (util/temporary_files.hpp).
#pragma once

#include <string>
#include <string_view>

namespace lmac {

// Throws lmac::Error (io) naming the path on failure; the target is then untouched.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace lmac
