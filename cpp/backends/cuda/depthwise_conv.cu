// Direct depthwise convolution: one thread per output element, enumerated in y's storage order so stores coalesce;
// with NHWC operands a warp covers consecutive channels of one pixel, so every filter tap is one coalesced read.
#include "backends/cuda/depthwise_conv.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/layout_strides.h"

namespace trtcore::cuda {
namespace {

struct DwParams {
  int c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
  Strides4 x, y, z;
  bool y_nhwc;
  DeviceActivation act;
};

template <class T, class I>
__global__ void depthwise_kernel(const T* __restrict__ x, const T* __restrict__ wt, const T* __restrict__ bias,
                                 const T* __restrict__ z, T* __restrict__ y, DwParams p, I total) {
  for (I idx = I(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += I(gridDim.x) * blockDim.x) {
    I t = idx;
    int c, oh, ow;
    if (p.y_nhwc) {
      c = int(t % p.c); t /= p.c;
      ow = int(t % p.ow); t /= p.ow;
      oh = int(t % p.oh); t /= p.oh;
    } else {
      ow = int(t % p.ow); t /= p.ow;
      oh = int(t % p.oh); t /= p.oh;
      c = int(t % p.c); t /= p.c;
    }
    const I n = t;
    float acc = bias ? load_float(bias[c]) : 0.f;
    const T* xb = x + n * I(p.x.n) + c * I(p.x.c);
    const int ih0 = oh * p.sh - p.ph, iw0 = ow * p.sw - p.pw;
    for (int i = 0; i < p.kh; ++i) {
      const int ih = ih0 + i * p.dh;
      if (ih < 0 || ih >= p.h) continue;
      for (int j = 0; j < p.kw; ++j) {
        const int iw = iw0 + j * p.dw;
        if (iw < 0 || iw >= p.w) continue;
        acc += load_float(xb[ih * I(p.x.h) + iw * I(p.x.w)]) * load_float(wt[(i * p.kw + j) * p.c + c]);
      }
    }
    if (z) acc += load_float(z[n * I(p.z.n) + c * I(p.z.c) + oh * I(p.z.h) + ow * I(p.z.w)]);
    y[n * I(p.y.n) + c * I(p.y.c) + oh * I(p.y.h) + ow * I(p.y.w)] = store_as<T>(apply_activation(p.act, acc));
  }
}

// Float16 with every operand NHWC: two channels per thread as __half2 (half the loads and index arithmetic), filter
// taps unrolled for the common 3x3 and 5x5 windows (KH = KW = 0: any window).
template <int KH, int KW>
__global__ void depthwise_nhwc_half2_kernel(const __half2* __restrict__ x, const __half2* __restrict__ wt,
                                            const __half2* __restrict__ bias, const __half2* __restrict__ z,
                                            __half2* __restrict__ y, DwParams p, int y_pitch2, int total) {
  const int c2n = p.c / 2;
  const int kh = KH ? KH : p.kh, kw = KW ? KW : p.kw;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int c2 = t % c2n; t /= c2n;
    const int ow = t % p.ow; t /= p.ow;
    const int oh = t % p.oh; t /= p.oh;
    const int n = t;
    float2 acc = bias ? __half22float2(bias[c2]) : make_float2(0.f, 0.f);
    const __half2* xb = x + n * (p.h * p.w * c2n) + c2;
    const int ih0 = oh * p.sh - p.ph, iw0 = ow * p.sw - p.pw;
#pragma unroll
    for (int i = 0; i < kh; ++i) {
      const int ih = ih0 + i * p.dh;
      if (ih < 0 || ih >= p.h) continue;
#pragma unroll
      for (int j = 0; j < kw; ++j) {
        const int iw = iw0 + j * p.dw;
        if (iw < 0 || iw >= p.w) continue;
        const float2 v = __half22float2(xb[(ih * p.w + iw) * c2n]);
        const float2 f = __half22float2(wt[(i * kw + j) * c2n + c2]);
        acc.x += v.x * f.x;
        acc.y += v.y * f.y;
      }
    }
    const int pix = (n * p.oh + oh) * p.ow + ow;
    if (z) {
      const float2 r = __half22float2(z[pix * c2n + c2]);
      acc.x += r.x;
      acc.y += r.y;
    }
    y[pix * y_pitch2 + c2] = __floats2half2_rn(apply_activation(p.act, acc.x), apply_activation(p.act, acc.y));
  }
}

constexpr int64_t kTileMinThreads = int64_t(1) << 17;  // about half the threads an H100 keeps resident

// Eight float16 channels as one 16-byte load, widened to float.
struct Half8 {
  float v[8];
};
__device__ __forceinline__ Half8 load8(const __half* p) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  const __half2* h = reinterpret_cast<const __half2*>(&raw);
  Half8 r;
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float2 f = __half22float2(h[k]);
    r.v[2 * k] = f.x;
    r.v[2 * k + 1] = f.y;
  }
  return r;
}
__device__ __forceinline__ void store8(__half* p, const float* v) {
  uint4 raw;
  __half2* h = reinterpret_cast<__half2*>(&raw);
#pragma unroll
  for (int k = 0; k < 4; ++k) h[k] = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
  *reinterpret_cast<uint4*>(p) = raw;
}

