// The byte-level transformer of "Language Modeling Is Compression" (SPEC-LMIC.md section 7), on the CPU in
// float32: embedding * sqrt(D) + sinusoidal positions, L post-LayerNorm layers of causal multi-head attention and
// a GELU feed-forward network, then a linear layer and log-softmax. Loading lives in framework_loader.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/language_model.hpp"

namespace lmac {

struct FrameworkConfig {
  int vocab_size = 256;
  int embedding_dim = 64;
  int num_layers = 4;
  int num_heads = 8;
  int widening_factor = 4;
};

// Weights in the layout the forward pass uses; Linear weights are [in, out] as Haiku stores them.
struct FrameworkLayer {
  std::vector<float> w_qkv;                   // [D, 3D]: the q, k and v projections side by side
  std::vector<float> w_out;                   // [D, D]
  std::vector<float> ln1_scale, ln1_offset;   // LayerNorm after attention, [D]
  std::vector<float> w1, b1;                  // [D, F], [F]
  std::vector<float> w2, b2;                  // [F, D], [D]
  std::vector<float> ln2_scale, ln2_offset;   // LayerNorm after the feed-forward network, [D]
};

struct FrameworkWeights {
  std::vector<float> embed;                   // [V, D]
  std::vector<FrameworkLayer> layers;
  std::vector<float> w_logits, b_logits;      // [D, V], [V]
};

// Row `pos` of the sinusoidal position table: computed in float64, rounded to float32 (as the reference's
// NumPy table is when JAX adds it to float32 embeddings).
void framework_position_row(int64_t pos, int d, float* out);

class FrameworkModel : public LanguageModel {
 public:
  FrameworkModel(FrameworkConfig config, FrameworkWeights weights, ModelInfo info, std::optional<int> declared_bits);

  const ModelInfo& info() const override { return info_; }
  int alphabet_size() const override { return config_.vocab_size; }
  std::optional<int> declared_bits() const override { return declared_bits_; }
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override;
  // The fixed-order scorer of model/framework_exact.hpp.
  std::unique_ptr<ExactScorer> exact_scorer() override;

  const FrameworkConfig& config() const { return config_; }
  const FrameworkWeights& weights() const { return weights_; }

  // h[r, :] = embed[symbol] * sqrt(D) + position(pos). Shared with FrameworkSession.
  void embed_row(uint32_t input_symbol, int64_t pos, float* h) const;
  // Throws lmac::Error if a symbol is outside the alphabet.
  void check_symbol(uint32_t symbol, int sequence, int64_t position) const;

 private:
  void forward(const uint32_t* symbols, int batch, int length, float* out);

  FrameworkConfig config_;
  FrameworkWeights weights_;
  ModelInfo info_;
  std::optional<int> declared_bits_;
  float embed_scale_;
  // Scratch reused between calls (log_probs is not re-entrant).
  std::vector<float> positions_, h_, qkv_, att_, tmp_, ff_, attn_scratch_;
};

// Incremental decoding with a key/value cache: one position per step for a batch of sequences. It produces the
// rows FrameworkModel::log_probs produces, up to float rounding. The model must outlive the session.
class FrameworkSession {
 public:
  explicit FrameworkSession(const FrameworkModel& model);

  // Starts `batch` new sequences at position 0.
  void reset(int batch);
  // Feeds x_{t-1} of each sequence (prev_symbols[b]; not read at position 0, where BOS = 0 is fed, and may then
  // be null) and writes out_log_probs[b * alphabet + s] = log p(x_t = s | BOS, x_0 .. x_{t-1}).
  void step(const uint32_t* prev_symbols, float* out_log_probs);
  int64_t position() const { return pos_; }
  int batch() const { return batch_; }

 private:
  void grow(int64_t need);

  const FrameworkModel& model_;
  int batch_ = 0;
  int64_t pos_ = 0, capacity_ = 0;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer: [batch, capacity, D]
  std::vector<float> h_, qkv_, att_, tmp_, ff_, scores_;
};

}  // namespace lmac
