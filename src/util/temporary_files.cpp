#include "util/temporary_files.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <mutex>

namespace lmac {

namespace {

// Fixed storage the signal handler can read without allocating: it may run at any point of the program.
constexpr int kSlots = 32;
constexpr size_t kPathBytes = 4096;
char paths[kSlots][kPathBytes];
volatile std::sig_atomic_t in_use[kSlots];
std::mutex slots_mutex;  // between threads registering; the handler only reads

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temporary_files(int signal) {
  for (int i = 0; i < kSlots; ++i)
    if (in_use[i]) unlink(paths[i]);  // async-signal-safe
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int s : kSignals) {
      struct sigaction action {};
      struct sigaction previous {};
      sigaction(s, nullptr, &previous);
      if (previous.sa_handler == SIG_IGN) continue;  // a signal the caller chose to ignore stays ignored
      action.sa_handler = remove_temporary_files;
      sigemptyset(&action.sa_mask);
      sigaction(s, &action, nullptr);
    }
  });
}

}  // namespace

TemporaryFileGuard::TemporaryFileGuard(const std::string& path) {
  install_handlers();
  if (path.size() >= kPathBytes) return;
  std::lock_guard<std::mutex> lock(slots_mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (in_use[i]) continue;
    std::memcpy(paths[i], path.c_str(), path.size() + 1);  // the path is complete before the slot counts
    in_use[i] = 1;
    slot_ = i;
    return;
  }
}

TemporaryFileGuard::~TemporaryFileGuard() {
  if (slot_ < 0) return;
  std::lock_guard<std::mutex> lock(slots_mutex);
  in_use[slot_] = 0;
}

}  // namespace lmac