// The eight-channel NHWC kernels' epilogue for output pixel `pix`: bias (b, loaded once), residual, activation, store.
__device__ __forceinline__ void finish8(const DwParams& p, const float* acc, const __half* bias, const Half8& b,
                                        const __half* z, __half* y, int y_pitch, int pix, int c) {
  Half8 zz{};
  if (z) zz = load8(z + pix * p.c + c);
  float r[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) r[k] = apply_activation(p.act, acc[k] + (bias ? b.v[k] : 0.f) + (z ? zz.v[k] : 0.f));
  store8(y + pix * y_pitch + c, r);
}

// Float16, every operand NHWC, channels a multiple of 8, no dilation: a thread computes kTile neighbouring output
// pixels of one row for eight channels, so each input pixel it loads (16 bytes) serves every tap and output that
// reads it, and the filter row is loaded once per kernel row. K and S (window and stride) are compile-time.
template <int K, int S>
__global__ void depthwise_nhwc_tile8_kernel(const __half* __restrict__ x, const __half* __restrict__ wt,
                                            const __half* __restrict__ bias, const __half* __restrict__ z,
                                            __half* __restrict__ y, DwParams p, int y_pitch, int total) {
  constexpr int kTile = 4;
  constexpr int kSpan = (kTile - 1) * S + K;  // input columns one tile reads
  const int c8n = p.c / 8, tiles = (p.ow + kTile - 1) / kTile;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int c = (t % c8n) * 8; t /= c8n;
    const int ow0 = (t % tiles) * kTile; t /= tiles;
    const int oh = t % p.oh;
    const int n = t / p.oh;
    float acc[kTile][8];
#pragma unroll
    for (int o = 0; o < kTile; ++o)
#pragma unroll
      for (int k = 0; k < 8; ++k) acc[o][k] = 0.f;
    const __half* xb = x + n * (p.h * p.w * p.c) + c;
    const int ih0 = oh * S - p.ph, iw0 = ow0 * S - p.pw;
#pragma unroll
    for (int i = 0; i < K; ++i) {
      const int ih = ih0 + i;
      if (ih < 0 || ih >= p.h) continue;
      Half8 f[K];
#pragma unroll
      for (int j = 0; j < K; ++j) f[j] = load8(wt + (i * K + j) * p.c + c);
#pragma unroll
      for (int q = 0; q < kSpan; ++q) {
        const int iw = iw0 + q;
        if (iw < 0 || iw >= p.w) continue;
        const Half8 v = load8(xb + (ih * p.w + iw) * p.c);
#pragma unroll
        for (int o = 0; o < kTile; ++o) {
          const int j = q - o * S;  // the tap of output o that reads column q
          if (j < 0 || j >= K) continue;
#pragma unroll
          for (int k = 0; k < 8; ++k) acc[o][k] += v.v[k] * f[j].v[k];
        }
      }
    }
    Half8 b{};
    if (bias) b = load8(bias + c);
#pragma unroll
    for (int o = 0; o < kTile; ++o) {
      const int ow = ow0 + o;
      if (ow >= p.ow) break;
      finish8(p, acc[o], bias, b, z, y, y_pitch, (n * p.oh + oh) * p.ow + ow, c);
    }
  }
}

