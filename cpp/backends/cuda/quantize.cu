// QuantizeLinear / DequantizeLinear: y = saturate(round_half_even(x / scale) + zero_point) and
// y = (x - zero_point) * scale, per tensor or per axis (ops/quant_params.h), computed in float32 exactly as the cpu
// reference does (backends/cpu/quantize.cpp). Q takes float32/float16 data and scales; DQ takes int8/uint8/int32 data
// and writes the scale's type or its output_dtype (float16 after a float32 scale: the FP16 regions of INT8 plans).
// Scales and zero points are read from device memory, so they may be runtime tensors.
#include <cuda_fp16.h>

#include <type_traits>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/elementwise.cuh"
#include "ops/quant_params.h"

namespace trtcore::cuda {
namespace {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

template <class T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

// Where element i finds its scale: channel (i / inner) % channels, or 0 per tensor. A one-element zero point
// serves every channel (zp_step 0), as on cpu.
struct ChannelOf {
  int64_t inner = 1, channels = 1, zp_step = 1;
  __device__ __forceinline__ int64_t operator()(int64_t i) const { return channels == 1 ? 0 : (i / inner) % channels; }
};

// NaN quantizes to the zero point (as on cpu: the spec leaves it open). Correctly rounded division, whatever the
// compiler's division flags.
template <class Y>
__device__ __forceinline__ Y quantize_value(float x, float s, float z, float lo, float hi) {
  float r = rintf(__fdiv_rn(x, s));
  r = r == r ? r + z : z;
  return Y(fminf(fmaxf(r, lo), hi));
}
// The same with 1/s at hand (per-tensor scales: computed once a thread).
template <class Y>
__device__ __forceinline__ Y quantize_value(float x, float s, float inv_s, float z, float lo, float hi) {
  float r = rintf(quotient_for_rint(x, s, inv_s));
  r = r == r ? r + z : z;
  return Y(fminf(fmaxf(r, lo), hi));
}

template <class X, class S, class Y>
__global__ void quantize_kernel(const X* __restrict__ x, const S* __restrict__ scale, const Y* __restrict__ zp,
                                Y* __restrict__ y, int64_t n, ChannelOf ch, float lo, float hi) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = ch(i);
    const float z = zp ? float(zp[c * ch.zp_step]) : 0.f;
    y[i] = quantize_value<Y>(to_float(x[i]), to_float(scale[c]), z, lo, hi);
  }
}

// The product in float32, rounded once to the output type.
template <class Y, class X>
__device__ __forceinline__ Y dequantize_value(X x, int32_t z, float s) {
  return from_float<Y>(float(int32_t(x) - z) * s);
}

// Per tensor, eight elements a thread (one 16- or 32-byte load, one 8-byte store): the quantizer of a large float16
// activation (a stem's output) is bound by memory, which per-element accesses leave mostly idle.
template <class T>
struct alignas(sizeof(T) * 8) Pack8 {
  T v[8];
};

template <class X, class S, class Y>
__global__ void quantize8_kernel(const Pack8<X>* __restrict__ x, const S* __restrict__ scale, const Y* __restrict__ zp,
                                 Pack8<Y>* __restrict__ y, int64_t packs, float lo, float hi) {
  const float s = to_float(scale[0]), inv_s = __frcp_rn(s);
  const float z = zp ? float(zp[0]) : 0.f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < packs; i += int64_t(gridDim.x) * blockDim.x) {
    const Pack8<X> in = x[i];
    Pack8<Y> out;
#pragma unroll
    for (int k = 0; k < 8; ++k) out.v[k] = quantize_value<Y>(to_float(in.v[k]), s, inv_s, z, lo, hi);
    y[i] = out;
  }
}

// Per tensor, eight elements a thread, as quantize8_kernel.
template <class X, class S, class Y>
__global__ void dequantize8_kernel(const Pack8<X>* __restrict__ x, const S* __restrict__ scale,
                                   const X* __restrict__ zp, Pack8<Y>* __restrict__ y, int64_t packs) {
  const float s = to_float(scale[0]);
  const int32_t z = zp ? int32_t(zp[0]) : 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < packs; i += int64_t(gridDim.x) * blockDim.x) {
    const Pack8<X> in = x[i];
    Pack8<Y> out;
#pragma unroll
    for (int k = 0; k < 8; ++k) out.v[k] = dequantize_value<Y>(in.v[k], z, s);
    y[i] = out;
  }
}

