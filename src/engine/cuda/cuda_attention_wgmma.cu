// Causal attention for Hopper (sm_90a) on warpgroup matrix instructions (wgmma), FlashAttention-3 style minus
// the producer warp: two warpgroups of 128 threads each own 64 query rows of a 128-row block. S = Q K^T takes Q
// and K straight from shared memory, P stays in registers as the A operand of O += P V, and V is read from
// shared memory transposed by the instruction itself, so no fragment passes through ldmatrix. K/V tiles of 128
// keys arrive by cp.async, double-buffered, in the 128-byte swizzled layout the instructions read.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/attention_device.cuh"
#include "engine/cuda/cuda_attention_wgmma.hpp"

namespace lmac::cuda {

namespace {

constexpr int kHeadDim = 128;
constexpr int kWarpgroups = 2, kThreads = 128 * kWarpgroups;
constexpr int kBlockQ = 64 * kWarpgroups, kBlockK = 128;
constexpr int kQBytes = kBlockQ * kHeadDim * 2, kKVBytes = kBlockK * kHeadDim * 2;
// Three stages of K and V: while tile j's keys meet Q, tile j-1's values still feed O and tile j+1 is loading.
constexpr int kStages = 3;
// Q, then the stages, plus slack to align the start to the 1024-byte swizzle pattern: 225 KiB of the 227 a block
// may have, so one block a multiprocessor.
constexpr int kSharedBytes = kQBytes + kStages * 2 * kKVBytes + 1024;
static_assert(kBlockQ == kBlockK, "every warpgroup needs every key tile of its block (none is all future)");

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LMAC_WGMMA_AVAILABLE 1
#endif

#ifdef LMAC_WGMMA_AVAILABLE
// A [rows x 128] tile of 16-bit elements in the canonical 128-byte-swizzled layout: two halves of 64 columns,
// each rows x 128 bytes, with the 16-byte chunk c (0..7) of row r stored at chunk c ^ (r % 8). `chunk` counts
// 16-byte chunks across the whole row (0..15).
__device__ __forceinline__ uint32_t swizzled_offset(int row, int chunk, int rows) {
  return uint32_t((chunk >> 3) * rows * 128 + row * 128 + (((chunk & 7) ^ (row & 7)) << 4));
}

// The wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format"): start address, leading and
// stride byte offsets (all in 16-byte units), 128-byte swizzling.
__device__ __forceinline__ uint64_t descriptor(uint32_t address, uint32_t leading_bytes, uint32_t stride_bytes) {
  return uint64_t((address & 0x3FFFF) >> 4) | uint64_t((leading_bytes & 0x3FFFF) >> 4) << 16 |
         uint64_t((stride_bytes & 0x3FFFF) >> 4) << 32 | uint64_t(1) << 62;
}

#define LMAC_ACC64 \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
  "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
  "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define LMAC_ACC64_OPERANDS(d) \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
  "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
  "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
  "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
  "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
  "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
  "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
  "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
// Waits until at most N committed groups of this warpgroup's matrix instructions are still running.
template <int N> __device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// After the wait: the accumulators are final only now, so no read of them may move above this point.
__device__ __forceinline__ void settle(float (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; ++i) asm volatile("" : "+f"(d[i])::"memory");
}
// cp.async writes through the generic proxy and wgmma reads through the async proxy.
__device__ __forceinline__ void fence_shared_for_wgmma() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// d (64 x 128, f32) (+)= A (64 x 16, K-major in shared memory) * B (16 x 128, K-major in shared memory).
template <typename T> __device__ __forceinline__ void mma_ss(float (&d)[64], uint64_t a, uint64_t b, int accumulate);
// d (64 x 128, f32) += A (64 x 16 in registers) * B (16 x 128, N-major in shared memory).
template <typename T> __device__ __forceinline__ void mma_rs(float (&d)[64], const uint32_t* a, uint64_t b);

#define LMAC_DEFINE_WGMMA(T, PTX_TYPE)                                                                        \
  template <> __device__ __forceinline__ void mma_ss<T>(float (&d)[64], uint64_t a, uint64_t b, int accumulate) { \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                                  \
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32." PTX_TYPE "." PTX_TYPE " " LMAC_ACC64          \
                 ", %64, %65, p, 1, 1, 0, 0;\n}\n"                                                            \
                 : LMAC_ACC64_OPERANDS(d)                                                                      \
                 : "l"(a), "l"(b), "r"(accumulate)                                                             \
                 : "memory");                                                                                  \
  }                                                                                                            \
  template <> __device__ __forceinline__ void mma_rs<T>(float (&d)[64], const uint32_t* a, uint64_t b) {       \
    asm volatile("wgmma.mma_async.sync.aligned.m64n128k16.f32." PTX_TYPE "." PTX_TYPE " " LMAC_ACC64           \
                 ", {%64, %65, %66, %67}, %68, 1, 1, 1, 1;\n"                                                  \
                 : LMAC_ACC64_OPERANDS(d)                                                                      \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b)                                          \
                 : "memory");                                                                                  \
  }
LMAC_DEFINE_WGMMA(__nv_bfloat16, "bf16")
LMAC_DEFINE_WGMMA(__half, "f16")
#endif

// Thread layout of a 64 x N wgmma accumulator (PTX ISA, "Register Fragments"): warp w of the warpgroup holds rows
// 16 w + lane/4 and 16 w + lane/4 + 8; d[4 j + e] is column 8 j + 2 (lane % 4) + e of the first row (e = 0, 1)
// and of the second (e = 2, 3). Two neighbouring 8-column blocks of S are exactly the A fragment of P for 16 keys.
template <typename T>
__global__ void __launch_bounds__(kThreads, 1)
wgmma_attention_kernel(const T* q, const T* k, const T* v, int q_stride, int kv_stride, T* out, int out_stride,
                       int T_len, int group, float scale_log2) {
#ifdef LMAC_WGMMA_AVAILABLE
  extern __shared__ unsigned char shared_raw[];
  const uint32_t q_tile = (shared_address(shared_raw) + 1023) & ~1023u;
  auto k_tile = [&](int stage) { return q_tile + kQBytes + stage * 2 * kKVBytes; };
  auto v_tile = [&](int stage) { return k_tile(stage) + kKVBytes; };
  // The longest query blocks (most keys under the causal mask) are scheduled first.
  const int q0 = (gridDim.x - 1 - blockIdx.x) * kBlockQ;
  const int h = blockIdx.y, b = blockIdx.z;
  const int wg = threadIdx.x / 128, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
  const size_t seq_row0 = size_t(b) * T_len;
  const int kv_col = (h / group) * kHeadDim;
  const int wg_row0 = q0 + 64 * wg;
  const int row0 = wg_row0 + 16 * warp + lane / 4;  // this thread's rows: row0 and row0 + 8
  const int c = (lane % 4) * 2;

  // Q: the block's rows, zero past the sequence's end. Committed with the first key/value tile.
  for (int i = threadIdx.x; i < kBlockQ * 16; i += kThreads) {
    const int r = i / 16, chunk = i % 16;
    const bool valid = q0 + r < T_len;
    copy16_async(q_tile + swizzled_offset(r, chunk, kBlockQ),
                 q + (valid ? (seq_row0 + q0 + r) * q_stride + size_t(h) * kHeadDim + chunk * 8 : 0), valid);
  }
  auto load_tile = [&](int tile, int stage) {
    const int kv0 = tile * kBlockK;
    for (int i = threadIdx.x; i < kBlockK * 16; i += kThreads) {
      const int r = i / 16, chunk = i % 16;
      const bool valid = kv0 + r < T_len;  // zero past the end: 0 * garbage may be NaN
      const size_t g = valid ? (seq_row0 + kv0 + r) * kv_stride + kv_col + chunk * 8 : 0;
      const uint32_t offset = swizzled_offset(r, chunk, kBlockK);
      copy16_async(k_tile(stage) + offset, k + g, valid);
      copy16_async(v_tile(stage) + offset, v + g, valid);
    }
    commit_copies();
  };

  const int last_query = min(q0 + kBlockQ, T_len) - 1;
  const int tiles_needed = last_query / kBlockK + 1;
  load_tile(0, 0);

  // S = Q K^T of a stage: 8 steps of 16 head dimensions; a step's 32 bytes lie inside one swizzled 128-byte row.
  auto issue_scores = [&](float (&s)[64], int stage) {
#pragma unroll
    for (int ks = 0; ks < kHeadDim / 16; ++ks) {
      const uint32_t column = (ks % 4) * 32;
      const uint64_t a = descriptor(q_tile + (ks / 4) * kBlockQ * 128 + wg * 64 * 128 + column, 16, 1024);
      const uint64_t bk = descriptor(k_tile(stage) + (ks / 4) * kBlockK * 128 + column, 16, 1024);
      mma_ss<T>(s, a, bk, ks > 0);
    }
  };
  // O += P V of a stage, 16 keys a step: V's rows are the instruction's K dimension and its columns (contiguous in
  // shared memory) its N, hence the transposed (N-major) B operand. Leading offset: from head dimensions 0-63 to
  // 64-127; stride offset: from 8 keys to the next 8.
  float o[64];
  auto issue_values = [&](const uint32_t* p, int stage) {
#pragma unroll
    for (int kk = 0; kk < kBlockK / 16; ++kk)
      mma_rs<T>(o, &p[4 * kk], descriptor(v_tile(stage) + kk * 16 * 128, kBlockK * 128, 1024));
  };

#pragma unroll
  for (int i = 0; i < 64; ++i) o[i] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  uint32_t p[kBlockK / 4];  // P of the previous tile, the A operand of its O += P V

  // Tile j's scores are computed while tile j-1's O += P V runs, and tile j's softmax overlaps that product too
  // (FlashAttention-3's intra-warpgroup pipelining): the tensor cores are busy through most of the softmax.
  for (int tile = 0; tile < tiles_needed; ++tile) {
    const int stage = tile % kStages;
    if (tile + 1 < tiles_needed) {
      load_tile(tile + 1, (tile + 1) % kStages);  // the stage of tile j-2, which every thread is done with
    } else {
      commit_copies();  // an empty group keeps "all but the last" meaning "this tile"
    }
    wait_all_but_last_copies();
    fence_shared_for_wgmma();
    __syncthreads();
    const int kv0 = tile * kBlockK;

    float s[64];
    wgmma_fence();
    issue_scores(s, stage);
    wgmma_commit();
    if (tile > 0) {
      issue_values(p, (tile - 1) % kStages);
      wgmma_commit();
      wgmma_wait<1>();  // the scores are in; the product may still run
    } else {
      wgmma_wait<0>();
    }
    settle(s);

    // Online softmax in base 2, as in the mma.sync kernel: p = 2^(s * scale_log2 - m), the causal mask on
    // diagonal tiles only; the four lanes that share a row differ in their two lowest bits. O's rescaling waits
    // for the product in flight.
    const bool diagonal = kv0 + kBlockK - 1 > wg_row0;
    float corr[2];
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      const int row = row0 + 8 * hi;
      if (diagonal) {
#pragma unroll
        for (int j = 0; j < kBlockK / 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e)
            if (kv0 + 8 * j + c + e > row) s[4 * j + 2 * hi + e] = -INFINITY;
      }
      float top = -INFINITY;
#pragma unroll
      for (int j = 0; j < kBlockK / 8; ++j) top = fmaxf(top, fmaxf(s[4 * j + 2 * hi], s[4 * j + 2 * hi + 1]));
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
      // Finite: in every tile a block reads, each of its rows sees key kv0 <= q0 <= row (kBlockQ being kBlockK).
      const float m_new = fmaxf(m[hi], top * scale_log2);
      corr[hi] = fast_exp2(m[hi] - m_new);
      m[hi] = m_new;
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < kBlockK / 8; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& x = s[4 * j + 2 * hi + e];
          x = fast_exp2(fmaf(x, scale_log2, -m_new));
          sum += x;
        }
      l[hi] = l[hi] * corr[hi] + sum;  // per-lane partial sums; the row's four lanes combine at the end
    }
    wgmma_wait<0>();
    settle(o);
#pragma unroll
    for (int j = 0; j < kHeadDim / 8; ++j) {
      o[4 * j] *= corr[0], o[4 * j + 1] *= corr[0];
      o[4 * j + 2] *= corr[1], o[4 * j + 3] *= corr[1];
    }
#pragma unroll
    for (int i = 0; i < kBlockK / 4; ++i) p[i] = pack2<T>(s[2 * i], s[2 * i + 1]);
  }
  wgmma_fence();
  issue_values(p, (tiles_needed - 1) % kStages);
  wgmma_commit();
  wgmma_wait<0>();
  settle(o);

#pragma unroll
  for (int hi = 0; hi < 2; ++hi) {
    float total = l[hi];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    const float inv = 1.0f / total;
    const int row = row0 + 8 * hi;
    if (row >= T_len) continue;
    T* dst = out + (seq_row0 + row) * out_stride + size_t(h) * kHeadDim + c;
#pragma unroll
    for (int j = 0; j < kHeadDim / 8; ++j)
      *reinterpret_cast<uint32_t*>(dst + 8 * j) = pack2<T>(o[4 * j + 2 * hi] * inv, o[4 * j + 2 * hi + 1] * inv);
  }
#else
  __trap();  // launched only on compute capability 9.0, where the sm_90a code exists
#endif
}

