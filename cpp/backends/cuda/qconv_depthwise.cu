// The QConv kernel's depthwise form ("i8-dw4", see qconv_kernel.h): a depthwise convolution between NHWC int8
// tensors, four channels a thread (one 4-byte load per tap of the input and of the weights, stored [tap][channel]),
// int32 accumulation and the direct form's epilogue, so its outputs are the direct form's bit for bit. MobileNets'
// depthwise layers then read and write one byte per element instead of dequantizing to float16 and back.
#include <cuda_fp16.h>

#include "backends/cuda/qconv_kernel.h"

namespace trtcore::cuda {
namespace {

template <class Y> __device__ __forceinline__ Y dw_store(float v, const QConvEpilogue& e);
template <> __device__ __forceinline__ int8_t dw_store<int8_t>(float v, const QConvEpilogue& e) {
  return int8_t(fminf(fmaxf(rintf(__fdiv_rn(v, e.ys)) + e.y_zp, e.lo), e.hi));
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

}  // namespace

using namespace qconv;

// Depthwise (one input channel per group, as many outputs), NHWC int8 in, NHWC int8 or float out, channels in fours.
bool QConvKernel::dw_eligible(const CudaInitContext& ctx) const {
  const bool depthwise = geom_.cg == 1 && geom_.kg == 1 && geom_.c == geom_.k;
  const bool out_ok = (y_type_ == DType::kInt8 && epi_.quantized) || (!epi_.quantized && is_float(y_type_));
  return depthwise && geom_.c % 4 == 0 && x_type_ == DType::kInt8 && out_ok && !has_residual_ &&
         ctx.in_layout(0) == Layout::kNHWC && ctx.out_layout(0) == Layout::kNHWC;
}

// Weights [K][taps] (packed_'s order for one channel per group) as [taps][K], so four channels' tap is one load.
void QConvKernel::prepare_dw(const Node& node, const Graph& g) {
  const int8_t* wsrc = g.value(node.inputs[3]).constant->data<int8_t>();
  const int64_t taps = int64_t(geom_.kh) * geom_.kw;
  std::vector<int8_t> by_tap(size_t(taps * geom_.k));
  for (int64_t k = 0; k < geom_.k; ++k)
    for (int64_t t = 0; t < taps; ++t) by_tap[size_t(t * geom_.k + k)] = wsrc[k * taps + t];
  dw_weights_ = upload(by_tap.data(), by_tap.size(), where_ + " (depthwise weights by tap)");
}

void QConvKernel::launch_dw(const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                            cudaStream_t stream) {
  const int64_t quads = out[0].numel() / 4;
  const int8_t* x = static_cast<const int8_t*>(in[0].data);
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
