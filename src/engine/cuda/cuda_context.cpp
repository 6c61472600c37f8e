#include "engine/cuda/cuda_context.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>

#include "util/error.hpp"

namespace lmac::cuda {

namespace {

// cuBLAS gets a fixed workspace so that it never allocates behind lmac's back (which would escape the memory
// accounting and could fail mid-pass).
constexpr size_t kCublasWorkspace = size_t(32) << 20;

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  if (e == cudaErrorMemoryAllocation)
    throw_error(ErrorCode::out_of_memory, "CUDA out of memory in {}: {}", what, cudaGetErrorString(e));
  throw_error(ErrorCode::internal, "CUDA error in {}: {} ({})", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

void check_blas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw_error(ErrorCode::internal, "cuBLAS error in {}: {}", what, cublasGetStatusString(s));
}

double gib(size_t bytes) { return double(bytes) / double(size_t(1) << 30); }

size_t memory_limit_from_environment() {
  const char* text = std::getenv("LMAC_CUDA_MEMORY_LIMIT");
  if (!text || !*text) return 0;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  const std::string suffix = end;
  const double unit = suffix.empty() ? 1 : suffix == "K" ? 1024.0 : suffix == "M" ? 1048576.0
                    : suffix == "G" ? 1073741824.0 : -1;
  if (end == text || unit < 0 || !(value > 0))
    throw_error(ErrorCode::usage, "LMAC_CUDA_MEMORY_LIMIT must be a positive number of bytes with an optional K, M "
                "or G suffix, not '{}'", text);
  return size_t(value * unit);
}

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "fp32";
    case DType::bf16: return "bf16";
    case DType::f16: return "fp16";
  }
  return "?";
}

size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }

int usable_device_count(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error so a later call starts clean
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device is visible";
  return n;
}

Context::Context(int device_index) {
  std::string why;
  const int n = usable_device_count(&why);
  if (n == 0) throw_error(ErrorCode::usage, "--device cuda:{}: no usable CUDA GPU ({})", device_index, why);
  if (device_index < 0 || device_index >= n)
    throw_error(ErrorCode::usage, "--device cuda:{}: this machine has {} CUDA device(s), cuda:0 to cuda:{}",
                device_index, n, n - 1);
  limit_ = memory_limit_from_environment();
  check(cudaSetDevice(device_index), "cudaSetDevice");
  // The host thread that waits for a pass should sleep, not spin: host cores are busy arithmetic-coding.
  // (Fails harmlessly when the device was already initialised by an earlier Context.)
  cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync);
  cudaGetLastError();
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device_index), "cudaGetDeviceProperties");
  facts_.index = device_index;
  facts_.name = p.name;
  facts_.cc_major = p.major;
  facts_.cc_minor = p.minor;
  facts_.multiprocessors = p.multiProcessorCount;
  facts_.total_memory = p.totalGlobalMem;
  cudaRuntimeGetVersion(&facts_.cuda_runtime);
  if (p.major < 8)
    throw_error(ErrorCode::unsupported, "{}: compute capability {}.{}; lmac's CUDA kernels need 8.0 or newer (bf16)",
                description(), p.major, p.minor);
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  stream_ = s;
  cublasHandle_t h = nullptr;
  check_blas(cublasCreate(&h), "cublasCreate");
  cublas_ = h;
  cublasGetVersion(h, &facts_.cublas_version);
  check_blas(cublasSetStream(h, s), "cublasSetStream");
  workspace_ = allocate(kCublasWorkspace, "the cuBLAS workspace");
  check_blas(cublasSetWorkspace(h, workspace_, kCublasWorkspace), "cublasSetWorkspace");
  note_memory_use();
}

Context::~Context() {
  if (stream_) cudaStreamSynchronize(static_cast<cudaStream_t>(stream_));
  if (cublas_) cublasDestroy(static_cast<cublasHandle_t>(cublas_));
  if (workspace_) release(workspace_);
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

std::string Context::description() const { return fmt::format("cuda:{} ({})", facts_.index, facts_.name); }

void* Context::allocate(size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const bool over_limit = limit_ && live_ + bytes > limit_;
  const cudaError_t e = over_limit ? cudaErrorMemoryAllocation : cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw_error(ErrorCode::out_of_memory, "{}: out of GPU memory allocating {:.2f} GiB for {} ({:.2f} GiB free of {:.2f}{})",
                description(), gib(bytes), what, gib(free_memory()), gib(facts_.total_memory),
                limit_ ? fmt::format(", LMAC_CUDA_MEMORY_LIMIT {:.2f} GiB", gib(limit_)) : "");
  }
  sizes_[p] = bytes;
  live_ += bytes;
  note_memory_use();
  return p;
}

void Context::release(void* p) {
  if (!p) return;
  auto it = sizes_.find(p);
  if (it != sizes_.end()) {
    live_ -= it->second;
    sizes_.erase(it);
  }
  cudaFree(p);
}

size_t Context::free_memory() const {
  size_t free_bytes = 0, total = 0;
  if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) cudaGetLastError();
  return limit_ ? std::min(free_bytes, limit_ > live_ ? limit_ - live_ : 0) : free_bytes;
}

void Context::note_memory_use() {
  size_t free_bytes = 0, total = 0;
  if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  peak_used_ = std::max<uint64_t>(peak_used_, total - free_bytes);
}

void Context::synchronize() { check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "a GPU pass"); }

void Context::check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

void Context::to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream_)),
        "a host-to-device copy");
}

void Context::to_host(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream_)),
        "a device-to-host copy");
  synchronize();
}

PinnedBuffer::PinnedBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  if (cudaMallocHost(&ptr_, bytes) != cudaSuccess) {
    cudaGetLastError();
    throw_error(ErrorCode::out_of_memory, "out of page-locked host memory allocating {:.2f} GiB", gib(bytes));
  }
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = o.ptr_, bytes_ = o.bytes_;
    o.ptr_ = nullptr, o.bytes_ = 0;
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

}  // namespace lmac::cuda
