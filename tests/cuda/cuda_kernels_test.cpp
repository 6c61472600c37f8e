// The CUDA kernels against float64 references on the host, on fresh random inputs each run. Outputs are poisoned
// with NaN before every launch, so an element a kernel fails to write fails the comparison.
// Skipped (not failed) where no GPU is usable: CI has none; tools/gpu_check.sh runs these on the GPU machine.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/cuda/cuda_attention.hpp"
#include "engine/cuda/cuda_context.hpp"
#include "engine/cuda/cuda_gemm.hpp"
#include "engine/cuda/cuda_kernels.hpp"
#include "engine/cuda/cuda_upload.hpp"
#include "util/error.hpp"

namespace lmac::cuda {
namespace {

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (usable_device_count(&why) == 0) GTEST_SKIP() << "no usable CUDA GPU: " << why;
    ctx = std::make_unique<Context>(0);
  }

  std::vector<float> random(size_t n, float scale = 1.0f) {
    std::uniform_real_distribution<float> d(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  }

  // A device copy of `host` in dtype t.
  DeviceBuffer put(const std::vector<float>& host, DType t) {
    DeviceBuffer b(*ctx, host.size() * dtype_size(t), "test input");
    upload_f32(*ctx, host.data(), host.size(), t, b.get());
    return b;
  }

  // n elements of dtype t from the device, widened to float.
  std::vector<float> get(const DeviceBuffer& b, DType t, size_t n) {
    DeviceBuffer f32(*ctx, n * 4, "test output");
    convert(*ctx, b.get(), t, f32.get(), DType::f32, n);
    std::vector<float> host(n);
    ctx->to_host(host.data(), f32.get(), n * 4);
    return host;
  }

  // What the device holds after rounding `host` to dtype t.
  std::vector<float> rounded(const std::vector<float>& host, DType t) { return get(put(host, t), t, host.size()); }

  DeviceBuffer poisoned(size_t n, DType t) {
    return put(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()), t);
  }

  static double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const double d = std::fabs(double(a[i]) - b[i]);
      if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
    return worst;
  }

  std::unique_ptr<Context> ctx;
  std::mt19937 rng{std::random_device{}()};
};

// out[b*T + t, h] for the layout causal_attention documents, in float64.
std::vector<double> reference_attention(const std::vector<float>& qkv, int stride, int B, int T, int H, int KV,
                                        int hd) {
  std::vector<double> out(size_t(B) * T * H * hd);
  const int group = H / KV;
  const double scale = 1.0 / std::sqrt(double(hd));
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < H; ++h) {
        const float* q = &qkv[(size_t(b) * T + t) * stride + size_t(h) * hd];
        std::vector<double> w(t + 1);
        double top = -INFINITY;
        for (int s = 0; s <= t; ++s) {
          const float* k = &qkv[(size_t(b) * T + s) * stride + size_t(H + h / group) * hd];
          double dot = 0;
          for (int d = 0; d < hd; ++d) dot += double(q[d]) * k[d];
          w[s] = dot * scale;
          top = std::max(top, w[s]);
        }
        double sum = 0;
        for (double& x : w) sum += (x = std::exp(x - top));
        for (int d = 0; d < hd; ++d) {
          double acc = 0;
          for (int s = 0; s <= t; ++s)
            acc += w[s] * qkv[(size_t(b) * T + s) * stride + size_t(H + KV + h / group) * hd + d];
          out[((size_t(b) * T + t) * H + h) * hd + d] = acc / sum;
        }
      }
  return out;
}

struct AttentionCase {
  DType t;
  int hd, B, T, H, KV;
  double tolerance;
};