// Float16, every operand NHWC, channels a multiple of 8, no dilation: a thread computes one output pixel for eight
// channels (as the NHWC pools do), so a light thread keeps many loads in flight; the filter taps come from L1.
// A window row's products are summed in float16 pairs (one fused multiply-add for two channels) and each row's sum
// in float32: converting every operand to float32 took three instructions a product and bounded the kernel.
template <int K, int S>
__global__ void depthwise_nhwc_pixel8_kernel(const __half* __restrict__ x, const __half* __restrict__ wt,
                                             const __half* __restrict__ bias, const __half* __restrict__ z,
                                             __half* __restrict__ y, DwParams p, int y_pitch, int total) {
  const int c8n = p.c / 8;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int c = (t % c8n) * 8; t /= c8n;
    const int ow = t % p.ow; t /= p.ow;
    const int oh = t % p.oh;
    const int n = t / p.oh;
    float acc[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) acc[k] = 0.f;
    const __half* xb = x + n * (p.h * p.w * p.c) + c;
    const int ih0 = oh * S - p.ph, iw0 = ow * S - p.pw;
#pragma unroll
    for (int i = 0; i < K; ++i) {
      const int ih = ih0 + i;
      if (ih < 0 || ih >= p.h) continue;
      __half2 row[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) row[k] = __float2half2_rn(0.f);
#pragma unroll
      for (int j = 0; j < K; ++j) {
        const int iw = iw0 + j;
        if (iw < 0 || iw >= p.w) continue;
        const uint4 xr = *reinterpret_cast<const uint4*>(xb + (ih * p.w + iw) * p.c);
        const uint4 wr = *reinterpret_cast<const uint4*>(wt + (i * K + j) * p.c + c);
        const __half2* xv = reinterpret_cast<const __half2*>(&xr);
        const __half2* wv = reinterpret_cast<const __half2*>(&wr);
#pragma unroll
        for (int k = 0; k < 4; ++k) row[k] = __hfma2(xv[k], wv[k], row[k]);
      }
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const float2 f = __half22float2(row[k]);
        acc[2 * k] += f.x, acc[2 * k + 1] += f.y;
      }
    }
    Half8 b{};
    if (bias) b = load8(bias + c);
    finish8(p, acc, bias, b, z, y, y_pitch, (n * p.oh + oh) * p.ow + ow, c);
  }
}

template <int K, int S>
void launch_pixel8(const DepthwiseShape& s, const DepthwiseArgs& a, const DwParams& p, int y_pitch,
                   cudaStream_t stream, const std::string& where) {
  const int64_t total = s.batch * s.out_h * s.out_w * (s.channels / 8);
  depthwise_nhwc_pixel8_kernel<K, S><<<grid_for(total), kBlockSize, 0, stream>>>(
      static_cast<const __half*>(a.x), static_cast<const __half*>(a.w), static_cast<const __half*>(a.bias),
      static_cast<const __half*>(a.z), static_cast<__half*>(a.y), p, y_pitch, int(total));
  TRTCORE_CUDA_LAUNCH_CHECK(where, (depthwise_nhwc_pixel8_kernel<K, S>));
}

template <int K, int S>
void launch_tile8(const DepthwiseShape& s, const DepthwiseArgs& a, const DwParams& p, int y_pitch,
                  cudaStream_t stream, const std::string& where) {
  const int64_t total = s.batch * s.out_h * ((s.out_w + 3) / 4) * (s.channels / 8);
  depthwise_nhwc_tile8_kernel<K, S><<<grid_for(total), kBlockSize, 0, stream>>>(
      static_cast<const __half*>(a.x), static_cast<const __half*>(a.w), static_cast<const __half*>(a.bias),
      static_cast<const __half*>(a.z), static_cast<__half*>(a.y), p, y_pitch, int(total));
  TRTCORE_CUDA_LAUNCH_CHECK(where, (depthwise_nhwc_tile8_kernel<K, S>));
}

template <int KH, int KW>
void launch_half2(const DepthwiseArgs& a, const DwParams& p, int y_pitch2, int total, cudaStream_t stream,
                  const std::string& where) {
  depthwise_nhwc_half2_kernel<KH, KW><<<grid_for(total), kBlockSize, 0, stream>>>(
      static_cast<const __half2*>(a.x), static_cast<const __half2*>(a.w), static_cast<const __half2*>(a.bias),
      static_cast<const __half2*>(a.z), static_cast<__half2*>(a.y), p, y_pitch2, total);
  TRTCORE_CUDA_LAUNCH_CHECK(where, (depthwise_nhwc_half2_kernel<KH, KW>));
}

template <class T>
void launch_typed(const DepthwiseShape& s, const DepthwiseArgs& a, const DwParams& p, cudaStream_t stream,
                  const std::string& where) {
  const int64_t total = s.batch * s.channels * s.out_h * s.out_w;
  const int64_t in_total = std::max(s.batch * s.channels * s.h * s.w,
                                    s.batch * std::max(a.y_channel_pitch, s.channels) * s.out_h * s.out_w);
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  const T* b = static_cast<const T*>(a.bias);
  const T* z = static_cast<const T*>(a.z);
  T* y = static_cast<T*>(a.y);
  // 32-bit index arithmetic (much cheaper on the GPU) whenever every offset fits.
  if (std::max(total, in_total) < std::numeric_limits<int32_t>::max()) {
    depthwise_kernel<T, int32_t><<<grid_for(total), kBlockSize, 0, stream>>>(x, w, b, z, y, p, int32_t(total));
    TRTCORE_CUDA_LAUNCH_CHECK(where, (depthwise_kernel<T, int32_t>));
  } else {
    depthwise_kernel<T, int64_t><<<grid_for(total), kBlockSize, 0, stream>>>(x, w, b, z, y, p, total);
    TRTCORE_CUDA_LAUNCH_CHECK(where, (depthwise_kernel<T, int64_t>));
  }
}

}  // namespace

