// The QConv kernel's depthwise forms (see qconv_kernel.h), between NHWC int8 tensors, with int32 accumulation and
// the direct form's epilogue, so their outputs are the direct form's bit for bit. MobileNets' depthwise layers then
// read and write one byte per element instead of dequantizing to float16 and back.
// - "i8-dw4": four channels a thread (one 4-byte load per tap of the input and of the weights, stored [tap][channel]);
// - "i8-dw8": eight channels (one 8-byte load) by four neighbouring outputs of a row a thread, so each input pixel
//   loaded serves every tap and output that reads it (3x3 and 5x5 windows, stride 1 or 2);
// - "i8-dw8p": eight channels of one output pixel a thread, the same windows (light threads, many loads in flight).
#include <cuda_fp16.h>

#include <cstdint>
#include <string>

#include "backends/cuda/qconv_kernel.h"

namespace trtcore::cuda {
namespace {

// The pixel form's weights for four channels, as int32 words: for each group q of four taps, a word per channel
// holding its taps 4q..4q+3; a word per channel with its last tap in byte c (the rest zero); the four weight sums.
constexpr int dw_pack_words(int window) { return (window * window / 4) * 4 + 8; }
// where they start in the depthwise weights buffer: after the [taps][K] bytes, 16-byte aligned
constexpr int64_t dw_pack_offset(int64_t taps, int64_t k) { return (taps * k + 15) / 16 * 16; }

template <class Y> __device__ __forceinline__ Y dw_store(float v, const QConvEpilogue& e);
template <> __device__ __forceinline__ int8_t dw_store<int8_t>(float v, const QConvEpilogue& e) {
  return int8_t(fminf(fmaxf(rintf(quotient_for_rint(v, e.ys, e.ys_inv)) + e.y_zp, e.lo), e.hi));
}
template <> __device__ __forceinline__ __half dw_store<__half>(float v, const QConvEpilogue&) {
  return __float2half_rn(v);
}
template <> __device__ __forceinline__ float dw_store<float>(float v, const QConvEpilogue&) { return v; }

template <class Y>
__global__ void qconv_dw4_kernel(const int8_t* __restrict__ x, const int8_t* __restrict__ w, Y* __restrict__ y,
                                 QConvGeom g, QConvEpilogue e, int64_t quads) {
  const int32_t k4 = g.k / 4;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < quads; i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t k = int32_t(i % k4) * 4;
    int64_t t = i / k4;
    const int32_t ox = int32_t(t % g.ow);
    t /= g.ow;
    const int32_t oy = int32_t(t % g.oh);
    const int64_t n = t / g.oh;
    int32_t acc[4] = {0, 0, 0, 0}, wsum[4] = {0, 0, 0, 0};
    for (int32_t a = 0; a < g.kh; ++a) {
      const int32_t iy = oy * g.sh - g.ph + a * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (int32_t b = 0; b < g.kw; ++b) {
        const int32_t ix = ox * g.sw - g.pw + b * g.dw;
        if (ix < 0 || ix >= g.w) continue;
        const char4 xv = *reinterpret_cast<const char4*>(x + n * g.xs.n + int64_t(iy) * g.xs.h + int64_t(ix) * g.xs.w + k);
        const char4 wv = *reinterpret_cast<const char4*>(w + int64_t(a * g.kw + b) * g.k + k);
        acc[0] += int32_t(xv.x) * wv.x, acc[1] += int32_t(xv.y) * wv.y;
        acc[2] += int32_t(xv.z) * wv.z, acc[3] += int32_t(xv.w) * wv.w;
        wsum[0] += wv.x, wsum[1] += wv.y, wsum[2] += wv.z, wsum[3] += wv.w;
      }
    }
    Y* out = y + n * g.ys.n + int64_t(oy) * g.ys.h + int64_t(ox) * g.ys.w + k;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      float v = float(acc[j] - e.x_zp * wsum[j]) * e.mult[k + j] + (e.bias ? e.bias[k + j] : 0.f);
      out[j] = dw_store<Y>(apply_activation(e.act, v), e);
    }
  }
}


__device__ __forceinline__ int32_t byte_of(uint32_t word, int b) { return int32_t(int8_t(word >> (8 * b))); }

