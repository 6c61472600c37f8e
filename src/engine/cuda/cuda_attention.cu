#include "engine/cuda/cuda_attention.hpp"

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/device_types.cuh"
#include "util/error.hpp"

namespace lmac::cuda {

namespace {

cudaStream_t stream_of(Context& ctx) { return static_cast<cudaStream_t>(ctx.stream()); }

// ---- The plain kernel: one warp per (query row, head), f32 arithmetic, any head_dim up to 256 -------------------
// Lane j scores key s0 + j of each group of 32 keys (a whole dot product per lane, no shuffles per key), then the
// group's probabilities are broadcast lane by lane into the output accumulators, which hold dims lane + 32 i.

constexpr int kPlainWarps = 4;
constexpr int kMaxHeadDim = 256;

template <typename T>
__global__ void __launch_bounds__(kPlainWarps * 32)
plain_attention_kernel(const T* q, const T* k, const T* v, int q_stride, int kv_stride, T* out, int out_stride,
                       int T_len, int heads, int group, int hd, float scale, size_t pairs) {
  __shared__ float q_shared[kPlainWarps][kMaxHeadDim];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const size_t pair = blockIdx.x * size_t(kPlainWarps) + warp;
  if (pair >= pairs) return;
  const int h = int(pair % heads);
  const size_t row = pair / heads;
  const int t = int(row % T_len);
  const size_t seq_row0 = row - t;
  const int kv_col = (h / group) * hd;
  float* qs = q_shared[warp];
  for (int d = lane; d < hd; d += 32) qs[d] = ld(&q[row * q_stride + size_t(h) * hd + d]) * scale;
  __syncwarp();

  constexpr int kSlots = kMaxHeadDim / 32;
  float acc[kSlots] = {};
  float m = -INFINITY, l = 0;
  for (int s0 = 0; s0 <= t; s0 += 32) {
    const int s = s0 + lane;
    float score = -INFINITY;
    if (s <= t) {
      const T* kr = k + (seq_row0 + s) * kv_stride + kv_col;
      float dot = 0;
      for (int d = 0; d < hd; ++d) dot += qs[d] * ld(&kr[d]);
      score = dot;
    }
    const float m_new = fmaxf(m, warp_max(score));
    const float p = s <= t ? expf(score - m_new) : 0.0f;
    const float corr = expf(m - m_new);
    l = l * corr + warp_sum(p);
#pragma unroll
    for (int i = 0; i < kSlots; ++i) acc[i] *= corr;
    const int n = min(32, t - s0 + 1);
    for (int j = 0; j < n; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
      const T* vr = v + (seq_row0 + s0 + j) * kv_stride + kv_col;
#pragma unroll
      for (int i = 0; i < kSlots; ++i) {
        const int d = lane + 32 * i;
        if (d < hd) acc[i] += pj * ld(&vr[d]);
      }
    }
    m = m_new;
  }
  const float inv_l = 1.0f / l;
#pragma unroll
  for (int i = 0; i < kSlots; ++i) {
    const int d = lane + 32 * i;
    if (d < hd) st(&out[row * out_stride + size_t(h) * hd + d], acc[i] * inv_l);
  }
}

// ---- The tensor-core kernel (FlashAttention-2 style) ---------------------------------------------------------------
// A block takes 64 queries of one (sequence, head); each of its 4 warps owns 16 query rows and keeps their Q
// fragments, running max, running sum and output accumulators in registers. Key/value tiles of 64 rows pass through
// shared memory. mma.sync m16n8k16 fragment layout (PTX ISA): lane holds rows lane/4 and lane/4 + 8, columns
// 2 (lane % 4) + {0, 1} (and + 8 for the A operand's upper half), so the S accumulators of two neighbouring key
// blocks are exactly the A fragment of P for the P V product.

constexpr int kBlockQ = 64, kBlockK = 64, kFlashThreads = 128;

template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

template <typename T> __device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                              uint32_t b1);
template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4],
                                                                    uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <> __device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                             uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 16-bit matrices from shared memory, transposed: lane i gives the address of row i % 8 of matrix i / 8.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row_address) {
  const uint32_t a = static_cast<uint32_t>(__cvta_generic_to_shared(row_address));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(a));
}

__device__ __forceinline__ uint32_t load_pair(const void* p) { return *reinterpret_cast<const uint32_t*>(p); }

