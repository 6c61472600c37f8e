#include "eval/protocol.hpp"

namespace lmac {

double chunked_ratio_header_once(uint64_t compressed_bytes, uint64_t raw_bytes, uint64_t header_bytes,
                                 uint64_t num_chunks) {
  const double compressed = static_cast<double>(compressed_bytes) -
                            static_cast<double>(header_bytes) * static_cast<double>(num_chunks - 1);
  return compressed / static_cast<double>(raw_bytes);
}

double masked_ratio(double compressed_bytes, uint64_t raw_bytes, uint64_t missed_bits, uint64_t num_chunks,
                    uint64_t chunk_size) {
  const double total_bits = 8.0 * static_cast<double>(num_chunks) * static_cast<double>(chunk_size);
  return compressed_bytes * (total_bits / (total_bits - static_cast<double>(missed_bits))) /
         static_cast<double>(raw_bytes);
}

}  // namespace lmac