template <class Y>
__device__ __forceinline__ void dw8_store(Y* out, const float* v, const QConvEpilogue& e) {
#pragma unroll
  for (int c = 0; c < 8; ++c) out[c] = dw_store<Y>(v[c], e);
}
template <>
__device__ __forceinline__ void dw8_store<int8_t>(int8_t* out, const float* v, const QConvEpilogue& e) {
  uint32_t word[2] = {0, 0};
#pragma unroll
  for (int c = 0; c < 8; ++c) word[c / 4] |= uint32_t(uint8_t(dw_store<int8_t>(v[c], e))) << (8 * (c % 4));
  *reinterpret_cast<uint2*>(out) = make_uint2(word[0], word[1]);
}

template <int K, int S, class Y>
__global__ void qconv_dw8_kernel(const int8_t* __restrict__ x, const int8_t* __restrict__ w, Y* __restrict__ y,
                                 QConvGeom g, QConvEpilogue e, int total) {
  constexpr int kTile = 4;
  constexpr int kSpan = (kTile - 1) * S + K;  // input columns one thread reads
  const int c8n = g.k / 8, tiles = (g.ow + kTile - 1) / kTile;
  const int xh = int(g.xs.h), xw = int(g.xs.w);
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int k = (t % c8n) * 8;
    t /= c8n;
    const int ow0 = (t % tiles) * kTile;
    t /= tiles;
    const int oy = t % g.oh, n = t / g.oh;
    int32_t acc[kTile][8];
#pragma unroll
    for (int o = 0; o < kTile; ++o)
#pragma unroll
      for (int c = 0; c < 8; ++c) acc[o][c] = 0;
    const int8_t* xb = x + int64_t(n) * g.xs.n + k;
    const int iy0 = oy * S - g.ph, ix0 = ow0 * S - g.pw;
#pragma unroll
    for (int a = 0; a < K; ++a) {
      const int iy = iy0 + a;
      if (iy < 0 || iy >= g.h) continue;
      int32_t wv[K][8];  // this window row's taps, unpacked once
#pragma unroll
      for (int j = 0; j < K; ++j) {
        const uint2 raw = *reinterpret_cast<const uint2*>(w + (a * K + j) * g.k + k);
#pragma unroll
        for (int c = 0; c < 8; ++c) wv[j][c] = byte_of(c < 4 ? raw.x : raw.y, c % 4);
      }
#pragma unroll
      for (int q = 0; q < kSpan; ++q) {
        const int ix = ix0 + q;
        if (ix < 0 || ix >= g.w) continue;  // padding: x equal to its zero point, which adds nothing
        const uint2 raw = *reinterpret_cast<const uint2*>(xb + iy * xh + ix * xw);
        int32_t xv[8];
#pragma unroll
        for (int c = 0; c < 8; ++c) xv[c] = byte_of(c < 4 ? raw.x : raw.y, c % 4) - e.x_zp;
#pragma unroll
        for (int o = 0; o < kTile; ++o) {
          const int j = q - o * S;  // the tap of output o that reads column q
          if (j < 0 || j >= K) continue;
#pragma unroll
          for (int c = 0; c < 8; ++c) acc[o][c] += xv[c] * wv[j][c];
        }
      }
    }
    float mult[8], bias[8];
#pragma unroll
    for (int c = 0; c < 8; ++c) mult[c] = e.mult[k + c], bias[c] = e.bias ? e.bias[k + c] : 0.f;
#pragma unroll
    for (int o = 0; o < kTile; ++o) {
      const int ox = ow0 + o;
      if (ox >= g.ow) break;
      float v[8];
#pragma unroll
      for (int c = 0; c < 8; ++c) v[c] = apply_activation(e.act, float(acc[o][c]) * mult[c] + bias[c]);
      dw8_store<Y>(y + int64_t(n) * g.ys.n + int64_t(oy) * g.ys.h + int64_t(ox) * g.ys.w + k, v, e);
    }
  }
}