// Per tensor, changing the 4-D storage layout on the way (NCHW <-> NHWC): the network input's quantizer writes the
// int8 tensor in the layout the convolutions after it read, so the float stem behind its DequantizeLinear gets
// NHWC data as the FP16 plan's stem does from its input Cast. `i` enumerates the output.
template <class X, class S, class Y, bool ToNhwc>
__global__ void quantize_layout_kernel(const X* __restrict__ x, const S* __restrict__ scale, const Y* __restrict__ zp,
                                       Y* __restrict__ y, int64_t n, int64_t channels, int64_t plane, float lo,
                                       float hi) {
  const float s = to_float(scale[0]);
  const float z = zp ? float(zp[0]) : 0.f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    y[i] = quantize_value<Y>(to_float(x[layout_source_index<ToNhwc>(i, channels, plane)]), s, z, lo, hi);
  }
}

template <class T>
struct alignas(sizeof(T) * 4) Pack4 {
  T v[4];
};

// NCHW -> NHWC for images of at most four channels (the network input): a thread quantizes four neighbouring pixels
// of each channel (one 4-element load per channel plane, coalesced across the warp) and writes their 4*C bytes as C
// 32-bit words, instead of one scattered byte per element with 64-bit index arithmetic.
template <int C, class X, class S, class Y>
__global__ void quantize_image_to_nhwc_kernel(const X* __restrict__ x, const S* __restrict__ scale,
                                              const Y* __restrict__ zp, Y* __restrict__ y, int64_t groups,
                                              int64_t plane, float lo, float hi) {
  const float s = to_float(scale[0]), inv_s = __frcp_rn(s);
  const float z = zp ? float(zp[0]) : 0.f;
  const int64_t per_image = plane / 4;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < groups; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t img = i / per_image, p = (i % per_image) * 4;
    uint32_t q[C][4];
#pragma unroll
    for (int c = 0; c < C; ++c) {
      const Pack4<X> in = *reinterpret_cast<const Pack4<X>*>(x + (img * C + c) * plane + p);
#pragma unroll
      for (int k = 0; k < 4; ++k) q[c][k] = uint8_t(quantize_value<Y>(to_float(in.v[k]), s, inv_s, z, lo, hi));
    }
    uint32_t* out = reinterpret_cast<uint32_t*>(y + (img * plane + p) * C);
#pragma unroll
    for (int w = 0; w < C; ++w) {
      uint32_t word = 0;
#pragma unroll
      for (int b = 0; b < 4; ++b) word |= q[(4 * w + b) % C][(4 * w + b) / C] << (8 * b);
      out[w] = word;
    }
  }
}

// The product in float32, rounded once to the output type (the scale's, or a float16 output_dtype).
template <class X, class S, class Y>
__global__ void dequantize_kernel(const X* __restrict__ x, const S* __restrict__ scale, const X* __restrict__ zp,
                                  Y* __restrict__ y, int64_t n, ChannelOf ch) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = ch(i);
    const int32_t z = zp ? int32_t(zp[c * ch.zp_step]) : 0;
    y[i] = dequantize_value<Y>(x[i], z, to_float(scale[c]));
  }
}

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

// Calls f(T{}) for the device type of a float dtype (float32/float16).
template <class F>
void with_float(DType t, F&& f) {
  if (t == DType::kFloat16) f(__half{});
  else f(float{});
}

// Calls f(T{}) for the device type of an integer dtype (int8/uint8/int32).
template <class F>
void with_int(DType t, F&& f) {
  if (t == DType::kInt8) f(int8_t{});
  else if (t == DType::kUInt8) f(uint8_t{});
  else f(int32_t{});
}

// "" when the zero point is absent, or has dtype `want` and one element or one per scale, else the reason.
std::string zero_point_is(const Node& node, const Graph& g, DType want) {
  if (node.inputs.size() <= 2 || node.inputs[2] < 0) return "";
  const Value& z = g.value(node.inputs[2]);
  if (z.dtype != want)
    return "zero point '" + z.name + "' is " + dtype_name(z.dtype) + " but the data type is " + dtype_name(want);
  const int64_t scales = numel(g.value(node.inputs[1]).shape);
  if (numel(z.shape) != 1 && numel(z.shape) != scales)
    return "zero point '" + z.name + "' has " + std::to_string(numel(z.shape)) + " elements for " +
           std::to_string(scales) + " scales";
  return "";
}

