// Temporary files that an interrupt must not leave behind. While a TemporaryFileGuard lives, its path is removed
// if SIGINT, SIGTERM or SIGHUP arrives; the signal then takes its usual course (the process ends with it). The
// owner still renames or removes the file itself in the normal course: the guard only covers interrupts.
#pragma once

#include <string>

namespace lmac {

class TemporaryFileGuard {
 public:
  explicit TemporaryFileGuard(const std::string& path);
  ~TemporaryFileGuard();
  TemporaryFileGuard(const TemporaryFileGuard&) = delete;
  TemporaryFileGuard& operator=(const TemporaryFileGuard&) = delete;

 private:
  int slot_ = -1;  // -1: not registered (all slots busy, or a path too long), so best effort only
};

}  // namespace lmac