// Four channels' taps 4g..4g+3 (one word per tap, a byte per channel) as four words of one channel's four taps,
// so one dp4a multiplies four taps of a channel: eight byte permutes for sixteen products.
__device__ __forceinline__ void taps_by_channel(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3, int32_t* t) {
  const uint32_t lo01 = __byte_perm(x0, x1, 0x5140), hi01 = __byte_perm(x0, x1, 0x7362);
  const uint32_t lo23 = __byte_perm(x2, x3, 0x5140), hi23 = __byte_perm(x2, x3, 0x7362);
  t[0] = int32_t(__byte_perm(lo01, lo23, 0x5410));
  t[1] = int32_t(__byte_perm(lo01, lo23, 0x7632));
  t[2] = int32_t(__byte_perm(hi01, hi23, 0x5410));
  t[3] = int32_t(__byte_perm(hi01, hi23, 0x7632));
}

// One output pixel for eight channels a thread (as the NHWC pools do): light threads keep many loads in flight.
// Products are dp4a over four taps of a channel (weights packed that way by prepare_dw, see kDwPackWords): the
// byte-by-byte form spent four integer instructions a product and ran at a third of the memory bandwidth.
template <int K, int S, class Y>
__global__ void qconv_dw8_pixel_kernel(const int8_t* __restrict__ x, const int32_t* __restrict__ wp,
                                       Y* __restrict__ y, QConvGeom g, QConvEpilogue e, int total) {
  constexpr int kTaps = K * K, kGroups = kTaps / 4, kWords = dw_pack_words(K);
  static_assert(kTaps % 4 == 1, "one tap after the groups of four");
  const int c8n = g.k / 8;
  const int xh = int(g.xs.h), xw = int(g.xs.w);
  const uint32_t pad = uint32_t(uint8_t(int8_t(e.x_zp))) * 0x01010101u;  // padding reads the zero point
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    int t = idx;
    const int k = (t % c8n) * 8;
    t /= c8n;
    const int ox = t % g.ow;
    t /= g.ow;
    const int oy = t % g.oh, n = t / g.oh;
    const int8_t* xb = x + int64_t(n) * g.xs.n + k;
    const int iy0 = oy * S - g.ph, ix0 = ox * S - g.pw;
    uint2 xr[kTaps];
#pragma unroll
    for (int a = 0; a < K; ++a)
#pragma unroll
      for (int b = 0; b < K; ++b) {
        const int iy = iy0 + a, ix = ix0 + b;
        xr[a * K + b] = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
                            ? *reinterpret_cast<const uint2*>(xb + iy * xh + ix * xw)
                            : make_uint2(pad, pad);
      }
    int32_t acc[8];
#pragma unroll
    for (int h = 0; h < 2; ++h) {  // the two quads of channels
      int32_t wv[kWords];
      const int4* wq = reinterpret_cast<const int4*>(wp + (k / 4 + h) * kWords);
#pragma unroll
      for (int i = 0; i < kWords / 4; ++i) {
        const int4 v = wq[i];
        wv[4 * i] = v.x, wv[4 * i + 1] = v.y, wv[4 * i + 2] = v.z, wv[4 * i + 3] = v.w;
      }
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[4 * h + c] = -e.x_zp * wv[4 * kGroups + 4 + c];  // minus zp times the weights' sum
#pragma unroll
      for (int q = 0; q < kGroups; ++q) {
        int32_t tc[4];
        taps_by_channel(h ? xr[4 * q].y : xr[4 * q].x, h ? xr[4 * q + 1].y : xr[4 * q + 1].x,
                        h ? xr[4 * q + 2].y : xr[4 * q + 2].x, h ? xr[4 * q + 3].y : xr[4 * q + 3].x, tc);
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[4 * h + c] = __dp4a(tc[c], wv[4 * q + c], acc[4 * h + c]);
      }
      const int32_t last = int32_t(h ? xr[kTaps - 1].y : xr[kTaps - 1].x);
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[4 * h + c] = __dp4a(last, wv[4 * kGroups + c], acc[4 * h + c]);  // byte c only
    }
    float v[8];
#pragma unroll
    for (int c = 0; c < 8; ++c)
      v[c] = apply_activation(e.act, float(acc[c]) * e.mult[k + c] + (e.bias ? e.bias[k + c] : 0.f));
    dw8_store<Y>(y + int64_t(n) * g.ys.n + int64_t(oy) * g.ys.h + int64_t(ox) * g.ys.w + k, v, e);
  }
}

