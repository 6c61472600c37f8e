// The .lmac reader and decoder see every byte of a file a user hands to `lmac decompress`.
// Each input is read twice: as it is (the header checksum turns almost every mutation away, as it should), and
// with the header and payload checksums off, so that the fuzzer reaches the field parsing, the value checks,
// the arithmetic decoder, raw-bit unpacking and sample reassembly behind them. The decoder runs with the
// test: stand-in model of the file's alphabet (the file's model fields are set to match it).
#include <cstddef>
#include <cstdint>

#include "coding/lmac_format.hpp"
#include "eval/file_codec.hpp"
#include "eval/file_codec_test_model.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const lmac::ByteView file(data, size);
  try {
    (void)lmac::read_lmac(file);
  } catch (const lmac::Error&) {
  }
  try {
    lmac::LmacFile parsed = lmac::read_lmac(file, {.check_header_checksum = false});
    lmac::LmacCoding& c = parsed.header.coding;
    const uint64_t samples = parsed.header.audio.frames * parsed.header.audio.channels;
    if (samples > (1u << 14) || static_cast<uint64_t>(c.alphabet_size) * samples > (1u << 22)) return 0;  // time
    lmac::ModelOptions options;
    options.byte_mapping = c.alphabet_size == 128 ? "ascii" : "bytes";
    auto model = lmac::make_test_model(c.alphabet_size == 65536 ? "test:order0-65536" : "test:order1", options);
    c.model_fingerprint = model->info().fingerprint;
    c.kernel_id = model->exact_scorer()->kernel_id();
    c.fingerprint = lmac::coding_fingerprint(c);
    lmac::DecodeOptions decode;
    decode.threads = 1;
    decode.check_payload_checksums = false;
    (void)lmac::decompress_lmac(file, parsed, *model, decode, "fuzz.lmac");
  } catch (const lmac::Error&) {
  }
  return 0;
}
