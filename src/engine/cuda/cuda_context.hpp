// One NVIDIA GPU as lmac uses it: a device, a stream every operation runs on, a cuBLAS handle with a fixed
// workspace, and memory that is counted. Headers under engine/cuda/ name no CUDA types, so model code that
// calls them compiles with the plain C++ compiler; only the .cu/.cpp files behind them include CUDA's headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace lmac::cuda {

// Element types of device tensors. Weights and activations use the compute dtype; logits and everything reduced
// stay f32, and so do residual streams except the Llama pass's in bf16 (llama_cuda_model.hpp).
enum class DType { f32, bf16, f16 };
const char* dtype_name(DType t);  // "fp32", "bf16", "fp16"
size_t dtype_size(DType t);

struct DeviceFacts {
  int index = 0;
  std::string name;          // "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0;
  int multiprocessors = 0;
  size_t total_memory = 0;
  int cuda_runtime = 0;      // e.g. 13000
  int cublas_version = 0;
};

// The number of usable CUDA devices; 0 with the reason in `why` (no driver, no device, ...).
int usable_device_count(std::string* why);

class Context {
 public:
  // Throws lmac::Error(usage) naming the device when it does not exist or cannot be used.
  explicit Context(int device_index);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const DeviceFacts& facts() const { return facts_; }
  std::string description() const;  // "cuda:0 (NVIDIA H100 80GB HBM3)"

  // Device memory. allocate() throws lmac::Error(out_of_memory) with the request and the free memory in the
  // message; it never returns null for bytes > 0. The environment variable LMAC_CUDA_MEMORY_LIMIT (bytes, or with
  // a K/M/G suffix) caps what lmac allocates, for sharing a card, and to test the out-of-memory paths.
  void* allocate(size_t bytes, const char* what);
  void release(void* p);
  size_t free_memory() const;
  // The most device memory this process held at once (total minus free, so the CUDA context is included),
  // sampled after every allocation and forward pass.
  uint64_t peak_memory() const { return peak_used_; }
  void note_memory_use();

  void* stream() const { return stream_; }    // cudaStream_t
  void* cublas() const { return cublas_; }    // cublasHandle_t
  void synchronize();                          // waits for the stream; turns a device fault into lmac::Error
  void check_launch(const char* kernel);       // after a kernel launch: cudaGetLastError

  // Host <-> device copies on the stream. to_host waits for completion.
  void to_device(void* dst, const void* src, size_t bytes);
  void to_host(void* dst, const void* src, size_t bytes);

 private:
  DeviceFacts facts_;
  void* stream_ = nullptr;
  void* cublas_ = nullptr;
  void* workspace_ = nullptr;
  uint64_t peak_used_ = 0;
  size_t limit_ = 0;  // 0: the card's memory
  size_t live_ = 0;
  std::unordered_map<void*, size_t> sizes_;
};

// A device allocation that frees itself.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Context& ctx, size_t bytes, const char* what) : ctx_(&ctx), bytes_(bytes) {
    ptr_ = bytes ? ctx.allocate(bytes, what) : nullptr;
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ctx_ = o.ctx_, ptr_ = o.ptr_, bytes_ = o.bytes_;
      o.ptr_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  void reset() {
    if (ptr_) ctx_->release(ptr_);
    ptr_ = nullptr, bytes_ = 0;
  }
  void* get() const { return ptr_; }
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  Context* ctx_ = nullptr;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory: device-to-host copies into it run at full PCIe speed and can be asynchronous.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept { *this = std::move(o); }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace lmac::cuda
