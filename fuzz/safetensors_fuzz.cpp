// The safetensors header: an 8-byte length, then JSON naming every tensor's dtype, shape and byte range.
#include <cstddef>
#include <cstdint>

#include "model/safetensors_header.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lmac::parse_safetensors_header(lmac::ByteView(data, size), "fuzz.safetensors");
  } catch (const lmac::Error&) {
    // A precise error is the expected outcome for malformed input.
  }
  return 0;
}
