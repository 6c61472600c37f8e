// The GGUF parser sees every byte of a .gguf header before anything else does: header, metadata, tensor infos,
// then the Llama hyperparameters and vocabulary read from them, and the first row of every tensor. Any input
// must end in a result or an lmac::Error, never a crash or a read out of bounds.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/quant_dequantize.hpp"
#include "model/gguf_format.hpp"
#include "model/gguf_llama.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lmac::GgufHeader h = lmac::parse_gguf(lmac::ByteView(data, size), "fuzz.gguf");
    std::vector<float> row;
    for (const lmac::GgufTensorInfo& t : h.tensors) {
      if (!lmac::ggml_traits(t.type).dequantizable || t.ne[0] > (1 << 16)) continue;
      row.resize(size_t(t.ne[0]));
      lmac::dequantize_row(t.type, t.data, row.data(), t.ne[0]);
    }
    try {
      (void)lmac::gguf_llama_config(h);
    } catch (const lmac::Error&) {
    }
    (void)lmac::gguf_tokenizer_vocab(h);
  } catch (const lmac::Error&) {
  }
  return 0;
}
