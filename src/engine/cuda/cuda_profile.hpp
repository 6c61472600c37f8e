// Where a GPU pass spends its time, by phase (GEMMs, attention, norms, ...), for tuning: with the environment
// variable LMAC_CUDA_PROFILE=1, events are recorded on the stream between operations and a table goes to stderr
// when the profile is destroyed. Off, mark() costs one branch.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

class PhaseProfile {
 public:
  PhaseProfile(Context& ctx, std::string title);
  ~PhaseProfile();
  PhaseProfile(const PhaseProfile&) = delete;
  PhaseProfile& operator=(const PhaseProfile&) = delete;

  bool enabled() const { return enabled_; }
  // The GPU time since the previous mark (or begin_pass) is charged to `phase`.
  void mark(const char* phase);
  void begin_pass();
  // Waits for the pass and adds its phases' times to the totals.
  void end_pass(size_t tokens);

 private:
  Context& ctx_;
  std::string title_;
  bool enabled_ = false;
  std::vector<void*> events_;          // cudaEvent_t, reused between passes
  std::vector<const char*> phases_;    // phase of the interval ending at events_[i + 1]
  size_t used_ = 0;
  std::map<std::string, double> milliseconds_;
  size_t tokens_ = 0, passes_ = 0;
};

}  // namespace lmac::cuda
