// Causal attention for Hopper (sm_90a), FlashAttention-3 style: warpgroup matrix instructions (wgmma) fed by the
// tensor memory accelerator (TMA). A block takes 128 queries of one (sequence, head); two warpgroups own 64 query
// rows each. S = Q K^T reads Q and K straight from shared memory, P stays in registers as the A operand of
// O += P V, and V is read transposed by the instruction itself. Q, and K and V tiles of 128 keys, arrive by TMA in
// three stages, each guarded by "full" and "empty" mbarriers (K and V apart: a tile's K is free a step before its
// V). One thread of the trailing warpgroup issues the copies two tiles ahead, at points where the stage it
// refills is already free, so no thread ever waits for a copy slot and no register-hungry producer is needed.
// Two overlaps keep the tensor cores busy through the softmax: within a warpgroup, tile j's scores and tile j-1's
// P V product are issued together and tile j's softmax runs while the product does; between the warpgroups, a
// pair of named barriers makes them take turns issuing ("ping-pong"), so one's softmax meets the other's products.
#include <cuda.h>  // CUtensorMap and its enums; the encoder comes from the driver at run time
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/attention_device.cuh"
#include "engine/cuda/cuda_attention_wgmma.hpp"
#include "util/error.hpp"

namespace lmac::cuda {

namespace {

constexpr int kHeadDim = 128;
constexpr int kThreads = 256;  // two warpgroups
constexpr int kBlockQ = 128, kBlockK = 128;
static_assert(kBlockQ == kBlockK, "every warpgroup needs every key tile of its block (none is all future)");
constexpr int kStages = 3;
constexpr int kQBytes = kBlockQ * kHeadDim * 2, kKVBytes = kBlockK * kHeadDim * 2;
constexpr int kHalfColumns = 64;  // a TMA box and a swizzled row: 64 16-bit elements, 128 bytes
// Q, then the stages (K, V), plus slack to align the start to the 1024-byte swizzle pattern: 225 KiB of the 227 a
// block may have, so one block a multiprocessor.
constexpr int kSharedBytes = kQBytes + kStages * 2 * kKVBytes + 1024;

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define LMAC_WGMMA_AVAILABLE 1
#endif

#ifdef LMAC_WGMMA_AVAILABLE
// Shared-memory tiles are [rows x 128] 16-bit elements in the canonical 128-byte-swizzled layout that TMA writes
// and wgmma reads: two halves of 64 columns, each rows x 128 bytes, the 16-byte chunk c of row r at chunk
// c ^ (r % 8). The wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format"): start address,
// leading and stride byte offsets (all in 16-byte units), 128-byte swizzling.
__device__ __forceinline__ uint64_t descriptor(uint32_t address, uint32_t leading_bytes, uint32_t stride_bytes) {
  return uint64_t((address & 0x3FFFF) >> 4) | uint64_t((leading_bytes & 0x3FFFF) >> 4) << 16 |
         uint64_t((stride_bytes & 0x3FFFF) >> 4) << 32 | uint64_t(1) << 62;
}

// ---- mbarriers, TMA and named barriers (PTX ISA) -------------------------------------------------------------------
__device__ __forceinline__ void barrier_init(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void barrier_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Arrives and announces `bytes` of TMA traffic that must land before the phase completes.
__device__ __forceinline__ void barrier_arrive_expecting(uint32_t bar, int bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
// Waits for the completion of the barrier's phase of this parity (uses alternate parities).
__device__ __forceinline__ void barrier_wait(uint32_t bar, int parity) {
  uint32_t done;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
// A box of `map` at (column, row) into shared memory; completion is counted on `bar` in bytes.
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap& map, int column, int row, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
      :
      : "r"(dst), "l"(reinterpret_cast<uint64_t>(&map)), "r"(column), "r"(row), "r"(bar)
      : "memory");
}
// Named barriers 1 and 2 pass the turn between the two warpgroups (0 is __syncthreads').
__device__ __forceinline__ void named_sync(int id) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "n"(kThreads) : "memory");
}
__device__ __forceinline__ void named_arrive(int id) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "n"(kThreads) : "memory");
}