// Scale and zero point against the data's shape, checked on the host (a blocked scale is refused here).
QuantAxis quant_axis(const Node& node, const Shape& data, const Shape& scale) {
  return resolve_quant_axis(data, scale, node.attrs.get_int("axis", 1), node.describe());
}

// Shared by both ops: the layout rule and the channel geometry.
class QdqKernelBase : public CudaKernel {
 public:
  // Per tensor it is elementwise over the buffer, so it runs in whatever layout its input is stored; per axis the
  // channel index assumes C order, so it reads and writes NCHW.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    const Value& x = g.value(node.inputs[0]);
    const QuantAxis q = quant_axis(node, x.shape, g.value(node.inputs[1]).shape);
    return q.per_tensor() ? LayoutRule::kSameLayout : LayoutRule::kNchwOnly;
  }
  // The channel geometry does not depend on the batch: the scales' axis has a fixed extent and `inner` counts the
  // elements after it.
  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const QuantAxis q = quant_axis(node, g.value(node.inputs[0]).shape, g.value(node.inputs[1]).shape);
    if (!q.per_tensor()) {
      ch_.inner = q.inner;
      ch_.channels = q.channels;
    }
    const bool has_zp = node.inputs.size() > 2 && node.inputs[2] >= 0;
    if (has_zp && numel(g.value(node.inputs[2]).shape) == 1) ch_.zp_step = 0;
  }

 protected:
  static const void* zero_point_ptr(const std::vector<TensorView>& in) {
    return in.size() > 2 ? in[2].data : nullptr;
  }

  std::string where_;
  ChannelOf ch_;
};

class QuantizeKernel : public QdqKernelBase {
 public:
  // Per tensor on 4-D float data it also converts the layout (see quantize_layout_kernel).
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    const LayoutRule base = QdqKernelBase::layout_rule(node, g);
    const Value& x = g.value(node.inputs[0]);
    return base == LayoutRule::kSameLayout && x.shape.size() == 4 ? LayoutRule::kAnyLayout : base;
  }
  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    QdqKernelBase::init(node, g, ctx);
    in_layout_ = ctx.in_layout(0);
    out_layout_ = ctx.out_layout(0);
  }

  std::string check(const Node& node, const Graph& g) const override {
    const Value& x = g.value(node.inputs[0]);
    const Value& s = g.value(node.inputs[1]);
    const Value& y = g.value(node.outputs[0]);
    if (!is_float(x.dtype) || !is_float(s.dtype))
      return "data '" + x.name + "' is " + dtype_name(x.dtype) + " and scale '" + s.name + "' " +
             dtype_name(s.dtype) + "; the cuda QuantizeLinear takes float32 or float16";
    if (y.dtype != DType::kInt8 && y.dtype != DType::kUInt8)
      return "output '" + y.name + "' is " + dtype_name(y.dtype) + "; the cuda QuantizeLinear writes int8 or uint8";
    return zero_point_is(node, g, y.dtype);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    const bool is_signed = out[0].dtype == DType::kInt8;
    const float lo = is_signed ? -128.f : 0.f, hi = is_signed ? 127.f : 255.f;
    with_float(in[0].dtype, [&](auto xt) {
      using X = decltype(xt);
      with_float(in[1].dtype, [&](auto st) {
        using S = decltype(st);
        if (is_signed) launch<X, S, int8_t>(in, out, n, lo, hi, ctx.stream);
        else launch<X, S, uint8_t>(in, out, n, lo, hi, ctx.stream);
      });
    });
  }

 private:
  template <class X, class S, class Y>
  void launch(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int64_t n, float lo, float hi,
              cudaStream_t stream) const {
    if (in_layout_ != out_layout_) {
      const int64_t c = in[0].shape[1], plane = in[0].shape[2] * in[0].shape[3];
      if (out_layout_ == Layout::kNHWC && c <= 4 && plane % 4 == 0 && aligned(in[0].data, sizeof(X) * 4) &&
          aligned(out[0].data, 4)) {
        const auto image = [&](auto channels) {
          constexpr int kC = decltype(channels)::value;
          const int64_t groups = n / (4 * kC);  // four pixels of every channel a thread
          quantize_image_to_nhwc_kernel<kC, X, S, Y><<<grid_for(groups), kBlockSize, 0, stream>>>(
              in[0].as<X>(), in[1].as<S>(), static_cast<const Y*>(zero_point_ptr(in)), out[0].as<Y>(), groups, plane,
              lo, hi);
        };
        if (c == 1) image(std::integral_constant<int, 1>{});
        else if (c == 2) image(std::integral_constant<int, 2>{});
        else if (c == 3) image(std::integral_constant<int, 3>{});
        else image(std::integral_constant<int, 4>{});
        TRTCORE_CUDA_LAUNCH_CHECK(where_, "quantize_image_to_nhwc_kernel");
        return;
      }
      const auto go = [&](auto to_nhwc) {
        quantize_layout_kernel<X, S, Y, decltype(to_nhwc)::value><<<grid_for(n), kBlockSize, 0, stream>>>(
            in[0].as<X>(), in[1].as<S>(), static_cast<const Y*>(zero_point_ptr(in)), out[0].as<Y>(), n, c, plane,
            lo, hi);
      };
      if (out_layout_ == Layout::kNHWC) go(std::true_type{});
      else go(std::false_type{});
      TRTCORE_CUDA_LAUNCH_CHECK(where_, "quantize_layout_kernel");
      return;
    }
    if (ch_.channels == 1 && n % 8 == 0 && aligned(in[0].data, sizeof(X) * 8) && aligned(out[0].data, 8)) {
      quantize8_kernel<X, S, Y><<<grid_for(n / 8), kBlockSize, 0, stream>>>(
          static_cast<const Pack8<X>*>(in[0].data), in[1].as<S>(), static_cast<const Y*>(zero_point_ptr(in)),
          static_cast<Pack8<Y>*>(out[0].data), n / 8, lo, hi);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, (quantize8_kernel<X, S, Y>));
      return;
    }
    quantize_kernel<X, S, Y><<<grid_for(n), kBlockSize, 0, stream>>>(
        in[0].as<X>(), in[1].as<S>(), static_cast<const Y*>(zero_point_ptr(in)), out[0].as<Y>(), n, ch_, lo, hi);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (quantize_kernel<X, S, Y>));
  }

  Layout in_layout_ = Layout::kNCHW, out_layout_ = Layout::kNCHW;
};

