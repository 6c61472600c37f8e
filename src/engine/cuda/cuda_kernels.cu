#include "engine/cuda/cuda_kernels.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "engine/cuda/device_types.cuh"
#include "util/error.hpp"

namespace lmac::cuda {

namespace {

constexpr int kThreads = 256;

cudaStream_t stream_of(Context& ctx) { return static_cast<cudaStream_t>(ctx.stream()); }

// Blocks for a grid-stride loop over n elements: enough to fill any current GPU, no more.
bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

unsigned grid_for(size_t n) { return unsigned(std::min<size_t>((n + kThreads - 1) / kThreads, size_t(1) << 16)); }

template <typename T>
__global__ void embed_kernel(const int* tokens, const T* table, float scale, const float* positions, int T_len,
                             float* out32, T* out_t, size_t n, int D) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const size_t r = e / D;
    const int i = int(e % D);
    float v = ld(&table[size_t(tokens[r]) * D + i]) * scale;
    if (positions) v = v + positions[size_t(r % T_len) * D + i];
    if (out32) out32[e] = v;
    if (out_t) st(&out_t[e], v);
  }
}

template <typename X, typename T>
__global__ void rms_norm_kernel(const X* x, const float* w, float eps, T* out, int D) {
  __shared__ float scratch[32];
  const X* xr = x + size_t(blockIdx.x) * D;
  float sum = 0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) sum += ld(&xr[i]) * ld(&xr[i]);
  const float scale = rsqrtf(block_sum(sum, scratch) / float(D) + eps);
  T* o = out + size_t(blockIdx.x) * D;
  for (int i = threadIdx.x; i < D; i += blockDim.x) st(&o[i], w[i] * (ld(&xr[i]) * scale));
}

// The same with eight elements per access (D % 8 == 0, rows 16-byte aligned).
template <typename X, typename T>
__global__ void rms_norm8_kernel(const X* x, const float* w, float eps, T* out, int D) {
  __shared__ float scratch[32];
  const X* xr = x + size_t(blockIdx.x) * D;
  float sum = 0;
  for (int i = threadIdx.x * 8; i < D; i += blockDim.x * 8) {
    float v[8];
    load8(xr + i, v);
#pragma unroll
    for (int j = 0; j < 8; ++j) sum += v[j] * v[j];
  }
  const float scale = rsqrtf(block_sum(sum, scratch) / float(D) + eps);
  T* o = out + size_t(blockIdx.x) * D;
  for (int i = threadIdx.x * 8; i < D; i += blockDim.x * 8) {
    float v[8], g[8];
    load8(xr + i, v);
    load8(w + i, g);
#pragma unroll
    for (int j = 0; j < 8; ++j) v[j] = g[j] * (v[j] * scale);
    store8(o + i, v);
  }
}

// Eight rotation pairs per thread (hd / 2 % 8 == 0, rows 16-byte aligned).
template <typename T>
__global__ void rope8_kernel(T* x, int row_stride, int heads, int hd, const float* cos, const float* sin, int T_len,
                             size_t n) {
  const int half = hd / 2, groups = half / 8;
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const int i = int(e % groups) * 8;
    const size_t rh = e / groups;
    const int h = int(rh % heads);
    const size_t r = rh / heads;
    const size_t pos = r % T_len;
    T* p = x + r * row_stride + size_t(h) * hd;
    float x1[8], x2[8], c[8], s[8];
    load8(p + i, x1);
    load8(p + i + half, x2);
    load8(cos + pos * half + i, c);
    load8(sin + pos * half + i, s);
    float y1[8], y2[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      y1[j] = x1[j] * c[j] - x2[j] * s[j];
      y2[j] = x2[j] * c[j] + x1[j] * s[j];
    }
    store8(p + i, y1);
    store8(p + i + half, y2);
  }
}

// Eight outputs per thread (F % 8 == 0, rows 16-byte aligned).
template <typename T>
__global__ void swiglu8_kernel(const T* gu, T* out, int F, size_t n) {
  const int groups = F / 8;
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const size_t r = e / groups;
    const int i = int(e % groups) * 8;
    float g[8], u[8];
    load8(gu + r * 2 * F + i, g);
    load8(gu + r * 2 * F + F + i, u);
#pragma unroll
    for (int j = 0; j < 8; ++j) g[j] = g[j] / (1.0f + __expf(-g[j])) * u[j];
    store8(out + r * F + i, g);
  }
}

