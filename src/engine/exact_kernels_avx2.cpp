// The exact kernels for AVX2: 8-float vectors (the target names avx2 only: no FMA). See exact_kernels_body.inc.
#include "engine/exact_kernels_table.hpp"
#include "engine/exact_math.hpp"

#pragma GCC push_options
#pragma GCC target("avx2")
#define LMAC_EXACT_NS exact_avx2
#define LMAC_EXACT_VW 8
#define LMAC_EXACT_MR 3
#include "engine/exact_kernels_body.inc"
#pragma GCC pop_options

namespace lmac {

const ExactKernelTable& exact_kernels_avx2() {
  static const ExactKernelTable table = {
      exact_avx2::matmul_panel,   exact_avx2::add_layer_norm_rows, exact_avx2::rms_norm_rows,
      exact_avx2::bias_gelu_rows, exact_avx2::silu_mul_rows,       exact_avx2::log_softmax_rows,
      exact_avx2::attention_rows,
  };
  return table;
}

}  // namespace lmac