class DequantizeKernel : public QdqKernelBase {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    const Value& x = g.value(node.inputs[0]);
    const Value& s = g.value(node.inputs[1]);
    const Value& y = g.value(node.outputs[0]);
    if (x.dtype != DType::kInt8 && x.dtype != DType::kUInt8 && x.dtype != DType::kInt32)
      return "data '" + x.name + "' is " + dtype_name(x.dtype) + "; the cuda DequantizeLinear takes int8, uint8 or int32";
    if (!is_float(s.dtype) || !is_float(y.dtype))
      return "scale '" + s.name + "' is " + dtype_name(s.dtype) + " and output '" + y.name + "' " +
             dtype_name(y.dtype) + "; the cuda DequantizeLinear takes and writes float32 or float16";
    return zero_point_is(node, g, x.dtype);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    with_int(in[0].dtype, [&](auto xt) {
      using X = decltype(xt);
      with_float(in[1].dtype, [&](auto st) {
        using S = decltype(st);
        with_float(out[0].dtype, [&](auto yt) {
          using Y = decltype(yt);
          if (ch_.channels == 1 && n % 8 == 0 && aligned(in[0].data, sizeof(X) * 8) &&
              aligned(out[0].data, sizeof(Y) * 8)) {
            dequantize8_kernel<X, S, Y><<<grid_for(n / 8), kBlockSize, 0, ctx.stream>>>(
                static_cast<const Pack8<X>*>(in[0].data), in[1].as<S>(), static_cast<const X*>(zero_point_ptr(in)),
                static_cast<Pack8<Y>*>(out[0].data), n / 8);
            TRTCORE_CUDA_LAUNCH_CHECK(where_, (dequantize8_kernel<X, S, Y>));
            return;
          }
          dequantize_kernel<X, S, Y><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(
              in[0].as<X>(), in[1].as<S>(), static_cast<const X*>(zero_point_ptr(in)), out[0].as<Y>(), n, ch_);
          TRTCORE_CUDA_LAUNCH_CHECK(where_, (dequantize_kernel<X, S, Y>));
        });
      });
    });
  }
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(QuantizeLinear, trtcore::cuda::QuantizeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(DequantizeLinear, trtcore::cuda::DequantizeKernel)