template <int K, int S, class Y>
void launch_dw8_pixel(const int8_t* x, const int8_t* w, Y* y, const QConvGeom& g, const QConvEpilogue& e,
                      int64_t batch, cudaStream_t stream, const std::string& where) {
  const int64_t total = batch * g.oh * g.ow * (g.k / 8);
  const int32_t* packed = reinterpret_cast<const int32_t*>(w + dw_pack_offset(g.kh * g.kw, g.k));
  qconv_dw8_pixel_kernel<K, S, Y><<<grid_for(total), kBlockSize, 0, stream>>>(x, packed, y, g, e, int(total));
  TRTCORE_CUDA_LAUNCH_CHECK(where, (qconv_dw8_pixel_kernel<K, S, Y>));
}

template <int K, int S, class Y>
void launch_dw8(const int8_t* x, const int8_t* w, Y* y, const QConvGeom& g, const QConvEpilogue& e, int64_t batch,
                cudaStream_t stream, const std::string& where) {
  const int64_t total = batch * g.oh * ((g.ow + 3) / 4) * (g.k / 8);
  qconv_dw8_kernel<K, S, Y><<<grid_for(total), kBlockSize, 0, stream>>>(x, w, y, g, e, int(total));
  TRTCORE_CUDA_LAUNCH_CHECK(where, (qconv_dw8_kernel<K, S, Y>));
}

template <class Y>
void launch_dw8_typed(bool pixel, const int8_t* x, const int8_t* w, Y* y, const QConvGeom& g, const QConvEpilogue& e,
                      int64_t batch, cudaStream_t stream, const std::string& where) {
  if (pixel) {
    if (g.kh == 3 && g.sh == 1) return launch_dw8_pixel<3, 1>(x, w, y, g, e, batch, stream, where);
    if (g.kh == 3 && g.sh == 2) return launch_dw8_pixel<3, 2>(x, w, y, g, e, batch, stream, where);
    if (g.kh == 5 && g.sh == 1) return launch_dw8_pixel<5, 1>(x, w, y, g, e, batch, stream, where);
    return launch_dw8_pixel<5, 2>(x, w, y, g, e, batch, stream, where);
  }
  if (g.kh == 3 && g.sh == 1) return launch_dw8<3, 1>(x, w, y, g, e, batch, stream, where);
  if (g.kh == 3 && g.sh == 2) return launch_dw8<3, 2>(x, w, y, g, e, batch, stream, where);
  if (g.kh == 5 && g.sh == 1) return launch_dw8<5, 1>(x, w, y, g, e, batch, stream, where);
  launch_dw8<5, 2>(x, w, y, g, e, batch, stream, where);
}

}  // namespace

using namespace qconv;

// Depthwise (one input channel per group, as many outputs), NHWC int8 in, NHWC int8 or float out, channels in fours.
bool QConvKernel::dw_eligible(const CudaInitContext& ctx) const {
  const bool depthwise = geom_.cg == 1 && geom_.kg == 1 && geom_.c == geom_.k;
  const bool out_ok = (y_type_ == DType::kInt8 && epi_.quantized) || (!epi_.quantized && is_float(y_type_));
  return depthwise && geom_.c % 4 == 0 && x_type_ == DType::kInt8 && out_ok && !has_residual_ &&
         ctx.in_layout(0) == Layout::kNHWC && ctx.out_layout(0) == Layout::kNHWC;
}

