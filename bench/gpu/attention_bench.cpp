// Times each GPU attention kernel on a Llama-2-7B pass's shape (32 heads of 128, 2048 positions, q|k|v rows of
// 12288 bf16 as the fused projection leaves them) and prints milliseconds and TFLOP/s of causal attention: 4 hd
// floating-point operations per unmasked score (q.k and p v), T (T + 1) / 2 scores a head and sequence.
// Usage: lmac_attention_bench [batch=16] [repeats=10]. Tuning aid for bench/results/gpu_notes.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "engine/cuda/cuda_attention.hpp"
#include "engine/cuda/cuda_context.hpp"
#include "engine/cuda/cuda_upload.hpp"
#include "util/error.hpp"

int main(int argc, char** argv) {
  using namespace lmac::cuda;
  const int B = argc > 1 ? std::atoi(argv[1]) : 16, repeats = argc > 2 ? std::atoi(argv[2]) : 10;
  const int T = 2048, H = 32, hd = 128, stride = 3 * H * hd;
  try {
    Context ctx(0);
    std::vector<float> host(size_t(B) * T * stride);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : host) x = normal(rng);
    DeviceBuffer qkv(ctx, host.size() * 2, "q|k|v"), out(ctx, size_t(B) * T * H * hd * 2, "attention output");
    upload_f32(ctx, host.data(), host.size(), DType::bf16, qkv.get());
    const double flops = 4.0 * B * H * hd * (double(T) * (T + 1) / 2);
    std::printf("%s, batch %d x %d positions, %d heads of %d, bf16\n", ctx.description().c_str(), B, T, H, hd);
    for (AttentionKernel kernel : {AttentionKernel::wgmma, AttentionKernel::mma_sync}) {
      auto run = [&] {
        causal_attention(ctx, qkv.get(), qkv.as<char>() + H * hd * 2, qkv.as<char>() + 2 * H * hd * 2, stride, stride,
                         out.get(), H * hd, DType::bf16, B, T, H, H, hd, 1.0f / 11.3137085f, kernel);
      };
      try {
        run();  // warm-up (and the shared-memory attribute)
      } catch (const lmac::Error& e) {
        std::printf("%-9s  not available: %s\n", attention_kernel_name(kernel), e.what());
        continue;
      }
      ctx.synchronize();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < repeats; ++i) run();
      ctx.synchronize();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
                        repeats;
      std::printf("%-9s  %8.3f ms  %6.1f TFLOP/s\n", attention_kernel_name(kernel), ms, flops / ms / 1e9);
    }
  } catch (const lmac::Error& e) {
    std::fprintf(stderr, "lmac_attention_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
