// The Llama forward pass on the CPU, in float32, batched across sequences (llama2.c in spirit: one function reads
// top to bottom). Weights stay in the checkpoint's mapped memory in their stored dtype and are widened per tile
// inside the matmul (engine/half_matmul.hpp). Only the rows of the output projection that belong to the mapped
// byte tokens are ever multiplied: the full-vocabulary logits are never formed.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "engine/half_matmul.hpp"
#include "model/hf_config.hpp"
#include "model/language_model.hpp"

namespace lmac {

class SafetensorsCheckpoint;

struct LlamaLayerWeights {
  std::vector<float> attn_norm, mlp_norm;  // RMSNorm scales [D], widened once (they are tiny)
  WeightMatrix q, k, v, o;                 // [H*hd, D], [KV*hd, D], [KV*hd, D], [D, H*hd]
  WeightMatrix gate, up, down;             // [F, D], [F, D], [D, F]
};

struct LlamaWeights {
  LlamaConfig config;
  WeightMatrix embed;                  // [vocab, D]
  std::vector<LlamaLayerWeights> layers;
  std::vector<float> final_norm;       // [D]
  std::vector<float> output_rows;      // [alphabet, D]: the output-projection rows of the mapped tokens, float32
  std::vector<float> inv_freq;         // RoPE, [head_dim / 2]
};

// Keys and values of every layer for `batch` sequences, up to `capacity` positions each.
struct LlamaKVCache {
  int batch = 0, capacity = 0, kv_dim = 0, layers = 0;
  int length = 0;                       // positions filled, the same for every sequence
  std::vector<float> k, v;              // [layers][batch][capacity][kv_dim]
  LlamaKVCache(int layers, int batch, int capacity, int kv_dim);
  float* keys(int layer, int b) { return k.data() + ((size_t(layer) * batch + b) * capacity) * kv_dim; }
  float* values(int layer, int b) { return v.data() + ((size_t(layer) * batch + b) * capacity) * kv_dim; }
};

// What --top_k does to a row of log-probabilities over the alphabet: keep the K most likely symbols (ties go to the
// lower symbol), renormalise them among themselves, then give every other symbol the floor probability 2^-23
// (float32 epsilon, the floor the arithmetic coder adds anyway) and scale the kept ones by 1 - (A - K) * 2^-23,
// so the row stays a distribution under which every symbol remains codable. K <= 0 or K >= A leaves the row as is.
void apply_top_k(float* log_probs, int alphabet, int k);
inline constexpr double kTopKFloor = 1.0 / 8388608.0;  // 2^-23

class LlamaModel : public LanguageModel {
 public:
  // `storage` keeps the memory the weights point into alive: a SafetensorsCheckpoint, or a GGUF model's file and
  // re-laid-out tensors (model/gguf_loader.cpp).
  LlamaModel(std::shared_ptr<const void> storage, LlamaWeights weights, ModelInfo info, int top_k);

  const ModelInfo& info() const override { return info_; }
  int alphabet_size() const override { return int(info_.byte_tokens.size()); }
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override;
  // The fixed-order scorer of model/llama_exact.hpp.
  std::unique_ptr<ExactScorer> exact_scorer() override;

  const LlamaWeights& weights() const { return weights_; }
  int bos_token() const { return info_.bos_token; }
  int top_k() const { return top_k_; }
  int token_of(uint32_t symbol) const;  // checked against the alphabet
  // The input tokens of log_probs: per sequence [BOS, token(x_0), ..., token(x_{T-2})], row t predicting x_t.
  // Every symbol, the last included, is checked against the alphabet.
  std::vector<int> input_tokens(std::span<const uint32_t> symbols, int batch, int length) const;

  // Runs `n` new tokens per sequence (tokens[b * n + i]) at positions start_pos .. start_pos + n - 1 and writes the
  // alphabet's log-probs for each of them to out[(b * n + i) * alphabet]. With a cache, keys and values are read
  // from and appended to it (start_pos must equal cache->length); without one, start_pos must be 0.
  void forward(const int* tokens, int batch, int n, int start_pos, LlamaKVCache* cache, float* out) const;

 private:
  std::shared_ptr<const void> checkpoint_;  // keeps the mapped weights alive
  LlamaWeights weights_;
  ModelInfo info_;
  int top_k_;
};

// Incremental scoring with a KV cache, one position per step for `batch` sequences in lockstep: what a decoder
// runs. Equal to LlamaModel::log_probs within float rounding.
//   LlamaSession s(model, batch, max_length);
//   s.current(out);           // row 0: p(x_0 | BOS)
//   s.append(symbols_0);      // one symbol per sequence
//   s.current(out);           // row 1: p(x_1 | BOS, x_0) ...
class LlamaSession {
 public:
  LlamaSession(const LlamaModel& model, int batch, int max_length);
  // The log-probs of the next symbol of every sequence: out[b * alphabet + s].
  void current(std::span<float> out) const;
  // Feeds one symbol per sequence; the next current() is conditioned on it.
  void append(std::span<const uint32_t> symbols);
  int length() const { return cache_.length; }  // positions consumed, BOS included

 private:
  void step(const std::vector<int>& tokens);
  const LlamaModel& model_;
  int batch_;
  LlamaKVCache cache_;
  std::vector<float> current_;
};

}  // namespace lmac
