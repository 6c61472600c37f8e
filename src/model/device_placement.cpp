#include "model/device_placement.hpp"

#include <cstdio>
#include <string_view>

#include "util/error.hpp"
#ifdef LMAC_HAVE_CUDA
#include "model/cuda/cuda_model.hpp"
#endif

namespace lmac {

namespace {

struct DeviceRequest {
  bool cpu = false;   // --device cpu
  bool any = false;   // --device auto
  int index = 0;      // cuda:N
};

DeviceRequest parse_device(const std::string& device) {
  if (device == "cpu") return {true, false, 0};
  if (device == "auto") return {false, true, 0};
  if (device == "cuda") return {false, false, 0};
  constexpr std::string_view prefix = "cuda:";
  if (device.starts_with(prefix) && device.size() > prefix.size() && device.size() <= prefix.size() + 3 &&
      device.find_first_not_of("0123456789", prefix.size()) == std::string::npos)
    return {false, false, std::stoi(device.substr(prefix.size()))};
  throw_error(ErrorCode::usage, "--device must be auto, cpu, cuda or cuda:N, not '{}'", device);
}

// --device auto falls back to the CPU with one warning per run, however many models are loaded.
void warn_cpu_fallback(const std::string& why) {
  static bool warned = false;
  if (warned) return;
  warned = true;
  std::fprintf(stderr, "lmac: warning: --device auto: no usable GPU (%s); computing on the CPU in fp32\n", why.c_str());
}

}  // namespace

bool cuda_backend_built() {
#ifdef LMAC_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

void check_device_options(const std::string& device, const std::string& dtype) {
  const DeviceRequest d = parse_device(device);
  if (dtype != "auto" && dtype != "fp32" && dtype != "bf16" && dtype != "fp16")
    throw_error(ErrorCode::usage, "--dtype must be auto, fp32, bf16 or fp16, not '{}'", dtype);
  if (d.cpu && dtype != "auto" && dtype != "fp32")
    throw_error(ErrorCode::usage, "--dtype {} needs a GPU: the CPU backend computes in fp32 (use --device cuda)", dtype);
}

void check_device_usable(const std::string& device) {
  const DeviceRequest d = parse_device(device);
  if (d.cpu || d.any) return;
#ifdef LMAC_HAVE_CUDA
  std::string why;
  const int count = cuda::usable_device_count(&why);
  if (count == 0) throw_error(ErrorCode::usage, "--device {}: no usable CUDA GPU ({})", device, why);
  if (d.index >= count)
    throw_error(ErrorCode::usage, "--device {}: this machine has {} CUDA device(s), cuda:0 to cuda:{}", device, count,
                count - 1);
#else
  throw_error(ErrorCode::usage, "--device {}: this lmac was built without the CUDA backend (nvcc was not found when "
              "it was configured)", device);
#endif
}

std::unique_ptr<LanguageModel> place_model(std::unique_ptr<LanguageModel> model, const std::string& device,
                                           const std::string& dtype) {
  check_device_options(device, dtype);
  const DeviceRequest d = parse_device(device);
  if (d.cpu) return model;
  check_device_usable(device);  // an explicit cuda that cannot be used is an error; auto falls back below
#ifdef LMAC_HAVE_CUDA
  std::string why;
  if (cuda::usable_device_count(&why) > 0) {
    const cuda::DType t = dtype == "fp32" ? cuda::DType::f32 : dtype == "fp16" ? cuda::DType::f16 : cuda::DType::bf16;
    return make_cuda_model(std::move(model), d.index, t);
  }
  warn_cpu_fallback(why);
#else
  warn_cpu_fallback("this lmac was built without the CUDA backend");
#endif
  return model;
}

}  // namespace lmac