template <typename T>
void launch(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride, void* out,
            int out_stride, int batch, int T_len, int heads, int group, float scale) {
  static const cudaError_t raised =  // over 48 KiB of dynamic shared memory must be asked for, once per kernel
      cudaFuncSetAttribute(wgmma_attention_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes);
  if (raised != cudaSuccess) ctx.check_launch("wgmma attention: raising the shared-memory limit");
  const dim3 grid((T_len + kBlockQ - 1) / kBlockQ, heads, batch);
  wgmma_attention_kernel<T><<<grid, kThreads, kSharedBytes, static_cast<cudaStream_t>(ctx.stream())>>>(
      static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_stride, kv_stride,
      static_cast<T*>(out), out_stride, T_len, group, scale * 1.4426950408889634f);
  ctx.check_launch("wgmma attention");
}

}  // namespace

bool wgmma_attention_available(const Context& ctx) {
  return ctx.facts().cc_major == 9 && ctx.facts().cc_minor == 0;
}

void wgmma_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                     void* out, int out_stride, DType t, int batch, int T_len, int heads, int group, float scale) {
  auto run = [&](auto tag) {
    launch<decltype(tag)>(ctx, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len, heads, group, scale);
  };
  if (t == DType::bf16) run(__nv_bfloat16{});
  else run(__half{});
}

}  // namespace lmac::cuda
