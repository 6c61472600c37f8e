#include "engine/cuda/cuda_attention.hpp"

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "engine/cuda/attention_device.cuh"
#include "engine/cuda/cuda_attention_wgmma.hpp"
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
// A block takes 128 queries of one (sequence, head); each of its 4 warps owns 32 query rows (two 16-row blocks, so
// every key/value fragment read from shared memory feeds two matrix instructions) and keeps their running max,
// running sum and output accumulators in registers. Q waits in shared memory; key/value tiles of 64 rows stream
// through it in two stages, the copy engine (cp.async) filling the next tile while the warps compute on this one.
// mma.sync m16n8k16 fragment layout (PTX ISA): lane holds rows lane/4 and lane/4 + 8, columns 2 (lane % 4) + {0, 1}
// (and + 8 for the A operand's upper half), so the S accumulators of two neighbouring key blocks are exactly the
// A fragment of P for the P V product.

// Four warps of 32 rows: measured faster than eight (which share each key/value tile among more warps but leave
// fewer blocks per multiprocessor), 1.20 s against 1.30 s of attention in a Llama-2-7B pass over 256 chunks, H100.
constexpr int kRowBlocks = 2;  // 16-row blocks per warp
constexpr int kFlashWarps = 4, kFlashThreads = 32 * kFlashWarps;
constexpr int kBlockQ = 16 * kRowBlocks * kFlashWarps, kBlockK = 64;

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

// Four 8x8 16-bit matrices from shared memory: lane i gives the address of row i % 8 of matrix i / 8. Plain, lane
// t receives row t/4, columns 2 (t % 4) + {0, 1}; transposed, column t/4, rows 2 (t % 4) + {0, 1}.
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address)));
}