template <typename T>
__global__ void rope_kernel(T* x, int row_stride, int heads, int hd, const float* cos, const float* sin, int T_len,
                            size_t n) {
  const int half = hd / 2;
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const int i = int(e % half);
    const size_t rh = e / half;
    const int h = int(rh % heads);
    const size_t r = rh / heads;
    const size_t pos = r % T_len;
    T* p = x + r * row_stride + size_t(h) * hd;
    const float x1 = ld(&p[i]), x2 = ld(&p[i + half]);
    const float c = cos[pos * half + i], s = sin[pos * half + i];
    st(&p[i], x1 * c - x2 * s);
    st(&p[i + half], x2 * c + x1 * s);
  }
}

template <typename T>
__global__ void swiglu_kernel(const T* gu, T* out, int F, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const size_t r = e / F;
    const int i = int(e % F);
    const float g = ld(&gu[r * 2 * F + i]), u = ld(&gu[r * 2 * F + F + i]);
    st(&out[e], g / (1.0f + expf(-g)) * u);
  }
}

template <typename T>
__global__ void add_layer_norm_kernel(const float* x, const float* bias, const float* residual, const float* scale,
                                      const float* offset, float* out32, T* out_t, int D) {
  __shared__ float scratch[32];
  const size_t base = size_t(blockIdx.x) * D;
  float sum = 0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    float v = x[base + i];
    if (bias) v = v + bias[i];
    v = v + residual[base + i];
    out32[base + i] = v;  // each thread rereads only what it wrote, so out32 may alias x
    sum += v;
  }
  const float mean = block_sum(sum, scratch) / float(D);
  float sq = 0;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float d = out32[base + i] - mean;
    sq += d * d;
  }
  const float inv = rsqrtf(block_sum(sq, scratch) / float(D) + 1e-5f);
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = (out32[base + i] - mean) * (inv * scale[i]) + offset[i];
    out32[base + i] = v;
    if (out_t) st(&out_t[base + i], v);
  }
}

template <typename T>
__global__ void bias_gelu_kernel(T* x, const float* b, int n_cols, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x) {
    const float v = ld(&x[e]) + b[e % n_cols];
    const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    st(&x[e], 0.5f * v * (1.0f + tanhf(u)));
  }
}

__global__ void log_softmax_kernel(float* x, const float* bias, int n) {
  __shared__ float scratch[32];
  float* row = x + size_t(blockIdx.x) * n;
  float top = -INFINITY;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    if (bias) row[i] += bias[i];
    top = fmaxf(top, row[i]);
  }
  top = block_max(top, scratch);
  float sum = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) sum += expf(row[i] - top);
  const float log_z = top + logf(block_sum(sum, scratch));
  for (int i = threadIdx.x; i < n; i += blockDim.x) row[i] -= log_z;
}

template <typename S, typename D>
__global__ void convert_kernel(const S* src, D* dst, size_t n) {
  for (size_t e = blockIdx.x * size_t(blockDim.x) + threadIdx.x; e < n; e += size_t(gridDim.x) * blockDim.x)
    st(&dst[e], ld(&src[e]));
}

}  // namespace

void embed_rows(Context& ctx, const int* tokens, const void* table, DType t, float scale, const float* positions,
                int T_len, float* out32, void* out_t, int rows, int D) {
  const size_t n = size_t(rows) * D;
  if (n == 0) return;
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    embed_kernel<T><<<grid_for(n), kThreads, 0, stream_of(ctx)>>>(tokens, static_cast<const T*>(table), scale,
                                                                   positions, T_len, out32, static_cast<T*>(out_t),
                                                                   n, D);
  });
  ctx.check_launch("embed_rows");
}