// Every kernel that runs a case on this card is checked, not only the one an automatic call would pick.
TEST_F(CudaKernels, CausalAttentionMatchesFloat64) {
  const AttentionCase cases[] = {
      {DType::bf16, 128, 2, 200, 4, 2, 2e-2},  // GQA, a partial last tile
      {DType::bf16, 128, 1, 300, 8, 2, 2e-2},  // three query blocks, four query heads a key/value head
      {DType::f16, 128, 2, 129, 2, 2, 4e-3},   // one row past a full tile
      {DType::bf16, 128, 2, 300, 32, 8, 2e-2}, // 192 query blocks, more than a card has multiprocessors
      {DType::bf16, 64, 3, 64, 3, 3, 2e-2},    // exactly one tile
      {DType::bf16, 32, 2, 130, 8, 8, 2e-2},   // the framework model's head size
      {DType::f16, 64, 1, 97, 2, 1, 4e-3},
      {DType::bf16, 128, 1, 1, 2, 2, 2e-2},    // a single position
      {DType::f32, 128, 2, 70, 4, 2, 1e-5},    // the plain kernel only
      {DType::f32, 16, 2, 45, 4, 4, 1e-5},
      {DType::bf16, 16, 1, 33, 2, 2, 2e-2},    // head_dim 16: plain kernel on 16-bit data
  };
  for (const AttentionCase& c : cases) {
    const int stride = (c.H + 2 * c.KV) * c.hd, rows = c.B * c.T, q_dim = c.H * c.hd;
    const std::vector<float> qkv = rounded(random(size_t(rows) * stride, 2.0f), c.t);
    const std::vector<double> expected = reference_attention(qkv, stride, c.B, c.T, c.H, c.KV, c.hd);
    DeviceBuffer d_qkv = put(qkv, c.t);
    const size_t ts = dtype_size(c.t);
    for (AttentionKernel kernel : {AttentionKernel::wgmma, AttentionKernel::mma_sync, AttentionKernel::plain}) {
      SCOPED_TRACE(testing::Message() << attention_kernel_name(kernel) << " " << dtype_name(c.t) << " hd " << c.hd
                                      << " B " << c.B << " T " << c.T << " H " << c.H << " KV " << c.KV);
      DeviceBuffer d_out = poisoned(size_t(rows) * q_dim, c.t);
      try {
        causal_attention(*ctx, d_qkv.get(), d_qkv.as<char>() + q_dim * ts,
                         d_qkv.as<char>() + (q_dim + c.KV * c.hd) * ts, stride, stride, d_out.get(), q_dim, c.t, c.B,
                         c.T, c.H, c.KV, c.hd, float(1.0 / std::sqrt(double(c.hd))), kernel);
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), ErrorCode::unsupported) << e.what();
        continue;  // this kernel does not run this case on this card
      }
      ctx->synchronize();
      EXPECT_LE(max_abs_diff(get(d_out, c.t, size_t(rows) * q_dim), expected), c.tolerance);
    }
  }
}

TEST_F(CudaKernels, AttentionPicksTheFastestKernelThatApplies) {
  const bool hopper = ctx->facts().cc_major == 9 && ctx->facts().cc_minor == 0;
  EXPECT_EQ(attention_kernel_for(*ctx, DType::bf16, 128, 12288, 12288, 4096),
            hopper ? AttentionKernel::wgmma : AttentionKernel::mma_sync);
  EXPECT_EQ(attention_kernel_for(*ctx, DType::f16, 64, 768, 768, 256), AttentionKernel::mma_sync);
  EXPECT_EQ(attention_kernel_for(*ctx, DType::f32, 128, 12288, 12288, 4096), AttentionKernel::plain);
  EXPECT_EQ(attention_kernel_for(*ctx, DType::bf16, 128, 12290, 12290, 4096), AttentionKernel::plain);  // stride
}

