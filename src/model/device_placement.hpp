// --device and --dtype (DESIGN.md section 1): where a loaded model computes and in what precision.
//   --device auto|cpu|cuda|cuda:N   auto takes GPU 0 when one is usable, else the CPU with one warning;
//                                   an explicit cuda that cannot be used is an error.
//   --dtype auto|fp32|bf16|fp16     auto is fp32 on the CPU and bf16 on a GPU; the CPU computes in fp32 only.
#pragma once

#include <memory>
#include <string>

#include "model/language_model.hpp"

namespace lmac {

// Throws lmac::Error(usage) for a value outside the lists above, or a 16-bit dtype with --device cpu.
void check_device_options(const std::string& device, const std::string& dtype);

// Throws lmac::Error(usage) when the device is an explicit cuda[:N] that cannot be used (no GPU, no such index, or
// a build without the CUDA backend): commands check this before reading any input.
void check_device_usable(const std::string& device);

// The model itself when it computes on the CPU, else its GPU version (which keeps the CPU model for its
// metadata and exact scorer).
std::unique_ptr<LanguageModel> place_model(std::unique_ptr<LanguageModel> model, const std::string& device,
                                           const std::string& dtype);

// Whether this build has the CUDA backend.
bool cuda_backend_built();

}  // namespace lmac
