// What the GPU versions of lmac's models share: the CPU model they were loaded as (its info, tokens and exact
// scorer), one device context, activation buffers sized for the largest pass so far, and the batch and memory
// rules of DESIGN.md section 1 (automatic batch from free memory; out of memory is lmac::Error(out_of_memory),
// which the caller answers by halving the batch).
#pragma once

#include <memory>

#include "engine/cuda/cuda_context.hpp"
#include "model/language_model.hpp"

namespace lmac {

// Puts a loaded model on GPU `device`, computing in `dtype`. Throws lmac::Error(unsupported) for a model kind the
// GPU backend does not run, and (out_of_memory) when its weights cannot fit on the card at all.
std::unique_ptr<LanguageModel> make_cuda_model(std::unique_ptr<LanguageModel> cpu_model, int device,
                                               cuda::DType dtype);

class CudaModel : public LanguageModel {
 public:
  CudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, cuda::DType dtype);

  const ModelInfo& info() const override { return cpu_->info(); }
  int alphabet_size() const override { return cpu_->alphabet_size(); }
  std::optional<int> declared_bits() const override { return cpu_->declared_bits(); }
  // .lmac files are coded with the CPU's fixed-order kernels whatever device eval uses.
  std::unique_ptr<ExactScorer> exact_scorer() override { return cpu_->exact_scorer(); }
  ComputePlacement placement() const override;
  int automatic_batch_size(int length) const override;
  void log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) override;

 protected:
  // Throws lmac::Error(out_of_memory) with the numbers when `bytes` of weights cannot fit next to a minimal pass.
  void check_weights_fit(size_t bytes) const;

  // Device bytes one position of a pass needs (activations and logits).
  virtual size_t activation_bytes_per_row() const = 0;
  // Positions one pass takes at most, whatever memory allows: beyond this the GEMMs are no faster.
  virtual int max_rows_per_pass() const = 0;
  virtual void allocate_activations(int rows) = 0;
  virtual void release_activations() = 0;
  // Scores `batch` whole sequences of `length` symbols (at most the allocated rows) into out (host, f32).
  virtual void run_pass(const uint32_t* symbols, int batch, int length, float* out) = 0;

  // Copies `rows` x alphabet f32 log-probs from the device to out (host) through a page-locked buffer: the
  // device-to-host copy runs at full link speed, and the copy out of it is spread over the host cores (a pass of a
  // small model returns gigabytes).
  void deliver(const void* device_log_probs, int rows, float* out);

  std::unique_ptr<LanguageModel> cpu_;
  cuda::Context ctx_;
  cuda::DType dtype_;

 private:
  cuda::PinnedBuffer host_log_probs_;
  int capacity_rows_ = 0;
};

}  // namespace lmac
