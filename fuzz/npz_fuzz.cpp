// The npz reader, the .npy parser and the restricted unpickler: everything a framework checkpoint passes
// through. The first byte picks the parser, so one corpus covers all three.
#include <cstddef>
#include <cstdint>

#include "model/npy_file.hpp"
#include "model/npz_archive.hpp"
#include "model/pickle_reader.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const lmac::ByteView in(data + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: lmac::unpickle_param_dict(in, "fuzz"); break;
      case 1: lmac::parse_npy(in, "fuzz"); break;
      default: lmac::read_npz_params(in, "fuzz");
    }
  } catch (const lmac::Error&) {
    // A precise error is the expected outcome for malformed input.
  }
  return 0;
}
