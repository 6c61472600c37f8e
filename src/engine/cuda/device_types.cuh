// Device-side helpers shared by lmac's CUDA kernels: loads and stores that widen to and round from f32, the
// dispatch from a run-time DType to a C++ element type, and warp- and block-wide reductions.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "engine/cuda/cuda_context.hpp"

namespace lmac::cuda {

__device__ __forceinline__ float ld(const float* p) { return *p; }
__device__ __forceinline__ float ld(const __nv_bfloat16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ float ld(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ void st(float* p, float v) { *p = v; }
__device__ __forceinline__ void st(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }
__device__ __forceinline__ void st(__half* p, float v) { *p = __float2half_rn(v); }

// Eight elements moved as one or two 16-byte accesses (the pointer must be 16-byte aligned): memory-bound kernels
// reach full bandwidth only with wide accesses.
template <typename T>
struct alignas(16) Pack8 {
  T x[8];
};

template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&f)[8]) {
  const Pack8<T> v = *reinterpret_cast<const Pack8<T>*>(p);
#pragma unroll
  for (int i = 0; i < 8; ++i) f[i] = ld(&v.x[i]);
}

template <typename T>
__device__ __forceinline__ void store8(T* p, const float (&f)[8]) {
  Pack8<T> v;
#pragma unroll
  for (int i = 0; i < 8; ++i) st(&v.x[i], f[i]);
  *reinterpret_cast<Pack8<T>*>(p) = v;
}

// Calls f(T{}) with T the element type of `t`: dispatch(t, [&](auto tag) { using T = decltype(tag); ... }).
template <typename F>
void dispatch(DType t, F&& f) {
  switch (t) {
    case DType::f32: f(float{}); break;
    case DType::bf16: f(__nv_bfloat16{}); break;
    case DType::f16: f(__half{}); break;
  }
}

struct Add {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

template <typename Op>
__device__ __forceinline__ float warp_reduce(float v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// v combined over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread. `scratch` is 32
// floats of shared memory; calls may follow each other.
template <typename Op>
__device__ __forceinline__ float block_reduce(float v, float identity, float* scratch, Op op) {
  v = warp_reduce(v, op);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  return warp_reduce(lane < int(blockDim.x >> 5) ? scratch[lane] : identity, op);
}

__device__ __forceinline__ float warp_sum(float v) { return warp_reduce(v, Add{}); }
__device__ __forceinline__ float warp_max(float v) { return warp_reduce(v, Max{}); }
__device__ __forceinline__ float block_sum(float v, float* scratch) { return block_reduce(v, 0.0f, scratch, Add{}); }
__device__ __forceinline__ float block_max(float v, float* scratch) {
  return block_reduce(v, -INFINITY, scratch, Max{});
}

}  // namespace lmac::cuda