template <typename T, int HD>
__global__ void __launch_bounds__(kFlashThreads)
flash_attention_kernel(const T* q, const T* k, const T* v, int q_stride, int kv_stride, T* out, int out_stride,
                       int T_len, int group, float scale_log2) {
  constexpr int kStride = HD + 8;  // padded rows: the 8 rows one fragment load touches fall in distinct banks
  __shared__ __align__(16) T k_tile[kBlockK * kStride];
  __shared__ __align__(16) T v_tile[kBlockK * kStride];
  // The longest query tiles (most keys under the causal mask) are scheduled first.
  const int q0 = (gridDim.x - 1 - blockIdx.x) * kBlockQ;
  const int h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const size_t seq_row0 = size_t(b) * T_len;
  const int kv_col = (h / group) * HD;
  const int row_a = q0 + warp * 16 + lane / 4, row_b = row_a + 8;  // the two query positions this lane holds
  const int c = (lane % 4) * 2;

  uint32_t qf[HD / 16][4];
  {
    const T* qa = q + (seq_row0 + row_a) * q_stride + size_t(h) * HD;
    const T* qb = q + (seq_row0 + row_b) * q_stride + size_t(h) * HD;
    const bool va = row_a < T_len, vb = row_b < T_len;
#pragma unroll
    for (int ks = 0; ks < HD / 16; ++ks) {
      const int col = ks * 16 + c;
      qf[ks][0] = va ? load_pair(qa + col) : 0u;
      qf[ks][1] = vb ? load_pair(qb + col) : 0u;
      qf[ks][2] = va ? load_pair(qa + col + 8) : 0u;
      qf[ks][3] = vb ? load_pair(qb + col + 8) : 0u;
    }
  }

  float o[HD / 8][4];
#pragma unroll
  for (int i = 0; i < HD / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
  float m_a = -INFINITY, m_b = -INFINITY, l_a = 0.0f, l_b = 0.0f;

  const int last_query = min(q0 + kBlockQ, T_len) - 1;
  const int tiles = last_query / kBlockK + 1;
  for (int tile = 0; tile < tiles; ++tile) {
    const int kv0 = tile * kBlockK;
    __syncthreads();  // every warp is done with the previous tile
    constexpr int kVecs = kBlockK * HD / 8;  // 16-byte vectors per tile
    for (int i = threadIdx.x; i < kVecs; i += kFlashThreads) {
      const int r = i / (HD / 8), col = (i % (HD / 8)) * 8;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);  // zero past the end: 0 * garbage may be NaN
      if (kv0 + r < T_len) {
        const size_t g = (seq_row0 + kv0 + r) * kv_stride + kv_col + col;
        kv = *reinterpret_cast<const uint4*>(k + g);
        vv = *reinterpret_cast<const uint4*>(v + g);
      }
      *reinterpret_cast<uint4*>(&k_tile[r * kStride + col]) = kv;
      *reinterpret_cast<uint4*>(&v_tile[r * kStride + col]) = vv;
    }
    __syncthreads();

    // S = Q K^T for this warp's 16 rows and the tile's 64 keys.
    float s[kBlockK / 8][4];
#pragma unroll
    for (int nb = 0; nb < kBlockK / 8; ++nb) {
      s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
      const T* kr = &k_tile[(nb * 8 + lane / 4) * kStride + c];
#pragma unroll
      for (int ks = 0; ks < HD / 16; ++ks) mma16816<T>(s[nb], qf[ks], load_pair(kr + ks * 16), load_pair(kr + ks * 16 + 8));
    }

    // Causal mask, then the online softmax in base 2 (scores pre-multiplied by log2(e) / sqrt(hd)).
    float max_a = -INFINITY, max_b = -INFINITY;
#pragma unroll
    for (int nb = 0; nb < kBlockK / 8; ++nb) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = kv0 + nb * 8 + c + e;
        s[nb][e] = key <= row_a ? s[nb][e] * scale_log2 : -INFINITY;
        s[nb][2 + e] = key <= row_b ? s[nb][2 + e] * scale_log2 : -INFINITY;
        max_a = fmaxf(max_a, s[nb][e]);
        max_b = fmaxf(max_b, s[nb][2 + e]);
      }
    }
    // The four lanes that share a row differ in their two lowest bits.
    max_a = fmaxf(max_a, __shfl_xor_sync(0xffffffffu, max_a, 1));
    max_a = fmaxf(max_a, __shfl_xor_sync(0xffffffffu, max_a, 2));
    max_b = fmaxf(max_b, __shfl_xor_sync(0xffffffffu, max_b, 1));
    max_b = fmaxf(max_b, __shfl_xor_sync(0xffffffffu, max_b, 2));
    const float new_a = fmaxf(m_a, max_a), new_b = fmaxf(m_b, max_b);  // finite: key kv0 <= every row here
    const float corr_a = exp2f(m_a - new_a), corr_b = exp2f(m_b - new_b);
    m_a = new_a, m_b = new_b;
    float sum_a = 0.0f, sum_b = 0.0f;