// Weights [K][taps] (packed_'s order for one channel per group) as [taps][K], so four channels' tap is one load;
// for 3x3 and 5x5 windows the pixel form's dp4a words follow (dw_pack_words).
void QConvKernel::prepare_dw(const Node& node, const Graph& g) {
  const int8_t* wsrc = g.value(node.inputs[3]).constant->data<int8_t>();
  const int64_t taps = int64_t(geom_.kh) * geom_.kw;
  std::vector<int8_t> by_tap(size_t(taps * geom_.k));
  for (int64_t k = 0; k < geom_.k; ++k)
    for (int64_t t = 0; t < taps; ++t) by_tap[size_t(t * geom_.k + k)] = wsrc[k * taps + t];
  if (geom_.kh == geom_.kw && (geom_.kh == 3 || geom_.kh == 5)) {  // the pixel form's dp4a words after them
    const int words = dw_pack_words(geom_.kh), groups = int(taps / 4);
    by_tap.resize(size_t(dw_pack_offset(taps, geom_.k)), 0);
    std::vector<int32_t> packed(size_t(geom_.k / 4 * words), 0);
    for (int64_t k = 0; k < geom_.k; ++k) {
      int32_t* quad = packed.data() + k / 4 * words;
      const int c = int(k % 4);
      const int8_t* wk = wsrc + k * taps;
      for (int q = 0; q < groups; ++q)
        for (int j = 0; j < 4; ++j) quad[4 * q + c] |= int32_t(uint32_t(uint8_t(wk[4 * q + j])) << (8 * j));
      quad[4 * groups + c] = int32_t(uint32_t(uint8_t(wk[taps - 1])) << (8 * c));
      for (int64_t t = 0; t < taps; ++t) quad[4 * groups + 4 + c] += wk[t];
    }
    const auto* bytes = reinterpret_cast<const int8_t*>(packed.data());
    by_tap.insert(by_tap.end(), bytes, bytes + packed.size() * sizeof(int32_t));
  }
  dw_weights_ = upload(by_tap.data(), by_tap.size(), where_ + " (depthwise weights by tap)");
}

// The tiled form: eight-channel loads and stores, square 3x3 or 5x5 windows, equal strides of 1 or 2, no dilation.
bool QConvKernel::dw8_eligible(const CudaInitContext& ctx) const {
  const bool window = geom_.kh == geom_.kw && (geom_.kh == 3 || geom_.kh == 5) && geom_.sh == geom_.sw &&
                      (geom_.sh == 1 || geom_.sh == 2) && geom_.dh == 1 && geom_.dw == 1;
  return dw_eligible(ctx) && window && geom_.k % 8 == 0 && geom_.ys.w % 8 == 0 && geom_.ys.h % 8 == 0 &&
         geom_.ys.n % 8 == 0;
}

void QConvKernel::launch_dw(const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                            cudaStream_t stream) {
  const int64_t quads = out[0].numel() / 4;
  const int8_t* x = static_cast<const int8_t*>(in[0].data);
  const int64_t batch = in[0].shape[0];
  // The tiled form's 32-bit indices and 8-byte accesses; anything else (never a planned buffer) takes the quad form.
  const bool pixel = dw_form_ == DwForm::kPixel8;
  if ((dw_form_ == DwForm::kTile8 || pixel) && out[0].numel() < INT32_MAX && in[0].numel() < INT32_MAX &&
      aligned(x, 8) && aligned(out[0].data, 8)) {
    switch (y_type_) {
      case DType::kInt8:
        return launch_dw8_typed(pixel, x, dw_weights_.as<int8_t>(), static_cast<int8_t*>(out[0].data), geom_, epi_, batch,
                                stream, where_);
      case DType::kFloat16:
        return launch_dw8_typed(pixel, x, dw_weights_.as<int8_t>(), static_cast<__half*>(out[0].data), geom_, epi_, batch,
                                stream, where_);
      default:
        return launch_dw8_typed(pixel, x, dw_weights_.as<int8_t>(), static_cast<float*>(out[0].data), geom_, epi_, batch,
                                stream, where_);
    }
  }
  switch (y_type_) {
    case DType::kInt8:
      qconv_dw4_kernel<int8_t><<<grid_for(quads), kBlockSize, 0, stream>>>(
          x, dw_weights_.as<int8_t>(), static_cast<int8_t*>(out[0].data), geom_, epi_, quads);
      break;
    case DType::kFloat16:
      qconv_dw4_kernel<__half><<<grid_for(quads), kBlockSize, 0, stream>>>(
          x, dw_weights_.as<int8_t>(), static_cast<__half*>(out[0].data), geom_, epi_, quads);
      break;
    default:
      qconv_dw4_kernel<float><<<grid_for(quads), kBlockSize, 0, stream>>>(
          x, dw_weights_.as<int8_t>(), static_cast<float*>(out[0].data), geom_, epi_, quads);
      break;
  }
  TRTCORE_CUDA_LAUNCH_CHECK(where_, "qconv_dw4_kernel");
}

}  // namespace trtcore::cuda