// 16 bytes global -> shared without passing through registers; zero-filled when !valid (no bytes are read).
__device__ __forceinline__ void copy16_async(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most one group of copies (the most recent) is still in flight.
__device__ __forceinline__ void wait_all_but_last_copies() { asm volatile("cp.async.wait_group 1;\n" ::); }

template <int HD>
constexpr int flash_shared_bytes() {
  return (kBlockQ + 2 /*stages*/ * 2 /*K, V*/ * kBlockK) * (HD + 8) * 2 /*bytes*/;
}

// Two blocks per multiprocessor, up to 255 registers a thread: at head_dim 128 the accumulators take most of them
// and ptxas -v reports 40 bytes of spill stores; a tighter cap for more blocks spilled more.
template <typename T, int HD>
__global__ void __launch_bounds__(kFlashThreads, 2)
flash_attention_kernel(const T* q, const T* k, const T* v, int q_stride, int kv_stride, T* out, int out_stride,
                       int T_len, int group, float scale_log2) {
  constexpr int kStride = HD + 8;  // padded rows: the 8 rows one fragment load touches fall in distinct banks
  constexpr int kTile = kBlockK * kStride;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  T* q_tile = reinterpret_cast<T*>(shared_raw);
  T* tiles = q_tile + kBlockQ * kStride;  // stage s: K at tiles + 2 s kTile, V right after it
  // The longest query tiles (most keys under the causal mask) are scheduled first.
  const int q0 = (gridDim.x - 1 - blockIdx.x) * kBlockQ;
  const int h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const size_t seq_row0 = size_t(b) * T_len;
  const int kv_col = (h / group) * HD;
  const int c = (lane % 4) * 2;
  const int warp_row0 = q0 + warp * 16 * kRowBlocks;  // this warp's first query

  // Q: the block's 128 rows, zero past the sequence's end. Committed with the first key/value tile.
  for (int i = threadIdx.x; i < kBlockQ * HD / 8; i += kFlashThreads) {
    const int r = i / (HD / 8), col = (i % (HD / 8)) * 8;
    const bool valid = q0 + r < T_len;
    copy16_async(&q_tile[r * kStride + col], q + (valid ? (seq_row0 + q0 + r) * q_stride + size_t(h) * HD + col : 0),
                 valid);
  }
  auto load_tile = [&](int tile, int stage) {
    const int kv0 = tile * kBlockK;
    T* kt = tiles + 2 * stage * kTile;
    T* vt = kt + kTile;
    for (int i = threadIdx.x; i < kBlockK * HD / 8; i += kFlashThreads) {
      const int r = i / (HD / 8), col = (i % (HD / 8)) * 8;
      const bool valid = kv0 + r < T_len;  // zero past the end: 0 * garbage may be NaN
      const size_t g = valid ? (seq_row0 + kv0 + r) * kv_stride + kv_col + col : 0;
      copy16_async(&kt[r * kStride + col], k + g, valid);
      copy16_async(&vt[r * kStride + col], v + g, valid);
    }
    commit_copies();
  };

  const int last_query = min(q0 + kBlockQ, T_len) - 1;
  const int tiles_needed = last_query / kBlockK + 1;
  load_tile(0, 0);

  float o[kRowBlocks][HD / 8][4];
  float m[kRowBlocks][2], l[kRowBlocks][2];  // [row block][row lane/4, row lane/4 + 8]
#pragma unroll
  for (int rb = 0; rb < kRowBlocks; ++rb) {
#pragma unroll
    for (int i = 0; i < HD / 8; ++i) o[rb][i][0] = o[rb][i][1] = o[rb][i][2] = o[rb][i][3] = 0.0f;
    m[rb][0] = m[rb][1] = -INFINITY;
    l[rb][0] = l[rb][1] = 0.0f;
  }

  for (int tile = 0; tile < tiles_needed; ++tile) {
    if (tile + 1 < tiles_needed) {
      load_tile(tile + 1, (tile + 1) & 1);
    } else {
      commit_copies();  // an empty group keeps "all but the last" meaning "this tile"
    }
    wait_all_but_last_copies();
    __syncthreads();
    const T* kt = tiles + 2 * (tile & 1) * kTile;
    const T* vt = kt + kTile;
    const int kv0 = tile * kBlockK;
    if (kv0 > warp_row0 + 16 * kRowBlocks - 1) {  // every key of this tile is in this warp's future
      __syncthreads();
      continue;
    }

    // S = Q K^T for this warp's 32 rows and the tile's 64 keys.
    float s[kRowBlocks][kBlockK / 8][4];
#pragma unroll
    for (int rb = 0; rb < kRowBlocks; ++rb)
#pragma unroll
      for (int nb = 0; nb < kBlockK / 8; ++nb) s[rb][nb][0] = s[rb][nb][1] = s[rb][nb][2] = s[rb][nb][3] = 0.0f;
#pragma unroll
    for (int ks = 0; ks < HD / 16; ++ks) {
      uint32_t qa[kRowBlocks][4];  // A fragments of k-step ks
#pragma unroll
      for (int rb = 0; rb < kRowBlocks; ++rb)
        ldmatrix_x4(qa[rb], &q_tile[(warp * 16 * kRowBlocks + rb * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride +
                                    ks * 16 + (lane >> 4) * 8]);
#pragma unroll
      for (int nb = 0; nb < kBlockK / 8; nb += 2) {
        uint32_t kb[4];  // B fragments of key blocks nb and nb + 1
        ldmatrix_x4(kb, &kt[(nb * 8 + (lane & 7) + (lane >> 4) * 8) * kStride + ks * 16 + ((lane >> 3) & 1) * 8]);
#pragma unroll
        for (int rb = 0; rb < kRowBlocks; ++rb) {
          mma16816<T>(s[rb][nb], qa[rb], kb[0], kb[1]);
          mma16816<T>(s[rb][nb + 1], qa[rb], kb[2], kb[3]);
        }
      }
    }

    // Online softmax in base 2: p = 2^(s * scale_log2 - m) with m the running max of s * scale_log2 (one FFMA and
    // one ex2 per score), the causal mask on diagonal tiles only. The four lanes that share a row differ in their
    // two lowest bits.
    const bool diagonal = kv0 + kBlockK - 1 > warp_row0;
#pragma unroll
    for (int rb = 0; rb < kRowBlocks; ++rb) {
#pragma unroll
      for (int hi = 0; hi < 2; ++hi) {
        float top = -INFINITY;
        if (diagonal) {
          const int row = warp_row0 + rb * 16 + lane / 4 + 8 * hi;
#pragma unroll
          for (int nb = 0; nb < kBlockK / 8; ++nb)
#pragma unroll
            for (int e = 0; e < 2; ++e)
              if (kv0 + nb * 8 + c + e > row) s[rb][nb][2 * hi + e] = -INFINITY;
        }
#pragma unroll
        for (int nb = 0; nb < kBlockK / 8; ++nb) top = fmaxf(top, fmaxf(s[rb][nb][2 * hi], s[rb][nb][2 * hi + 1]));
        top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
        top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
        const float m_new = fmaxf(m[rb][hi], top * scale_log2);  // finite: tile 0 holds key 0 <= every row
        const float corr = fast_exp2(m[rb][hi] - m_new);
        m[rb][hi] = m_new;
        float sum = 0.0f;
#pragma unroll
        for (int nb = 0; nb < kBlockK / 8; ++nb)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float& x = s[rb][nb][2 * hi + e];
            x = fast_exp2(fmaf(x, scale_log2, -m_new));
            sum += x;
          }
        l[rb][hi] = l[rb][hi] * corr + sum;  // per-lane partial sums; the row's four lanes combine at the end
#pragma unroll
        for (int nd = 0; nd < HD / 8; ++nd) o[rb][nd][2 * hi] *= corr, o[rb][nd][2 * hi + 1] *= corr;
      }
    }

    // O += P V, 16 keys per step.
#pragma unroll
    for (int kk = 0; kk < kBlockK / 16; ++kk) {
      uint32_t a[kRowBlocks][4];
#pragma unroll
      for (int rb = 0; rb < kRowBlocks; ++rb) {
        a[rb][0] = pack2<T>(s[rb][2 * kk][0], s[rb][2 * kk][1]);
        a[rb][1] = pack2<T>(s[rb][2 * kk][2], s[rb][2 * kk][3]);
        a[rb][2] = pack2<T>(s[rb][2 * kk + 1][0], s[rb][2 * kk + 1][1]);
        a[rb][3] = pack2<T>(s[rb][2 * kk + 1][2], s[rb][2 * kk + 1][3]);
      }
      const int key = kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
      for (int nd = 0; nd < HD / 8; nd += 2) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, &vt[key * kStride + nd * 8 + (lane >> 4) * 8]);
#pragma unroll
        for (int rb = 0; rb < kRowBlocks; ++rb) {
          mma16816<T>(o[rb][nd], a[rb], bv[0], bv[1]);
          mma16816<T>(o[rb][nd + 1], a[rb], bv[2], bv[3]);
        }
      }
    }
    __syncthreads();  // every warp is done with this stage before the next iteration refills it
  }

