// The reference protocol's ratio formulas (SPEC-LMIC.md section 3), with num_chunks the number of chunks
// actually evaluated and chunk_size the actual chunk size (DESIGN.md section 2).
#pragma once

#include <cstdint>

namespace lmac {

// Classic compressors, chunked: the container header is counted once, not once per chunk.
// header_bytes is the whole output for a single zero sample.
double chunked_ratio_header_once(uint64_t compressed_bytes, uint64_t raw_bytes, uint64_t header_bytes,
                                 uint64_t num_chunks);

// Language models under the reference's right-shift mask: the size is scaled by
// total_bits / (total_bits - missed_bits), with total_bits = 8 * num_chunks * chunk_size.
double masked_ratio(double compressed_bytes, uint64_t raw_bytes, uint64_t missed_bits, uint64_t num_chunks,
                    uint64_t chunk_size);

}  // namespace lmac
