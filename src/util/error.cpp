#include "util/error.hpp"

namespace lmac {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::usage: return "usage";
    case ErrorCode::io: return "io";
    case ErrorCode::bad_audio: return "bad_audio";
    case ErrorCode::no_audio: return "no_audio";
    case ErrorCode::bad_model: return "bad_model";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::corrupt_stream: return "corrupt_stream";
    case ErrorCode::mismatch: return "mismatch";
    case ErrorCode::codec: return "codec";
    case ErrorCode::out_of_memory: return "out_of_memory";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

}  // namespace lmac
