#include "audio/audio_files.hpp"

#include <algorithm>
#include <filesystem>

#include "util/error.hpp"

namespace lmac {

std::vector<std::string> list_files_sorted(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (!fs::exists(dir, ec)) throw_error(ErrorCode::io, "--audio_dir {}: no such directory", dir);
    throw_error(ErrorCode::io, "--audio_dir {}: not a directory", dir);
  }
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec);
  if (ec) throw_error(ErrorCode::io, "--audio_dir {}: cannot list: {}", dir, ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw_error(ErrorCode::io, "--audio_dir {}: cannot list: {}", dir, ec.message());
    // Dangling links are kept so that they are reported as unreadable rather than silently skipped.
    if (it->is_regular_file(ec) || it->is_symlink(ec)) {
      if (!it->is_directory(ec)) files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace lmac
