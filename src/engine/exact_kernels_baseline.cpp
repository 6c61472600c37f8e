// The exact kernels for baseline x86-64 (SSE2): 4-float vectors. See exact_kernels_body.inc.
#include "engine/exact_kernels_table.hpp"
#include "engine/exact_math.hpp"

#define LMAC_EXACT_NS exact_baseline
#define LMAC_EXACT_VW 4
#define LMAC_EXACT_MR 1
#include "engine/exact_kernels_body.inc"

namespace lmac {

const ExactKernelTable& exact_kernels_baseline() {
  static const ExactKernelTable table = {
      exact_baseline::matmul_panel,   exact_baseline::add_layer_norm_rows, exact_baseline::rms_norm_rows,
      exact_baseline::bias_gelu_rows, exact_baseline::silu_mul_rows,       exact_baseline::log_softmax_rows,
      exact_baseline::attention_rows,
  };
  return table;
}

}  // namespace lmac