void launch_depthwise(const DepthwiseShape& s, const DepthwiseArgs& a, const FusedActivation& act, bool half,
                      cudaStream_t stream, const std::string& where) {
  DwParams p{};
  p.c = int(s.channels);
  p.h = int(s.h);
  p.w = int(s.w);
  p.oh = int(s.out_h);
  p.ow = int(s.out_w);
  p.kh = s.kernel_h;
  p.kw = s.kernel_w;
  p.sh = s.stride_h;
  p.sw = s.stride_w;
  p.ph = s.pad_h;
  p.pw = s.pad_w;
  p.dh = s.dilation_h;
  p.dw = s.dilation_w;
  p.x = strides_of(a.x_layout, s.channels, s.h, s.w);
  p.z = strides_of(a.z_layout, s.channels, s.out_h, s.out_w);
  p.y = strides_of(a.y_layout, a.y_channel_pitch > 0 ? a.y_channel_pitch : s.channels, s.out_h, s.out_w);
  p.y_nhwc = a.y_layout == Layout::kNHWC;
  p.act = DeviceActivation::from(act);
  const int64_t pitch = a.y_channel_pitch > 0 ? a.y_channel_pitch : s.channels;
  const int64_t pairs = s.batch * s.out_h * s.out_w * (s.channels / 2);
  const bool all_nhwc = a.x_layout == Layout::kNHWC && a.y_layout == Layout::kNHWC &&
                        (!a.z || a.z_layout == Layout::kNHWC);
  if (half && all_nhwc && s.channels % 2 == 0 && pitch % 2 == 0 && aligned(a.x, 4) && aligned(a.w, 4) &&
      aligned(a.y, 4) && (!a.z || aligned(a.z, 4)) && (!a.bias || aligned(a.bias, 4)) &&
      std::max(s.batch * pitch * s.out_h * s.out_w, s.batch * s.channels * s.h * s.w) < int64_t(INT32_MAX)) {
    // The tiled kernel has a sixteenth of the threads: it wins on large layers (batch 64 and up) and loses when too
    // few threads are left to fill the GPU (batch 1). A tactic may fix the choice (a.tile).
    const int64_t tile_threads = s.batch * s.out_h * ((s.out_w + 3) / 4) * (s.channels / 8);
    const bool big = a.tile == DepthwiseTile::kTiled || a.tile == DepthwiseTile::kPixel ? true
                     : a.tile == DepthwiseTile::kPairs                                 ? false
                                                                                       : tile_threads >= kTileMinThreads;
    const bool tile8 = big && s.channels % 8 == 0 && pitch % 8 == 0 && aligned(a.x, 16) && aligned(a.w, 16) &&
                       aligned(a.y, 16) && (!a.z || aligned(a.z, 16)) && (!a.bias || aligned(a.bias, 16)) &&
                       s.dilation_h == 1 && s.dilation_w == 1 && s.kernel_h == s.kernel_w && s.stride_h == s.stride_w;
    if (tile8 && a.tile == DepthwiseTile::kPixel) {
      if (s.kernel_h == 3 && s.stride_h == 1) return launch_pixel8<3, 1>(s, a, p, int(pitch), stream, where);
      if (s.kernel_h == 3 && s.stride_h == 2) return launch_pixel8<3, 2>(s, a, p, int(pitch), stream, where);
      if (s.kernel_h == 5 && s.stride_h == 1) return launch_pixel8<5, 1>(s, a, p, int(pitch), stream, where);
      if (s.kernel_h == 5 && s.stride_h == 2) return launch_pixel8<5, 2>(s, a, p, int(pitch), stream, where);
    }
    if (tile8 && s.kernel_h == 3 && s.stride_h == 1) return launch_tile8<3, 1>(s, a, p, int(pitch), stream, where);
    if (tile8 && s.kernel_h == 3 && s.stride_h == 2) return launch_tile8<3, 2>(s, a, p, int(pitch), stream, where);
    if (tile8 && s.kernel_h == 5 && s.stride_h == 1) return launch_tile8<5, 1>(s, a, p, int(pitch), stream, where);
    if (tile8 && s.kernel_h == 5 && s.stride_h == 2) return launch_tile8<5, 2>(s, a, p, int(pitch), stream, where);
    const int y_pitch2 = int(pitch / 2);
    if (s.kernel_h == 3 && s.kernel_w == 3) return launch_half2<3, 3>(a, p, y_pitch2, int(pairs), stream, where);
    if (s.kernel_h == 5 && s.kernel_w == 5) return launch_half2<5, 5>(a, p, y_pitch2, int(pairs), stream, where);
    return launch_half2<0, 0>(a, p, y_pitch2, int(pairs), stream, where);
  }
  if (half) launch_typed<__half>(s, a, p, stream, where);
  else launch_typed<float>(s, a, p, stream, where);
}

}  // namespace trtcore::cuda