// ---- wgmma ---------------------------------------------------------------------------------------------------------
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
// Pins every accumulator register at this point. After a wait the values are final only now, so no read may move
// above it; before a fence no write (O's rescaling) may sink below it into the matrix instructions' window, which
// makes ptxas serialise them (warnings C7514/C7519).
__device__ __forceinline__ void settle(float (&d)[64]) {
#pragma unroll
  for (int i = 0; i < 64; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// The same for the registers of P, the A operand of O += P V.
template <int N> __device__ __forceinline__ void pin(uint32_t (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+r"(r[i])::"memory");
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
wgmma_attention_kernel(const __grid_constant__ CUtensorMap q_map, const __grid_constant__ CUtensorMap k_map,
                       const __grid_constant__ CUtensorMap v_map, T* out, int out_stride, int T_len, int group,
                       float scale_log2) {
#ifdef LMAC_WGMMA_AVAILABLE
  extern __shared__ unsigned char shared_raw[];
  // Q full; then per stage: K full, V full, K empty, V empty.
  __shared__ uint64_t barriers[1 + 4 * kStages];
  const uint32_t q_tile = (shared_address(shared_raw) + 1023) & ~1023u;
  auto k_tile = [&](int stage) { return q_tile + kQBytes + stage * 2 * kKVBytes; };
  auto v_tile = [&](int stage) { return k_tile(stage) + kKVBytes; };
  const uint32_t q_full = shared_address(&barriers[0]);
  auto k_full = [&](int stage) { return shared_address(&barriers[1 + stage]); };
  auto v_full = [&](int stage) { return shared_address(&barriers[1 + kStages + stage]); };
  auto k_empty = [&](int stage) { return shared_address(&barriers[1 + 2 * kStages + stage]); };
  auto v_empty = [&](int stage) { return shared_address(&barriers[1 + 3 * kStages + stage]); };

  // The longest query blocks (most keys under the causal mask) are scheduled first.
  const int q0 = (gridDim.x - 1 - blockIdx.x) * kBlockQ;
  const int h = blockIdx.y;
  const int seq_row0 = blockIdx.z * T_len;  // rows of the maps: tokens of all sequences (fits int: checked)
  const int kv_col = (h / group) * kHeadDim;
  const int tiles = (min(q0 + kBlockQ, T_len) - 1) / kBlockK + 1;
  const bool issuer = threadIdx.x == 128;  // warpgroup 1, which takes its turns after warpgroup 0

  if (issuer) {
    for (const CUtensorMap* map : {&q_map, &k_map, &v_map})
      asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
    barrier_init(q_full, 1);
    for (int s = 0; s < kStages; ++s) {
      barrier_init(k_full(s), 1);
      barrier_init(v_full(s), 1);
      barrier_init(k_empty(s), kThreads / 32);  // lane 0 of each warp
      barrier_init(v_empty(s), kThreads / 32);
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");  // visible to the TMA unit
  }

  // Copies K or V tile `tile` (map and shared memory) into its stage once the tile kStages earlier has left it
  // (`empty`); `full` completes when the bytes have landed. Rows past the sequence's end are the next sequence's
  // (finite, and masked as future keys) or, past the last, zeros from TMA's out-of-bounds fill.
  auto load = [&](const CUtensorMap& map, uint32_t dst, uint32_t full, uint32_t empty, int tile) {
    if (tile >= kStages) barrier_wait(empty, (tile / kStages - 1) & 1);
    barrier_arrive_expecting(full, kKVBytes);
    for (int half = 0; half < 2; ++half)
      tma_load(dst + half * (kKVBytes / 2), map, kv_col + half * kHalfColumns, seq_row0 + tile * kBlockK, full);
  };
  auto load_k = [&](int tile) {
    const int stage = tile % kStages;
    load(k_map, k_tile(stage), k_full(stage), k_empty(stage), tile);
  };
  auto load_v = [&](int tile) {
    const int stage = tile % kStages;
    load(v_map, v_tile(stage), v_full(stage), v_empty(stage), tile);
  };
  if (issuer) {  // the first copies go out before the other threads even see the barriers
    barrier_arrive_expecting(q_full, kQBytes);
    for (int half = 0; half < 2; ++half)
      tma_load(q_tile + half * (kQBytes / 2), q_map, h * kHeadDim + half * kHalfColumns, seq_row0 + q0, q_full);
    for (int tile = 0; tile < min(tiles, 2); ++tile) load_k(tile), load_v(tile);
  }
  __syncthreads();

  const int wg = threadIdx.x / 128, warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
  const int wg_row0 = q0 + 64 * wg;
  const int row0 = wg_row0 + 16 * warp + lane / 4;  // this thread's rows: row0 and row0 + 8
  const int c = (lane % 4) * 2;

  // S = Q K^T of a stage: 8 steps of 16 head dimensions; a step's 32 bytes lie inside one swizzled 128-byte row.
  auto issue_scores = [&](float (&s)[64], int stage) {
#pragma unroll
    for (int ks = 0; ks < kHeadDim / 16; ++ks) {
      const uint32_t column = (ks % 4) * 32;
      const uint64_t a = descriptor(q_tile + (ks / 4) * (kQBytes / 2) + wg * 64 * 128 + column, 16, 1024);
      const uint64_t bk = descriptor(k_tile(stage) + (ks / 4) * (kKVBytes / 2) + column, 16, 1024);
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
      mma_rs<T>(o, &p[4 * kk], descriptor(v_tile(stage) + kk * 16 * 128, kKVBytes / 2, 1024));
  };
  auto wait_values = [&](int tile) { barrier_wait(v_full(tile % kStages), (tile / kStages) & 1); };
  auto release = [&](uint32_t empty_barrier) {
    if (lane == 0) barrier_arrive(empty_barrier);
  };
  // The turn to issue matrix instructions: warpgroup 0 starts, each hands it to the other after issuing. Both
  // take tiles + 1 turns; warpgroup 1's last hand-over would have no taker and is left out.
  const int my_turn = 1 + wg, other_turn = 2 - wg;
  if (wg == 1) named_arrive(other_turn);
  auto take_turn = [&] { named_sync(my_turn); };
  auto pass_turn = [&](bool last) {
    if (!(last && wg == 1)) named_arrive(other_turn);
  };

#pragma unroll
  for (int i = 0; i < 64; ++i) o[i] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  uint32_t p[kBlockK / 4];  // P of the previous tile, the A operand of its O += P V
  barrier_wait(q_full, 0);

  // Online softmax of tile `tile`'s scores in base 2, as in the mma.sync kernel: p = 2^(s * scale_log2 - m), the
  // causal mask on diagonal tiles only; the four lanes that share a row differ in their two lowest bits. Sets corr
  // to the factors O's rows must be rescaled by (applied once the product in flight has finished).
  auto softmax = [&](float (&s)[64], int tile, float (&corr)[2]) {
    const int kv0 = tile * kBlockK;
    const bool diagonal = kv0 + kBlockK - 1 > wg_row0;
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
  };
  auto keep_p = [&](const float (&s)[64]) {
#pragma unroll
    for (int i = 0; i < kBlockK / 4; ++i) p[i] = pack2<T>(s[2 * i], s[2 * i + 1]);
  };

  // Tile 0: its scores alone (no product is in flight yet).
  {
    if (issuer && 2 < tiles) load_k(2);
    barrier_wait(k_full(0), 0);
    float s[64];
    take_turn();
    wgmma_fence();
    issue_scores(s, 0);
    wgmma_commit();
    pass_turn(false);
    wgmma_wait<0>();
    settle(s);
    release(k_empty(0));
    float corr[2];
    softmax(s, 0, corr);
    if (issuer && 2 < tiles) load_v(2);
    keep_p(s);
  }
  // Tiles 1 on: tile j's scores issued together with tile j-1's product, with no branch between the matrix
  // instructions and their wait (ptxas serialises wgmma across a divergent path, warning C7520).
  for (int tile = 1; tile < tiles; ++tile) {
    const int stage = tile % kStages, parity = (tile / kStages) & 1;
    // K two tiles ahead: its stage held tile - 1, whose scores both warpgroups have (this one trails).
    if (issuer && tile + 2 < tiles) load_k(tile + 2);
    barrier_wait(k_full(stage), parity);
    wait_values(tile - 1);
    float s[64];
    take_turn();
    settle(o);  // O's rescaling and P are complete before the fence, not sunk past it by the compiler
    pin(p);
    wgmma_fence();
    issue_scores(s, stage);
    wgmma_commit();
    issue_values(p, (tile - 1) % kStages);
    wgmma_commit();
    pass_turn(false);
    wgmma_wait<1>();  // the scores are in; the product may still run
    settle(s);
    release(k_empty(stage));
    float corr[2];
    softmax(s, tile, corr);
    wgmma_wait<0>();
    settle(o);
    release(v_empty((tile - 1) % kStages));
    // V two tiles ahead: its stage held tile - 1, whose product both warpgroups have finished now.
    if (issuer && tile + 2 < tiles) load_v(tile + 2);
#pragma unroll
    for (int j = 0; j < kHeadDim / 8; ++j) {
      o[4 * j] *= corr[0], o[4 * j + 1] *= corr[0];
      o[4 * j + 2] *= corr[1], o[4 * j + 3] *= corr[1];
    }
    keep_p(s);
  }
  wait_values(tiles - 1);
  take_turn();
  settle(o);
  pin(p);
  wgmma_fence();
  issue_values(p, (tiles - 1) % kStages);
  wgmma_commit();
  pass_turn(true);
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
    T* dst = out + (size_t(seq_row0) + row) * out_stride + size_t(h) * kHeadDim + c;
#pragma unroll
    for (int j = 0; j < kHeadDim / 8; ++j)
      *reinterpret_cast<uint32_t*>(dst + 8 * j) = pack2<T>(o[4 * j + 2 * hi] * inv, o[4 * j + 2 * hi + 1] * inv);
  }
#else
  __trap();  // launched only on compute capability 9.0, where the sm_90a code exists
#endif
}

// cuTensorMapEncodeTiled, from the driver the runtime loaded (lmac links no libcuda).
using EncodeTiled = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                 const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                 CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

EncodeTiled tensor_map_encoder() {
  static const EncodeTiled encode = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      f = nullptr;
    return reinterpret_cast<EncodeTiled>(f);
  }();
  return encode;
}

// A TMA map of `rows` x `columns` 16-bit elements at `base`, rows `stride` elements apart, read in 128 x 64 boxes
// that land 128-byte-swizzled; reads past the last row return zeros.
CUtensorMap tile_map(const void* base, DType t, int columns, size_t rows, int stride) {
  const EncodeTiled encode = tensor_map_encoder();
  if (!encode) throw_error(ErrorCode::internal, "wgmma attention: the driver has no cuTensorMapEncodeTiled");
  CUtensorMap map;
  const cuuint64_t dims[2] = {cuuint64_t(columns), cuuint64_t(rows)};
  const cuuint64_t strides[1] = {cuuint64_t(stride) * 2};
  const cuuint32_t box[2] = {kHalfColumns, kBlockK};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUtensorMapDataType type =
      t == DType::bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  const CUresult r = encode(&map, type, 2, const_cast<void*>(base), dims, strides, box, element_strides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw_error(ErrorCode::internal, "wgmma attention: cuTensorMapEncodeTiled failed ({}) for {} x {}, stride {}",
                int(r), rows, columns, stride);
  return map;
}

template <typename T>
void launch(Context& ctx, DType t, const void* q, const void* k, const void* v, int q_stride, int kv_stride, void* out,
            int out_stride, int batch, int T_len, int heads, int group, float scale) {
  static const cudaError_t raised =  // over 48 KiB of dynamic shared memory must be asked for, once per kernel
      cudaFuncSetAttribute(wgmma_attention_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes);
  if (raised != cudaSuccess) ctx.check_launch("wgmma attention: raising the shared-memory limit");
  const size_t rows = size_t(batch) * T_len;
  const int kv_heads = heads / group;
  const CUtensorMap q_map = tile_map(q, t, heads * kHeadDim, rows, q_stride);
  const CUtensorMap k_map = tile_map(k, t, kv_heads * kHeadDim, rows, kv_stride);
  const CUtensorMap v_map = tile_map(v, t, kv_heads * kHeadDim, rows, kv_stride);
  const dim3 grid((T_len + kBlockQ - 1) / kBlockQ, heads, batch);
  wgmma_attention_kernel<T><<<grid, kThreads, kSharedBytes, static_cast<cudaStream_t>(ctx.stream())>>>(
      q_map, k_map, v_map, static_cast<T*>(out), out_stride, T_len, group, scale * 1.4426950408889634f);
  ctx.check_launch("wgmma attention");
}

}  // namespace

bool wgmma_attention_available(const Context& ctx) {
  return ctx.facts().cc_major == 9 && ctx.facts().cc_minor == 0 && tensor_map_encoder() != nullptr;
}

void wgmma_attention(Context& ctx, const void* q, const void* k, const void* v, int q_stride, int kv_stride,
                     void* out, int out_stride, DType t, int batch, int T_len, int heads, int group, float scale) {
  if (size_t(batch) * T_len + kBlockK > size_t(INT32_MAX))
    throw_error(ErrorCode::unsupported, "wgmma attention: {} x {} rows", batch, T_len);
  auto run = [&](auto tag) {
    launch<decltype(tag)>(ctx, t, q, k, v, q_stride, kv_stride, out, out_stride, batch, T_len, heads, group, scale);
  };
  if (t == DType::bf16) run(__nv_bfloat16{});
  else run(__half{});
}

}  // namespace lmac::cuda