void rms_norm(Context& ctx, const void* x, DType xt, const float* w, float eps, void* out, DType t, int rows, int D) {
  if (rows == 0) return;
  if (xt != t && xt != DType::f32)
    throw_error(ErrorCode::internal, "rms_norm: input dtype {} for output {}", dtype_name(xt), dtype_name(t));
  const bool wide = D % 8 == 0 && aligned16(x) && aligned16(w) && aligned16(out);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto x_tag) {
      using X = decltype(x_tag);
      const X* xs = static_cast<const X*>(x);
      if (wide) rms_norm8_kernel<X, T><<<rows, kThreads, 0, stream_of(ctx)>>>(xs, w, eps, static_cast<T*>(out), D);
      else rms_norm_kernel<X, T><<<rows, kThreads, 0, stream_of(ctx)>>>(xs, w, eps, static_cast<T*>(out), D);
    };
    if (xt == DType::f32) launch(float{});
    else launch(T{});
  });
  ctx.check_launch("rms_norm");
}

void rope(Context& ctx, void* x, DType t, int rows, int row_stride, int heads, int hd, const float* cos,
          const float* sin, int T_len) {
  const size_t n = size_t(rows) * heads * (hd / 2);
  if (n == 0) return;
  const bool wide = (hd / 2) % 8 == 0 && row_stride % 8 == 0 && aligned16(x) && aligned16(cos) && aligned16(sin);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    if (wide) {
      rope8_kernel<T><<<grid_for(n / 8), kThreads, 0, stream_of(ctx)>>>(static_cast<T*>(x), row_stride, heads, hd,
                                                                         cos, sin, T_len, n / 8);
    } else {
      rope_kernel<T><<<grid_for(n), kThreads, 0, stream_of(ctx)>>>(static_cast<T*>(x), row_stride, heads, hd, cos,
                                                                    sin, T_len, n);
    }
  });
  ctx.check_launch("rope");
}

void swiglu(Context& ctx, const void* gu, void* out, DType t, int rows, int F) {
  const size_t n = size_t(rows) * F;
  if (n == 0) return;
  const bool wide = F % 8 == 0 && aligned16(gu) && aligned16(out);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    if (wide) {
      swiglu8_kernel<T><<<grid_for(n / 8), kThreads, 0, stream_of(ctx)>>>(static_cast<const T*>(gu),
                                                                           static_cast<T*>(out), F, n / 8);
    } else {
      swiglu_kernel<T><<<grid_for(n), kThreads, 0, stream_of(ctx)>>>(static_cast<const T*>(gu),
                                                                      static_cast<T*>(out), F, n);
    }
  });
  ctx.check_launch("swiglu");
}

void add_layer_norm(Context& ctx, const float* x, const float* bias, const float* residual, const float* scale,
                    const float* offset, float* out32, void* out_t, DType t, int rows, int D) {
  if (rows == 0) return;
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    add_layer_norm_kernel<T><<<rows, kThreads, 0, stream_of(ctx)>>>(x, bias, residual, scale, offset, out32,
                                                                      static_cast<T*>(out_t), D);
  });
  ctx.check_launch("add_layer_norm");
}

void bias_gelu(Context& ctx, void* x, DType t, const float* b, int rows, int n_cols) {
  const size_t n = size_t(rows) * n_cols;
  if (n == 0) return;
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    bias_gelu_kernel<T><<<grid_for(n), kThreads, 0, stream_of(ctx)>>>(static_cast<T*>(x), b, n_cols, n);
  });
  ctx.check_launch("bias_gelu");
}

void log_softmax_rows(Context& ctx, float* x, const float* bias, int rows, int n) {
  if (rows == 0) return;
  const int threads = n <= 4096 ? 256 : 1024;
  log_softmax_kernel<<<rows, threads, 0, stream_of(ctx)>>>(x, bias, n);
  ctx.check_launch("log_softmax_rows");
}

void convert(Context& ctx, const void* src, DType src_t, void* dst, DType dst_t, size_t n) {
  if (n == 0) return;
  dispatch(src_t, [&](auto src_tag) {
    dispatch(dst_t, [&](auto dst_tag) {
      using S = decltype(src_tag);
      using D = decltype(dst_tag);
      convert_kernel<S, D><<<grid_for(n), kThreads, 0, stream_of(ctx)>>>(static_cast<const S*>(src),
                                                                          static_cast<D*>(dst), n);
    });
  });
  ctx.check_launch("convert");
}

}  // namespace lmac::cuda
