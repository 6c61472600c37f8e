#include "model/cuda/cuda_model.hpp"
#include "model/cuda/framework_cuda_model.hpp"
#include "model/cuda/llama_cuda_model.hpp"
#include "util/error.hpp"

namespace lmac {

std::unique_ptr<LanguageModel> make_cuda_model(std::unique_ptr<LanguageModel> cpu_model, int device,
                                               cuda::DType dtype) {
  if (dynamic_cast<const LlamaModel*>(cpu_model.get()))
    return std::make_unique<LlamaCudaModel>(std::move(cpu_model), device, dtype);
  if (dynamic_cast<const FrameworkModel*>(cpu_model.get()))
    return std::make_unique<FrameworkCudaModel>(std::move(cpu_model), device, dtype);
  throw_error(ErrorCode::unsupported, "{}: the CUDA backend does not run {} models", cpu_model->info().name,
              cpu_model->info().model_type);
}

}  // namespace lmac
