// The Llama forward pass on one GPU (llama.cpp/llama2.c in spirit: one function, top to bottom). Weights are
// converted to the compute dtype once at load, with q|k|v and gate|up fused into one matrix each so that a layer
// is four GEMMs. The residual stream is bf16 in bf16 compute, as transformers keeps it, and f32 otherwise; only the
// output-projection rows of the mapped byte tokens exist on the device, and only their log-softmaxed f32 rows come
// back to the host.
#pragma once

#include <vector>

#include "engine/cuda/cuda_context.hpp"
#include "engine/cuda/cuda_profile.hpp"
#include "model/cuda/cuda_model.hpp"
#include "model/llama_model.hpp"

namespace lmac {

class LlamaCudaModel : public CudaModel {
 public:
  LlamaCudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, cuda::DType dtype);

 private:
  struct Layer {
    cuda::DeviceBuffer attn_norm, mlp_norm;  // f32 [D]
    cuda::DeviceBuffer wqkv;                 // [(H + 2 KV) hd, D]: q, k and v projections stacked
    cuda::DeviceBuffer wo;                   // [D, H hd]
    cuda::DeviceBuffer wgu;                  // [2F, D]: gate then up
    cuda::DeviceBuffer wdown;                // [D, F]
  };

  size_t activation_bytes_per_row() const override;
  int max_rows_per_pass() const override { return 1 << 16; }
  void allocate_activations(int rows) override;
  void release_activations() override;
  void run_pass(const uint32_t* symbols, int batch, int length, float* out) override;
  void prepare_rope(int length);

  const LlamaModel& llama_;
  LlamaConfig c_;
  int q_dim_, kv_dim_, qkv_dim_;
  cuda::DType resid_t_;  // the residual stream's dtype
  cuda::DeviceBuffer embed_, final_norm_, out_rows_;
  std::vector<Layer> layers_;
  // Activations of one pass, for up to the allocated rows.
  cuda::DeviceBuffer tokens_, resid_, xn_, qkv_, att_, gu_, act_, logits_;
  cuda::DeviceBuffer rope_cos_, rope_sin_;
  int rope_length_ = 0;
  cuda::PhaseProfile profile_;
};

}  // namespace lmac