#pragma unroll
  for (int rb = 0; rb < kRowBlocks; ++rb) {
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
      float total = l[rb][hi];
      total += __shfl_xor_sync(0xffffffffu, total, 1);
      total += __shfl_xor_sync(0xffffffffu, total, 2);
      const float inv = 1.0f / total;
      const int row = warp_row0 + rb * 16 + lane / 4 + 8 * hi;
      if (row >= T_len) continue;
      T* dst = out + (seq_row0 + row) * out_stride + size_t(h) * HD + c;
#pragma unroll
      for (int nd = 0; nd < HD / 8; ++nd)
        *reinterpret_cast<uint32_t*>(dst + nd * 8) = pack2<T>(o[rb][nd][2 * hi] * inv, o[rb][nd][2 * hi + 1] * inv);
    }
  }
}

template <typename T, int HD>
void launch_flash(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride, void* out,
                  int out_stride, int batch, int T_len, int heads, int group, float scale) {
  constexpr int bytes = flash_shared_bytes<HD>();
  static const cudaError_t raised =  // over 48 KiB of dynamic shared memory must be asked for, once per kernel
      cudaFuncSetAttribute(flash_attention_kernel<T, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (raised != cudaSuccess) ctx.check_launch("flash attention: raising the shared-memory limit");
  const dim3 grid((T_len + kBlockQ - 1) / kBlockQ, heads, batch);
  flash_attention_kernel<T, HD><<<grid, kFlashThreads, bytes, stream_of(ctx)>>>(
      static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), q_stride, kv_stride,
      static_cast<T*>(out), out_stride, T_len, group, scale * 1.4426950408889634f);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool mma_sync_applies(DType t, int hd, int q_stride, int kv_stride, int out_stride) {
  return t != DType::f32 && (hd == 32 || hd == 64 || hd == 128) && q_stride % 8 == 0 && kv_stride % 8 == 0 &&
         out_stride % 2 == 0;
}

bool applies(AttentionKernel kernel, const Context& ctx, DType t, int hd, int q_stride, int kv_stride,
             int out_stride) {
  switch (kernel) {
    case AttentionKernel::wgmma:
      return hd == 128 && wgmma_attention_available(ctx) && mma_sync_applies(t, hd, q_stride, kv_stride, out_stride);
    case AttentionKernel::mma_sync: return mma_sync_applies(t, hd, q_stride, kv_stride, out_stride);
    case AttentionKernel::plain: return hd <= kMaxHeadDim;
    case AttentionKernel::automatic: return true;
  }
  return false;
}

}  // namespace

