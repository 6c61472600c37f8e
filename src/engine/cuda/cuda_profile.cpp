#include "engine/cuda/cuda_profile.hpp"

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace lmac::cuda {

PhaseProfile::PhaseProfile(Context& ctx, std::string title) : ctx_(ctx), title_(std::move(title)) {
  const char* flag = std::getenv("LMAC_CUDA_PROFILE");
  enabled_ = flag && std::string(flag) == "1";
}

PhaseProfile::~PhaseProfile() {
  for (void* e : events_) cudaEventDestroy(static_cast<cudaEvent_t>(e));
  if (!enabled_ || passes_ == 0) return;
  double total = 0;
  for (const auto& [phase, ms] : milliseconds_) total += ms;
  fmt::print(stderr, "lmac: GPU profile of {}: {} passes, {} tokens, {:.1f} ms, {:.0f} tokens/s on the GPU\n", title_,
             passes_, tokens_, total, tokens_ / (total / 1e3));
  for (const auto& [phase, ms] : milliseconds_)
    fmt::print(stderr, "  {:<16} {:9.1f} ms {:5.1f}%\n", phase, ms, 100 * ms / total);
}

void PhaseProfile::begin_pass() {
  if (!enabled_) return;
  used_ = 0;
  phases_.clear();
  mark(nullptr);
}

void PhaseProfile::mark(const char* phase) {
  if (!enabled_) return;
  if (used_ == events_.size()) {
    cudaEvent_t e;
    cudaEventCreate(&e);
    events_.push_back(e);
  }
  cudaEventRecord(static_cast<cudaEvent_t>(events_[used_++]), static_cast<cudaStream_t>(ctx_.stream()));
  if (phase) phases_.push_back(phase);
}

void PhaseProfile::end_pass(size_t tokens) {
  if (!enabled_) return;
  ctx_.synchronize();
  for (size_t i = 0; i + 1 < used_; ++i) {
    float ms = 0;
    cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(events_[i]), static_cast<cudaEvent_t>(events_[i + 1]));
    milliseconds_[phases_[i]] += ms;
  }
  tokens_ += tokens;
  ++passes_;
}

}  // namespace lmac::cuda
