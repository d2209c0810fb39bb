// Device-side helpers shared by kernel files: the fused activations and warp/block reductions.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <type_traits>

#include "backends/cuda/cuda_kernel.h"
#include "trtcore/graph.h"

namespace trtcore::cuda {

// Float16 storage, float arithmetic: kernels templated on the stored type load and store through these.
__device__ __forceinline__ float load_float(float v) { return v; }
__device__ __forceinline__ float load_float(__half v) { return __half2float(v); }
template <class T>
__device__ __forceinline__ T store_as(float v) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(v);
  else return T(v);
}

// x / s where only rint() of the result matters (quantizers): the product with 1/s, unless it lands within 2e-3 of a
// half-integer, where the correctly rounded quotient decides. Below 8192 the product is within 2^-10 of x / s, and
// beyond that every 8-bit quantizer saturates, so rint() rounds as it would after the division, at a multiply's cost.
__device__ __forceinline__ float quotient_for_rint(float x, float s, float inv_s) {
  const float r = x * inv_s;
  const float f = fabsf(r - truncf(r));
  return fabsf(f - 0.5f) < 2e-3f ? __fdiv_rn(x, s) : r;
}

// For kernels that change a 4-D tensor's storage layout as they go: the source element of output element i, the
// output NHWC and the source NCHW (ToNhwc) or the reverse.
template <bool ToNhwc, class I>
__device__ __forceinline__ I layout_source_index(I i, I channels, I plane) {
  if (ToNhwc) {
    const I c = i % channels, rest = i / channels;
    return ((rest / plane) * channels + c) * plane + rest % plane;
  }
  const I p = i % plane, rest = i / plane;
  return ((rest / channels) * plane + p) * channels + rest % channels;
}

// Activation as a kernel argument (the enum travels by value).
struct DeviceActivation {
  Activation kind = Activation::kNone;
  float alpha = 0.f;
  float beta = 0.f;
  static DeviceActivation from(const FusedActivation& f) { return DeviceActivation{f.kind, f.alpha, f.beta}; }
};

// Same definitions as FusedActivation::apply (the cpu reference).
__device__ __forceinline__ float apply_activation(const DeviceActivation& a, float x) {
  switch (a.kind) {
    case Activation::kNone: return x;
    case Activation::kRelu: return x < 0.f ? 0.f : x;  // NaN propagates, as on the cpu
    case Activation::kLeakyRelu: return x >= 0.f ? x : a.alpha * x;
    case Activation::kClip: {  // comparisons, not fminf/fmaxf, so NaN propagates as on the cpu
      const float y = x < a.alpha ? a.alpha : x;
      return y > a.beta ? a.beta : y;
    }
    case Activation::kSigmoid: return 1.f / (1.f + expf(-x));
    case Activation::kHardSigmoid: return fmaxf(0.f, fminf(1.f, a.alpha * x + a.beta));
    case Activation::kHardSwish: return x * fmaxf(0.f, fminf(1.f, x / 6.f + 0.5f));
    case Activation::kTanh: return tanhf(x);
    case Activation::kSiLU: return x / (1.f + expf(-x));
  }
  return x;
}

enum class ReduceKind { kSum, kMax };

template <ReduceKind K>
__device__ __forceinline__ float reduce_combine(float a, float b) {
  if constexpr (K == ReduceKind::kSum) return a + b;
  else return fmaxf(a, b);
}

template <ReduceKind K>
__device__ __forceinline__ float warp_reduce(float v) {
  for (int off = 16; off > 0; off >>= 1) v = reduce_combine<K>(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

// Reduces over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
template <ReduceKind K>
__device__ float block_reduce(float v, float identity) {
  __shared__ float partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_reduce<K>(v);
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int nwarps = int(blockDim.x + 31) >> 5;
  v = lane < nwarps ? partial[lane] : identity;
  return warp_reduce<K>(v);
}

}  // namespace trtcore::cuda
