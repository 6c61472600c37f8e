// A framework transformer with seeded random weights of any shape, for the CPU benchmarks (exact_bench,
// framework_bench): their timings do not depend on what the weights are, only on their shapes.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "model/framework_model.hpp"

inline lmac::FrameworkModel random_framework_model(int D, int L, int H, int wf, int V, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0, 1);
  auto fill = [&](size_t count, float scale) {
    std::vector<float> v(count);
    for (float& x : v) x = n(rng) * scale;
    return v;
  };
  const size_t d = size_t(D), f = size_t(D) * wf;
  lmac::FrameworkWeights w;
  w.embed = fill(size_t(V) * d, 0.02f);
  for (int l = 0; l < L; ++l) {
    lmac::FrameworkLayer layer;
    layer.w_qkv = fill(d * 3 * d, 1 / std::sqrt(float(D)));
    layer.w_out = fill(d * d, 1 / std::sqrt(float(D)));
    layer.ln1_scale.assign(d, 1.0f);
    layer.ln1_offset.assign(d, 0.0f);
    layer.w1 = fill(d * f, 1 / std::sqrt(float(D)));
    layer.b1 = fill(f, 0.1f);
    layer.w2 = fill(f * d, 1 / std::sqrt(float(f)));
    layer.b2 = fill(d, 0.1f);
    layer.ln2_scale.assign(d, 1.0f);
    layer.ln2_offset.assign(d, 0.0f);
    w.layers.push_back(std::move(layer));
  }
  w.w_logits = fill(d * V, 1 / std::sqrt(float(D)));
  w.b_logits = fill(size_t(V), 0.1f);
  return lmac::FrameworkModel(lmac::FrameworkConfig{V, D, L, H, wf}, std::move(w), {}, std::nullopt);
}
