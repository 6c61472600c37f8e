// The framework transformer (SPEC-LMIC.md section 7) on one GPU: the CPU model's forward pass, op for op, with
// weights transposed once at load into the [out, in] layout the GEMMs share with Llama's. Post-LayerNorm residuals
// stay f32; GEMM inputs are in the compute dtype.
#pragma once

#include <vector>

#include "engine/cuda/cuda_profile.hpp"
#include "model/cuda/cuda_model.hpp"
#include "model/framework_model.hpp"

namespace lmac {

class FrameworkCudaModel : public CudaModel {
 public:
  FrameworkCudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, cuda::DType dtype);

 private:
  struct Layer {
    cuda::DeviceBuffer w_qkv, w_out, w1, w2;                        // [3D, D], [D, D], [F, D], [D, F]
    cuda::DeviceBuffer b1, b2, ln1_scale, ln1_offset, ln2_scale, ln2_offset;  // f32
  };

  size_t activation_bytes_per_row() const override;
  // Small models need many rows per pass to keep the GPU busy.
  int max_rows_per_pass() const override { return 1 << 18; }
  void allocate_activations(int rows) override;
  void release_activations() override;
  void run_pass(const uint32_t* symbols, int batch, int length, float* out) override;
  void prepare_positions(int length);
  // The compute-dtype copy of an f32 activation, or the f32 buffer itself when computing in f32.
  void* in_dtype(const cuda::DeviceBuffer& f32, const cuda::DeviceBuffer& narrow) const;

  const FrameworkModel& framework_;
  FrameworkConfig c_;
  cuda::DeviceBuffer embed_, w_logits_, b_logits_;
  std::vector<Layer> layers_;
  cuda::DeviceBuffer tokens_, h32_, h_t_, qkv_, att_, tmp32_, a32_, a_t_, ff_, logits_;
  cuda::DeviceBuffer positions_;
  int positions_length_ = 0;
  cuda::PhaseProfile profile_;
};

}  // namespace lmac