#pragma unroll
    for (int nb = 0; nb < kBlockK / 8; ++nb) {
      s[nb][0] = exp2f(s[nb][0] - m_a);
      s[nb][1] = exp2f(s[nb][1] - m_a);
      s[nb][2] = exp2f(s[nb][2] - m_b);
      s[nb][3] = exp2f(s[nb][3] - m_b);
      sum_a += s[nb][0] + s[nb][1];
      sum_b += s[nb][2] + s[nb][3];
    }
    l_a = l_a * corr_a + sum_a;  // per-lane partial sums; the four lanes of a row are combined at the end
    l_b = l_b * corr_b + sum_b;
#pragma unroll
    for (int nd = 0; nd < HD / 8; ++nd) {
      o[nd][0] *= corr_a, o[nd][1] *= corr_a;
      o[nd][2] *= corr_b, o[nd][3] *= corr_b;
    }

    // O += P V, 16 keys per step.
#pragma unroll
    for (int kk = 0; kk < kBlockK / 16; ++kk) {
      const uint32_t a[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                             pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                             pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
      const int key = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
      for (int nd = 0; nd < HD / 8; nd += 2) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, &v_tile[key * kStride + nd * 8 + (lane >> 4) * 8]);
        mma16816<T>(o[nd], a, bv[0], bv[1]);
        mma16816<T>(o[nd + 1], a, bv[2], bv[3]);
      }
    }
  }

  l_a += __shfl_xor_sync(0xffffffffu, l_a, 1);
  l_a += __shfl_xor_sync(0xffffffffu, l_a, 2);
  l_b += __shfl_xor_sync(0xffffffffu, l_b, 1);
  l_b += __shfl_xor_sync(0xffffffffu, l_b, 2);
  const float inv_a = 1.0f / l_a, inv_b = 1.0f / l_b;
  T* oa = out + (seq_row0 + row_a) * out_stride + size_t(h) * HD + c;
  T* ob = out + (seq_row0 + row_b) * out_stride + size_t(h) * HD + c;
#pragma unroll
  for (int nd = 0; nd < HD / 8; ++nd) {
    if (row_a < T_len) *reinterpret_cast<uint32_t*>(oa + nd * 8) = pack2<T>(o[nd][0] * inv_a, o[nd][1] * inv_a);
    if (row_b < T_len) *reinterpret_cast<uint32_t*>(ob + nd * 8) = pack2<T>(o[nd][2] * inv_b, o[nd][3] * inv_b);
  }
}

template <typename T, int HD>
void launch_flash(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride, void* out,
                  int out_stride, int batch, int T_len, int heads, int group, float scale) {
  const dim3 grid((T_len + kBlockQ - 1) / kBlockQ, heads, batch);
  flash_attention_kernel<T, HD><<<grid, kFlashThreads, 0, stream_of(ctx)>>>(
      static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_stride, kv_stride,
      static_cast<T*>(out), out_stride, T_len, group, scale * 1.4426950408889634f);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

bool attention_uses_tensor_cores(DType t, int hd, int q_stride, int kv_stride, int out_stride) {
  return t != DType::f32 && (hd == 32 || hd == 64 || hd == 128) && q_stride % 8 == 0 && kv_stride % 8 == 0 &&
         out_stride % 2 == 0;
}

void causal_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                      void* out, int out_stride, DType t, int batch, int T_len, int heads, int kv_heads, int hd,
                      float scale) {
  if (batch == 0 || T_len == 0) return;
  if (heads % kv_heads != 0 || hd > kMaxHeadDim || batch > 65535)
    throw_error(ErrorCode::unsupported, "GPU attention: {} heads over {} key/value heads of dimension {}, batch {}",
                heads, kv_heads, hd, batch);
  const int group = heads / kv_heads;
  if (attention_uses_tensor_cores(t, hd, q_stride, kv_stride, out_stride) && aligned16(q) && aligned16(k) &&
      aligned16(v) && aligned16(out)) {
    auto run = [&](auto tag) {
      using T = decltype(tag);
      if (hd == 32) launch_flash<T, 32>(ctx, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len, heads, group, scale);
      if (hd == 64) launch_flash<T, 64>(ctx, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len, heads, group, scale);
      if (hd == 128) launch_flash<T, 128>(ctx, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len, heads, group, scale);
    };
    if (t == DType::bf16) run(__nv_bfloat16{});
    else run(__half{});
    ctx.check_launch("flash attention");
    return;
  }
  const size_t pairs = size_t(batch) * T_len * heads;
  const unsigned blocks = unsigned((pairs + kPlainWarps - 1) / kPlainWarps);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    plain_attention_kernel<T><<<blocks, kPlainWarps * 32, 0, stream_of(ctx)>>>(
        static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_stride, kv_stride,
        static_cast<T*>(out), out_stride, T_len, heads, group, hd, scale, pairs);
  });
  ctx.check_launch("attention");
}

}  // namespace lmac::cuda
