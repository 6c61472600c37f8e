#include "model/llama_rope.hpp"

#include <cmath>
#include <numbers>

namespace lmac {

void apply_rope_scaling(const RopeConfig& rope, std::vector<float>& inv) {
  if (rope.type == "linear") {
    for (float& f : inv) f = f / float(rope.factor);
  } else if (rope.type == "llama3") {
    // transformers' _compute_llama3_parameters: long wavelengths are divided by `factor`, short ones kept, and
    // the band between is interpolated smoothly.
    const double old_context = rope.original_max_position_embeddings;
    const double low_freq_wavelen = old_context / rope.low_freq_factor;
    const double high_freq_wavelen = old_context / rope.high_freq_factor;
    for (float& f : inv) {
      const float wavelen = float(2 * std::numbers::pi) / f;
      float scaled = wavelen > low_freq_wavelen ? f / float(rope.factor) : f;
      const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
      if (medium) {
        const float smooth = float((old_context / wavelen - rope.low_freq_factor) /
                                   (rope.high_freq_factor - rope.low_freq_factor));
        scaled = (1 - smooth) * scaled / float(rope.factor) + smooth * scaled;
      }
      f = scaled;
    }
  }
}

std::vector<float> rope_inv_freq(const RopeConfig& rope, int head_dim) {
  const int half = head_dim / 2;
  std::vector<float> inv(half);
  // transformers: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), all float32.
  for (int i = 0; i < half; ++i) {
    float exponent = float(2 * i) / float(head_dim);
    inv[i] = 1.0f / std::pow(float(rope.theta), exponent);
  }
  apply_rope_scaling(rope, inv);
  return inv;
}

void rope_angles(const std::vector<float>& inv_freq, int position, float* cos_out, float* sin_out) {
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    const float angle = inv_freq[i] * float(position);
    cos_out[i] = float(std::cos(double(angle)));
    sin_out[i] = float(std::sin(double(angle)));
  }
}

void rope_rotate(float* x, const float* cos, const float* sin, int head_dim) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * cos[i] - x2 * sin[i];
    x[i + half] = x2 * cos[i] + x1 * sin[i];
  }
}

}  // namespace lmac
