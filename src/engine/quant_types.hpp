// The tensor types of ggml (llama.cpp's tensor library), as GGUF files number them. A quantized type stores a row
// as blocks: `block_size` weights packed into `type_size` bytes. lmac dequantizes eleven of them
// (quant_dequantize.hpp); the others are known by name so that an error can say which type a file uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lmac {

// Numbering from ggml.h (enum ggml_type); the gaps (4, 5, 31..33, 36..38) are types ggml has removed.
enum class GgmlType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
  i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30, tq1_0 = 34, tq2_0 = 35,
  mxfp4 = 39, nvfp4 = 40, q1_0 = 41,
};

struct GgmlTypeTraits {
  const char* name;     // as ggml prints it: "F32", "Q4_K", ...
  int block_size;       // weights per block (1 for plain types)
  int type_size;        // bytes per block
  bool dequantizable;   // lmac has a dequantization kernel for it
};

// The traits of a type id read from a file, or nullptr when ggml has no such type.
const GgmlTypeTraits* ggml_type_traits(uint32_t id);

// The traits of a known type.
const GgmlTypeTraits& ggml_traits(GgmlType type);

inline const char* ggml_type_name(GgmlType type) { return ggml_traits(type).name; }

// "F32, F16, BF16, Q8_0, ..." for messages.
std::string ggml_dequantizable_type_list();

// Bytes of a row of `n` weights; n must be a multiple of the block size.
inline size_t ggml_row_bytes(GgmlType type, int64_t n) {
  const GgmlTypeTraits& t = ggml_traits(type);
  return size_t(n / t.block_size) * size_t(t.type_size);
}

}  // namespace lmac
