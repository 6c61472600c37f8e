// Errors that reach the user. Every failure lmac reports is an lmac::Error: a readable code plus one
// precise message naming the file, field or flag at fault. The program maps it to a non-zero exit.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace lmac {

enum class ErrorCode {
  usage,            // a bad flag or flag combination
  io,               // a file that cannot be opened, read or written
  bad_audio,        // an audio file that is corrupt, truncated or of an unsupported kind
  no_audio,         // a directory without audio
  bad_model,        // a checkpoint that is missing, malformed or inconsistent
  unsupported,      // valid input that lmac does not handle (yet)
  corrupt_stream,   // damaged compressed data
  mismatch,         // model, flags or backend differ from what a file was made with
  codec,            // a codec library failed
  out_of_memory,
  internal,         // a bug in lmac
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// throw_error(ErrorCode::io, "cannot open {}: {}", path, strerror(errno));
template <typename... Args>
[[noreturn]] void throw_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace lmac
