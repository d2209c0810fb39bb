// Direct convolution for short reductions (see conv_small.h): a thread computes sixteen output channels of one
// pixel from the taps it loads once; the weights sit in shared memory and every read of them is a broadcast, so the
// work per output is the reduction's multiply-adds and little else.
#include "backends/cuda/conv_small.h"

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/layout_strides.h"

namespace trtcore::cuda {
namespace {

constexpr int kChunk = 16;  // output channels a thread

struct SmallParams {
  int c, h, w, k, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
  Strides4 x, y, z;
  bool y_vec;  // y is NHWC-dense in chunks: sixteen outputs stored as whole 16-byte words
  DeviceActivation act;
};

template <class T>
__device__ __forceinline__ void store_chunk(T* y, const float* v, bool vec, int64_t step) {
  if constexpr (std::is_same_v<T, __half>) {
    if (vec) {
      uint4 raw[2];
      __half2* h = reinterpret_cast<__half2*>(raw);
#pragma unroll
      for (int j = 0; j < kChunk / 2; ++j) h[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
      reinterpret_cast<uint4*>(y)[0] = raw[0];
      reinterpret_cast<uint4*>(y)[1] = raw[1];
      return;
    }
  } else {
    if (vec) {
#pragma unroll
      for (int j = 0; j < kChunk / 4; ++j)
        reinterpret_cast<float4*>(y)[j] = make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
      return;
    }
  }
#pragma unroll
  for (int j = 0; j < kChunk; ++j) y[j * step] = store_as<T>(v[j]);
}

template <class T>
__global__ void small_conv_kernel(const T* __restrict__ x, const float* __restrict__ w, const T* __restrict__ bias,
                                  const T* __restrict__ z, T* __restrict__ y, SmallParams p, int total) {
  extern __shared__ float4 smem4[];
  float* ws = reinterpret_cast<float*>(smem4);
  const int rows = p.kh * p.kw * p.c;
  for (int i = threadIdx.x; i < rows * p.k; i += blockDim.x) ws[i] = w[i];
  __syncthreads();
  const int chunks = p.k / kChunk;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int k0 = (t % chunks) * kChunk;
    t /= chunks;
    const int ow = t % p.ow;
    t /= p.ow;
    const int oh = t % p.oh;
    const int n = t / p.oh;
    float acc[kChunk];
#pragma unroll
    for (int j = 0; j < kChunk; ++j) acc[j] = 0.f;
    const T* xb = x + n * p.x.n;
    int r = 0;  // the weight row: (tap, input channel)
    for (int a = 0; a < p.kh; ++a) {
      const int ih = oh * p.sh - p.ph + a * p.dh;
      for (int b = 0; b < p.kw; ++b, r += p.c) {
        const int iw = ow * p.sw - p.pw + b * p.dw;
        if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
        const T* px = xb + ih * p.x.h + iw * p.x.w;
        for (int c = 0; c < p.c; ++c) {
          const float v = load_float(px[c * p.x.c]);
          const float4* wr = reinterpret_cast<const float4*>(ws + (r + c) * p.k + k0);
#pragma unroll
          for (int q = 0; q < kChunk / 4; ++q) {
            const float4 f = wr[q];
            acc[4 * q] += v * f.x;
            acc[4 * q + 1] += v * f.y;
            acc[4 * q + 2] += v * f.z;
            acc[4 * q + 3] += v * f.w;
          }
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kChunk; ++j) {
      float v = acc[j];
      if (bias) v += load_float(bias[k0 + j]);
      if (z) v += load_float(z[n * p.z.n + (k0 + j) * p.z.c + oh * p.z.h + ow * p.z.w]);
      acc[j] = apply_activation(p.act, v);
    }
    store_chunk<T>(y + n * p.y.n + k0 * p.y.c + oh * p.y.h + ow * p.y.w, acc, p.y_vec, p.y.c);
  }
}

}  // namespace

bool small_conv_possible(const SmallConvShape& s) {
  return s.c * s.kh * s.kw <= kSmallConvMaxTaps && s.k % kChunk == 0 && s.k <= kSmallConvMaxChannels;
}

void launch_small_conv(const SmallConvShape& s, const SmallConvArgs& a, const FusedActivation& act, bool half,
                       cudaStream_t stream, const std::string& where) {
  SmallParams p{};
  p.c = s.c, p.h = s.h, p.w = s.w, p.k = s.k, p.oh = s.oh, p.ow = s.ow;
  p.kh = s.kh, p.kw = s.kw, p.sh = s.sh, p.sw = s.sw, p.ph = s.ph, p.pw = s.pw, p.dh = s.dh, p.dw = s.dw;
  const int64_t pitch = a.y_channel_pitch > 0 ? a.y_channel_pitch : s.k;
  p.x = strides_of(a.x_layout, s.c, s.h, s.w);
  p.y = strides_of(a.y_layout, pitch, s.oh, s.ow);
  p.z = strides_of(a.z_layout, s.k, s.oh, s.ow);
  p.act = DeviceActivation::from(act);
  const size_t elem = half ? 2 : 4;
  p.y_vec = a.y_layout == Layout::kNHWC && (pitch * elem) % 16 == 0 && reinterpret_cast<uintptr_t>(a.y) % 16 == 0;
  const int64_t total = s.batch * s.oh * s.ow * (s.k / kChunk);
  const size_t smem = size_t(s.c) * s.kh * s.kw * s.k * sizeof(float);
  // Every offset is a 32-bit int (the callers' tensors are below 2^31 elements: see ConvKernel::small_possible).
  if (half) {
    small_conv_kernel<__half><<<grid_for(total), kBlockSize, smem, stream>>>(
        static_cast<const __half*>(a.x), a.w, static_cast<const __half*>(a.bias), static_cast<const __half*>(a.z),
        static_cast<__half*>(a.y), p, int(total));
    TRTCORE_CUDA_LAUNCH_CHECK(where, small_conv_kernel<__half>);
  } else {
    small_conv_kernel<float><<<grid_for(total), kBlockSize, smem, stream>>>(
        static_cast<const float*>(a.x), a.w, static_cast<const float*>(a.bias), static_cast<const float*>(a.z),
        static_cast<float*>(a.y), p, int(total));
    TRTCORE_CUDA_LAUNCH_CHECK(where, small_conv_kernel<float>);
  }
}

}  // namespace trtcore::cuda
