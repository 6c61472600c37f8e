// The exact kernels for AVX-512: 16-float vectors (-ffp-contract=off: no FMA). See exact_kernels_body.inc.
#include "engine/exact_kernels_table.hpp"
#include "engine/exact_math.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f")
#define LMAC_EXACT_NS exact_avx512
#define LMAC_EXACT_VW 16
#define LMAC_EXACT_MR 6
#include "engine/exact_kernels_body.inc"
#pragma GCC pop_options

namespace lmac {

const ExactKernelTable& exact_kernels_avx512() {
  static const ExactKernelTable table = {
      exact_avx512::matmul_panel,   exact_avx512::add_layer_norm_rows, exact_avx512::rms_norm_rows,
      exact_avx512::bias_gelu_rows, exact_avx512::silu_mul_rows,       exact_avx512::log_softmax_rows,
      exact_avx512::attention_rows,
  };
  return table;
}

}  // namespace lmac