const char* attention_kernel_name(AttentionKernel k) {
  switch (k) {
    case AttentionKernel::automatic: return "automatic";
    case AttentionKernel::wgmma: return "wgmma";
    case AttentionKernel::mma_sync: return "mma.sync";
    case AttentionKernel::plain: return "plain";
  }
  return "?";
}

AttentionKernel attention_kernel_for(const Context& ctx, DType t, int hd, int q_stride, int kv_stride,
                                     int out_stride) {
  for (AttentionKernel k : {AttentionKernel::wgmma, AttentionKernel::mma_sync})
    if (applies(k, ctx, t, hd, q_stride, kv_stride, out_stride)) return k;
  return AttentionKernel::plain;
}

void causal_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                      void* out, int out_stride, DType t, int batch, int T_len, int heads, int kv_heads, int hd,
                      float scale, AttentionKernel kernel) {
  if (batch == 0 || T_len == 0) return;
  if (heads % kv_heads != 0 || hd > kMaxHeadDim || batch > 65535)
    throw_error(ErrorCode::unsupported, "GPU attention: {} heads over {} key/value heads of dimension {}, batch {}",
                heads, kv_heads, hd, batch);
  const int group = heads / kv_heads;
  const bool aligned = aligned16(q) && aligned16(k) && aligned16(v) && aligned16(out);
  if (kernel == AttentionKernel::automatic)
    kernel = aligned ? attention_kernel_for(ctx, t, hd, q_stride, kv_stride, out_stride) : AttentionKernel::plain;
  else if (!applies(kernel, ctx, t, hd, q_stride, kv_stride, out_stride) ||
           (kernel != AttentionKernel::plain && !aligned))
    throw_error(ErrorCode::unsupported, "GPU attention: the {} kernel does not run {} with head_dim {} on {}",
                attention_kernel_name(kernel), dtype_name(t), hd, ctx.description());

  if (kernel == AttentionKernel::wgmma) {
    wgmma_attention(ctx, q, k, v, q_stride, kv_stride, out, out_stride, t, batch, T_len, heads, group, scale);
    return;
  }
  if (kernel == AttentionKernel::mma_sync) {
    auto run = [&](auto tag) {
      using T = decltype(tag);
      auto flash = [&](auto head_dim) {
        launch_flash<T, decltype(head_dim)::value>(ctx, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len,
                                                   heads, group, scale);
      };
      if (hd == 32) flash(std::integral_constant<int, 32>{});
      if (hd == 64) flash(std::integral_constant<int, 64>{});
      if (hd == 128) flash(std::integral_constant<int, 128>{});
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
