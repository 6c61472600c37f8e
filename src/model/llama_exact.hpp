// The Llama model's deterministic scorer (model/exact_scorer.hpp): the forward pass of model/llama_model.hpp on
// lmac's fixed-order kernels (engine/exact_kernels.hpp), so that compress and decompress see the same bits on any
// x86-64 CPU with any thread count, whether a row comes from a full pass or from one incremental step:
// RMSNorm, rotary embeddings from tables computed with lmac's own float64 sin/cos/pow, grouped-query attention,
// SwiGLU with lmac's own exp, the output rows of the mapped byte tokens only, log-softmax over them, and --top_k
// applied with lmac's own exp/log. Weights stay in their stored dtype and are widened as the products need them
// (or packed once in float32 when the model is small).
#pragma once

#include <memory>
#include <vector>

#include "model/exact_scorer.hpp"

namespace lmac {

class LlamaModel;
struct RopeConfig;

// The model must outlive the scorer; `top_k` is the model's --top_k (0: off).
std::unique_ptr<ExactScorer> make_llama_exact_scorer(const LlamaModel& model, int top_k);

// RoPE inverse frequencies as transformers computes them (float32, `default`, `linear` and `llama3` types), with
// base^(2i/d) from lmac's own float64 pow rounded to float32 instead of libm's powf.
std::vector<float> llama_exact_inv_freq(const RopeConfig& rope, int head_dim);

// apply_top_k (model/llama_model.hpp) with lmac's own exp and log: the same rule, the same bits on every machine.
void exact_apply_top_k(float* log_probs, int alphabet, int k);

}  // namespace lmac