TEST_F(CudaKernels, LinearMatchesFloat64) {
  const int M = 301, N = 203, K = 96;
  for (DType t : {DType::f32, DType::bf16, DType::f16}) {
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(testing::Message() << dtype_name(t) << (accumulate ? " accumulate" : ""));
      const std::vector<float> x = rounded(random(size_t(M) * K), t), w = rounded(random(size_t(N) * K), t);
      const std::vector<float> y0 = random(size_t(M) * N);
      DeviceBuffer dx = put(x, t), dw = put(w, t);
      DeviceBuffer dy = accumulate ? put(y0, DType::f32) : poisoned(size_t(M) * N, DType::f32);
      linear(*ctx, dx.get(), dw.get(), t, dy.get(), DType::f32, M, N, K, accumulate);
      std::vector<double> ref(size_t(M) * N);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          double acc = accumulate ? y0[size_t(m) * N + n] : 0.0;
          for (int k = 0; k < K; ++k) acc += double(x[size_t(m) * K + k]) * w[size_t(n) * K + k];
          ref[size_t(m) * N + n] = acc;
        }
      // Products of 16-bit inputs are exact in f32; only the f32 accumulation rounds.
      EXPECT_LE(max_abs_diff(get(dy, DType::f32, size_t(M) * N), ref), 1e-4);
    }
  }
  // Accumulating into a bf16 residual stream (the Llama pass in bf16): f32 sums, one rounding at the store.
  const DType t = DType::bf16;
  const std::vector<float> x = rounded(random(size_t(M) * K), t), w = rounded(random(size_t(N) * K), t);
  const std::vector<float> y0 = rounded(random(size_t(M) * N, 4.0f), t);
  DeviceBuffer dx = put(x, t), dw = put(w, t), dy = put(y0, t);
  linear(*ctx, dx.get(), dw.get(), t, dy.get(), t, M, N, K, /*accumulate=*/true);
  const std::vector<float> got = get(dy, t, size_t(M) * N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double want = y0[size_t(m) * N + n];
      for (int k = 0; k < K; ++k) want += double(x[size_t(m) * K + k]) * w[size_t(n) * K + k];
      ASSERT_NEAR(got[size_t(m) * N + n], want, std::fabs(want) / 200 + 1e-4) << "row " << m << " column " << n;
    }
}

struct RowShape {
  int D, F, hd;
};

class CudaRowKernels : public CudaKernels, public ::testing::WithParamInterface<RowShape> {};

// Odd sizes take the one-element-per-thread kernels, multiples of 8 the 16-byte-access ones.
INSTANTIATE_TEST_SUITE_P(Shapes, CudaRowKernels, ::testing::Values(RowShape{300, 70, 20}, RowShape{256, 64, 32}),
                         [](const ::testing::TestParamInfo<RowShape>& p) {
                           return "D" + std::to_string(p.param.D) + "_F" + std::to_string(p.param.F) + "_hd" +
                                  std::to_string(p.param.hd);
                         });

