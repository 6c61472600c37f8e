#include "model/cuda/cuda_model.hpp"
#include "model/cuda/framework_cuda_model.hpp"
#include "model/cuda/llama_cuda_model.hpp"
#include "util/error.hpp"

#include <vector>

namespace lmac {

namespace {

// One tiny pass at load: the CUDA kernels and cuBLAS initialise during loading, not in the first batch of work.
std::unique_ptr<LanguageModel> warmed_up(std::unique_ptr<LanguageModel> model) {
  constexpr int kLength = 64;
  const std::vector<uint32_t> symbols(kLength, 0);
  std::vector<float> out(size_t(kLength) * size_t(model->alphabet_size()));
  model->log_probs(symbols, 1, kLength, out);
  return model;
}

}  // namespace

std::unique_ptr<LanguageModel> make_cuda_model(std::unique_ptr<LanguageModel> cpu_model, int device,
                                               cuda::DType dtype) {
  if (dynamic_cast<const LlamaModel*>(cpu_model.get()))
    return warmed_up(std::make_unique<LlamaCudaModel>(std::move(cpu_model), device, dtype));
  if (dynamic_cast<const FrameworkModel*>(cpu_model.get()))
    return warmed_up(std::make_unique<FrameworkCudaModel>(std::move(cpu_model), device, dtype));
  throw_error(ErrorCode::unsupported, "{}: the CUDA backend does not run {} models", cpu_model->info().name,
              cpu_model->info().model_type);
}

}  // namespace lmac
