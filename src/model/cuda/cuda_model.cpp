#include "model/cuda/cuda_model.hpp"

#include <algorithm>
#include <cstring>

#include "util/error.hpp"

namespace lmac {

namespace {

// Kept free beyond what lmac allocates: cuBLAS, the CUDA context's own growth, and other processes' jitter.
constexpr size_t kHeadroom = size_t(1) << 30;

double gib(size_t bytes) { return double(bytes) / double(size_t(1) << 30); }

}  // namespace

CudaModel::CudaModel(std::unique_ptr<LanguageModel> cpu_model, int device, cuda::DType dtype)
    : cpu_(std::move(cpu_model)), ctx_(device), dtype_(dtype) {}

ComputePlacement CudaModel::placement() const {
  return {ctx_.description(), cuda::dtype_name(dtype_), ctx_.peak_memory(), true};
}

void CudaModel::check_weights_fit(size_t bytes) const {
  const size_t free_bytes = ctx_.free_memory();
  const size_t one_chunk = activation_bytes_per_row() * 2048;
  if (bytes + one_chunk + kHeadroom > free_bytes)
    throw_error(ErrorCode::out_of_memory,
                "{} cannot fit on one GPU: its weights take {:.2f} GiB in {} and one 2048-symbol pass {:.2f} GiB more, "
                "but {} has {:.2f} GiB free of {:.2f} (lmac does not split a model across GPUs{})",
                info().name, gib(bytes), cuda::dtype_name(dtype_), gib(one_chunk), ctx_.description(),
                gib(free_bytes), gib(ctx_.facts().total_memory),
                dtype_ == cuda::DType::f32 ? "; --dtype bf16 halves the weights" : "");
}

int CudaModel::automatic_batch_size(int length) const {
  if (length <= 0) return 1;
  const size_t held = size_t(capacity_rows_) * activation_bytes_per_row();
  const size_t free_bytes = ctx_.free_memory() + held;
  const size_t usable = free_bytes > kHeadroom ? (free_bytes - kHeadroom) / 10 * 9 : 0;
  const size_t rows = std::min<size_t>(usable / activation_bytes_per_row(), size_t(max_rows_per_pass()));
  return int(std::max<size_t>(1, rows / size_t(length)));
}

void CudaModel::deliver(const void* device_log_probs, int rows, float* out) {
  const size_t bytes = size_t(rows) * size_t(alphabet_size()) * sizeof(float);
  if (host_log_probs_.bytes() < bytes) {
    host_log_probs_ = cuda::PinnedBuffer();
    host_log_probs_ = cuda::PinnedBuffer(bytes);
  }
  ctx_.to_host(host_log_probs_.get(), device_log_probs, bytes);
  const char* from = static_cast<const char*>(host_log_probs_.get());
  constexpr size_t kPiece = size_t(4) << 20;
  const int64_t pieces = int64_t((bytes + kPiece - 1) / kPiece);
#pragma omp parallel for schedule(static) if (pieces > 1)
  for (int64_t i = 0; i < pieces; ++i) {
    const size_t begin = size_t(i) * kPiece;
    std::memcpy(reinterpret_cast<char*>(out) + begin, from + begin, std::min(kPiece, bytes - begin));
  }
}

void CudaModel::log_probs(std::span<const uint32_t> symbols, int batch, int length, std::span<float> out) {
  const size_t A = size_t(alphabet_size());
  if (batch < 0 || length < 0 || symbols.size() != size_t(batch) * length || out.size() != symbols.size() * A)
    throw_error(ErrorCode::internal, "{}: log_probs got {} symbols and {} outputs for batch {} x length {}",
                info().name, symbols.size(), out.size(), batch, length);
  if (batch == 0 || length == 0) return;
  const int per_pass = std::clamp(max_rows_per_pass() / length, 1, batch);
  for (int b0 = 0; b0 < batch; b0 += per_pass) {
    const int n = std::min(per_pass, batch - b0);
    const int rows = n * length;
    if (rows > capacity_rows_) {
      release_activations();
      capacity_rows_ = 0;
      try {
        allocate_activations(rows);
      } catch (...) {
        release_activations();  // leave the memory free for the retry at a smaller batch
        throw;
      }
      capacity_rows_ = rows;
    }
    run_pass(symbols.data() + size_t(b0) * length, n, length, out.data() + size_t(b0) * length * A);
  }
  ctx_.note_memory_use();
}

}  // namespace lmac
