// The framework transformer's deterministic scorer (model/exact_scorer.hpp): SPEC-LMIC section 7's forward pass
// on lmac's fixed-order kernels (engine/exact_kernels.hpp), so that compress and decompress see the same bits on
// any x86-64 CPU with any thread count, whether a row comes from a full pass or from one incremental step.
// It differs from FrameworkModel::log_probs (OpenBLAS, libm-free but order-free) only by float rounding.
#pragma once

#include <memory>

#include "model/exact_scorer.hpp"

namespace lmac {

class FrameworkModel;

// The model must outlive the scorer. Each scorer has its own buffers and caches: one per thread.
std::unique_ptr<ExactScorer> make_framework_exact_scorer(const FrameworkModel& model);

// Row `pos` of the sinusoidal position table (SPEC-LMIC section 7, step 3) from lmac's own float64 pow, sin and
// cos (engine/exact_math.hpp), rounded to float32: the same bits on every machine, and equal to the reference's
// float64 table rounded to float32 except where that value lies within about 1e-16 of a float32 rounding boundary.
void framework_exact_position_row(int64_t pos, int d, float* out);

}  // namespace lmac