TEST_P(CudaRowKernels, MatchFloat64) {
  const int rows = 37, D = GetParam().D, T = 5, hd = GetParam().hd, heads = 3;
  // RMSNorm.
  {
    const std::vector<float> x = random(size_t(rows) * D, 3.0f), w = random(D);
    DeviceBuffer dx = put(x, DType::f32), dw = put(w, DType::f32), out = poisoned(x.size(), DType::f32);
    rms_norm(*ctx, dx.get(), DType::f32, dw.as<float>(), 1e-5f, out.get(), DType::f32, rows, D);
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int i = 0; i < D; ++i) ss += double(x[size_t(r) * D + i]) * x[size_t(r) * D + i];
      const double s = 1.0 / std::sqrt(ss / D + 1e-5);
      for (int i = 0; i < D; ++i) ref[size_t(r) * D + i] = w[i] * x[size_t(r) * D + i] * s;
    }
    EXPECT_LE(max_abs_diff(get(out, DType::f32, x.size()), ref), 1e-5);
  }
  // RMSNorm of a bf16 residual stream into bf16 (the Llama pass in bf16): sums in f32, one rounding at the store.
  {
    const std::vector<float> x = random(size_t(rows) * D, 3.0f), w = random(D);
    DeviceBuffer dx = put(x, DType::bf16), dw = put(w, DType::f32), out = poisoned(x.size(), DType::bf16);
    rms_norm(*ctx, dx.get(), DType::bf16, dw.as<float>(), 1e-5f, out.get(), DType::bf16, rows, D);
    const std::vector<float> xb = get(dx, DType::bf16, x.size());
    const std::vector<float> got = get(out, DType::bf16, x.size());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int i = 0; i < D; ++i) ss += double(xb[size_t(r) * D + i]) * xb[size_t(r) * D + i];
      const double s = 1.0 / std::sqrt(ss / D + 1e-5);
      for (int i = 0; i < D; ++i) {
        const double want = w[i] * xb[size_t(r) * D + i] * s;
        ASSERT_NEAR(got[size_t(r) * D + i], want, std::abs(want) / 128 + 1e-6) << "row " << r << " column " << i;
      }
    }
  }
  // LayerNorm of (x + bias) + residual, f32 and bf16 outputs.
  {
    const std::vector<float> x = random(size_t(rows) * D, 3.0f), bias = random(D), res = random(x.size());
    const std::vector<float> scale = random(D), offset = random(D);
    DeviceBuffer dx = put(x, DType::f32), db = put(bias, DType::f32), dr = put(res, DType::f32);
    DeviceBuffer ds = put(scale, DType::f32), dof = put(offset, DType::f32);
    DeviceBuffer out32 = poisoned(x.size(), DType::f32), out16 = poisoned(x.size(), DType::bf16);
    add_layer_norm(*ctx, dx.as<float>(), db.as<float>(), dr.as<float>(), ds.as<float>(), dof.as<float>(),
                   out32.as<float>(), out16.get(), DType::bf16, rows, D);
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; ++r) {
      std::vector<double> v(D);
      double mean = 0, var = 0;
      for (int i = 0; i < D; ++i) mean += v[i] = double(x[size_t(r) * D + i]) + bias[i] + res[size_t(r) * D + i];
      mean /= D;
      for (double e : v) var += (e - mean) * (e - mean);
      const double inv = 1.0 / std::sqrt(var / D + 1e-5);
      for (int i = 0; i < D; ++i) ref[size_t(r) * D + i] = (v[i] - mean) * inv * scale[i] + offset[i];
    }
    EXPECT_LE(max_abs_diff(get(out32, DType::f32, x.size()), ref), 1e-5);
    EXPECT_LE(max_abs_diff(get(out16, DType::bf16, x.size()), ref), 2e-2);
  }
  // Log-softmax with bias, for a byte alphabet and a 65536-symbol one.
  for (int n : {256, 65536}) {
    const int r_n = n == 256 ? rows : 3;
    const std::vector<float> x = random(size_t(r_n) * n, 8.0f), bias = random(n);
    DeviceBuffer dx = put(x, DType::f32), db = put(bias, DType::f32);
    log_softmax_rows(*ctx, dx.as<float>(), db.as<float>(), r_n, n);
    std::vector<double> ref(x.size());
    for (int r = 0; r < r_n; ++r) {
      double top = -INFINITY, sum = 0;
      for (int i = 0; i < n; ++i) top = std::max(top, double(x[size_t(r) * n + i]) + bias[i]);
      for (int i = 0; i < n; ++i) sum += std::exp(double(x[size_t(r) * n + i]) + bias[i] - top);
      for (int i = 0; i < n; ++i) ref[size_t(r) * n + i] = double(x[size_t(r) * n + i]) + bias[i] - top - std::log(sum);
    }
    EXPECT_LE(max_abs_diff(get(dx, DType::f32, x.size()), ref), 2e-5) << n;
  }
  // SwiGLU and GELU.
  {
    const int F = GetParam().F;
    const std::vector<float> gu = random(size_t(rows) * 2 * F, 4.0f), b = random(F);
    DeviceBuffer dgu = put(gu, DType::f32), out = poisoned(size_t(rows) * F, DType::f32), db = put(b, DType::f32);
    swiglu(*ctx, dgu.get(), out.get(), DType::f32, rows, F);
    std::vector<double> ref(size_t(rows) * F), gelu_ref(size_t(rows) * F);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < F; ++i) {
        const double g = gu[size_t(r) * 2 * F + i], u = gu[size_t(r) * 2 * F + F + i];
        ref[size_t(r) * F + i] = g / (1 + std::exp(-g)) * u;
        const double v = g + b[i];
        gelu_ref[size_t(r) * F + i] = 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
      }
    EXPECT_LE(max_abs_diff(get(out, DType::f32, ref.size()), ref), 1e-5);
    std::vector<float> gates(size_t(rows) * F);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < F; ++i) gates[size_t(r) * F + i] = gu[size_t(r) * 2 * F + i];
    DeviceBuffer dg = put(gates, DType::f32);
    bias_gelu(*ctx, dg.get(), DType::f32, db.as<float>(), rows, F);
    EXPECT_LE(max_abs_diff(get(dg, DType::f32, gelu_ref.size()), gelu_ref), 1e-5);
  }
  // RoPE on the first `heads` heads of each row, position r % T.
  {
    const int stride = (heads + 1) * hd, half = hd / 2;
    const std::vector<float> x = random(size_t(rows) * stride), cs = random(size_t(T) * half), sn = random(cs.size());
    DeviceBuffer dx = put(x, DType::f32), dc = put(cs, DType::f32), dsn = put(sn, DType::f32);
    rope(*ctx, dx.get(), DType::f32, rows, stride, heads, hd, dc.as<float>(), dsn.as<float>(), T);
    std::vector<double> ref(x.begin(), x.end());
    for (int r = 0; r < rows; ++r)
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i) {
          const size_t a = size_t(r) * stride + size_t(h) * hd + i, p = size_t(r % T) * half + i;
          ref[a] = double(x[a]) * cs[p] - double(x[a + half]) * sn[p];
          ref[a + half] = double(x[a + half]) * cs[p] + double(x[a]) * sn[p];
        }
    EXPECT_LE(max_abs_diff(get(dx, DType::f32, x.size()), ref), 1e-6);
  }
  // Embedding rows, scaled, plus positions.
  {
    const int V = 50;
    const std::vector<float> table = random(size_t(V) * D), pos = random(size_t(T) * D);
    std::vector<int> tokens(rows);
    for (int r = 0; r < rows; ++r) tokens[r] = int(rng() % V);
    DeviceBuffer dt = put(table, DType::f32), dp = put(pos, DType::f32), out = poisoned(size_t(rows) * D, DType::f32);
    DeviceBuffer dtok(*ctx, rows * 4, "tokens");
    ctx->to_device(dtok.get(), tokens.data(), rows * 4);
    embed_rows(*ctx, dtok.as<int>(), dt.get(), DType::f32, 16.0f, dp.as<float>(), T, out.as<float>(), nullptr, rows, D);
    std::vector<double> ref(size_t(rows) * D);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < D; ++i)
        ref[size_t(r) * D + i] = double(table[size_t(tokens[r]) * D + i]) * 16.0 + pos[size_t(r % T) * D + i];
    EXPECT_LE(max_abs_diff(get(out, DType::f32, ref.size()), ref), 1e-5);
  }
}

TEST_F(CudaKernels, AllocationBeyondTheCardIsAnOutOfMemoryError) {
  try {
    DeviceBuffer b(*ctx, ctx->facts().total_memory * 2, "a test buffer");
    FAIL() << "allocated twice the card's memory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_memory);
    EXPECT_NE(std::string(e.what()).find("a test buffer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmac::cuda
