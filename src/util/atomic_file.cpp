#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.hpp"
#include "util/temporary_files.hpp"

namespace lmac {

void write_file_atomically(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) throw_error(ErrorCode::io, "{}: cannot create a temporary file in {}: {}", path, dir.string(), std::strerror(errno));
  const TemporaryFileGuard interrupt_guard(tmpl);  // an interrupt before the rename removes the temporary file
  auto fail = [&](const char* what) {
    int err = errno;
    close(fd);
    unlink(tmpl.c_str());
    throw_error(ErrorCode::io, "{}: {} failed: {}", path, what, std::strerror(err));
  };
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0644) != 0) fail("chmod");
  if (fsync(fd) != 0) fail("fsync");
  if (close(fd) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    throw_error(ErrorCode::io, "{}: close failed: {}", path, std::strerror(err));
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    throw_error(ErrorCode::io, "{}: rename failed: {}", path, std::strerror(err));
  }
}

}  // namespace lmac
