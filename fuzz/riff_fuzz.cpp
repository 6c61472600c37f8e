// The RIFF/WAVE structure check sees every byte of every WAV file lmac reads.
#include <cstddef>
#include <cstdint>

#include "audio/riff_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The declared file size may exceed what we hold, as it does for the head of a large file.
  for (uint64_t extra : {uint64_t{0}, uint64_t{1} << 20}) {
    (void)lmac::find_riff_problem(lmac::ByteView(data, size), size + extra);
  }
  return 0;
}
