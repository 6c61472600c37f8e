// Rotary position embeddings exactly as Hugging Face transformers computes them for Llama: the inverse
// frequencies of the `default`, `linear` and `llama3` rope types, and the rotate_half pairing (element i is
// rotated with element i + head_dim/2, not with its neighbour as in Meta's original checkpoints).
#pragma once

#include <vector>

#include "model/hf_config.hpp"

namespace lmac {

// inv_freq[i], i < head_dim/2, in float32 like transformers' buffer.
std::vector<float> rope_inv_freq(const RopeConfig& rope, int head_dim);

// The `linear` and `llama3` scalings of default inverse frequencies, in place. Only IEEE divisions and
// multiplications, so the exact path (model/llama_exact.cpp) shares it.
void apply_rope_scaling(const RopeConfig& rope, std::vector<float>& inv);

// cos/sin tables for one position: cos[i] = cos(position * inv_freq[i]), angle formed in float32 as
// transformers does (inv_freq.float() @ position_ids.float()).
void rope_angles(const std::vector<float>& inv_freq, int position, float* cos_out, float* sin_out);

// Rotates one head vector x[head_dim] in place: (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin).
void rope_rotate(float* x, const float* cos, const float* sin, int head_dim);

}  // namespace lmac
