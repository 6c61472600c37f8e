// config.json of a Llama checkpoint, in both generations of field names.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/hf_config.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)lmac::parse_llama_config(std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
  } catch (const lmac::Error&) {
    // A precise error is the expected outcome for malformed input.
  }
  return 0;
}
