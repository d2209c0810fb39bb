// Cast with ONNX semantics as the reference implements them: float -> int truncates toward zero (NaN -> 0), any
// nonzero -> true, bool -> 0/1, float16 rounds to nearest even. float32/float64/float16/int64/int32/int8/uint8/bool.
#include <cuda_fp16.h>

#include <type_traits>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

template <class D, class S>
__device__ __forceinline__ D convert_one(S v) {
  if constexpr (std::is_same_v<S, __half>) {
    return convert_one<D>(__half2float(v));
  } else if constexpr (std::is_same_v<D, __half>) {
    return __float2half_rn(float(v));
  } else if constexpr (std::is_same_v<D, bool>) {
    return v != S(0);
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    return v != v ? D(0) : D(v);
  } else {
    return D(v);
  }
}

template <class S, class D>
__global__ void cast_kernel(const S* __restrict__ x, D* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = convert_one<D>(x[i]);
}

// A float32/float16 cast that also changes the 4-D storage layout (NCHW <-> NHWC), e.g. the network input's
// conversion into an NHWC float16 region: one pass instead of a cast and a transform. `i` enumerates the output.
template <class S, class D, bool ToNhwc, class I>
__global__ void cast_layout_kernel(const S* __restrict__ x, D* __restrict__ y, I n, I channels, I plane) {
  for (I i = I(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += I(gridDim.x) * blockDim.x) {
    y[i] = convert_one<D>(x[layout_source_index<ToNhwc>(i, channels, plane)]);
  }
}

template <class S, class D, bool ToNhwc>
void launch_cast_layout(const TensorView& x, const TensorView& y, cudaStream_t stream, const std::string& where) {
  const int64_t n = x.numel(), c = x.shape[1], plane = x.shape[2] * x.shape[3];
  if (n < int64_t(INT32_MAX)) {
    cast_layout_kernel<S, D, ToNhwc, int32_t><<<grid_for(n), kBlockSize, 0, stream>>>(
        x.as<S>(), y.as<D>(), int32_t(n), int32_t(c), int32_t(plane));
    TRTCORE_CUDA_LAUNCH_CHECK(where, (cast_layout_kernel<S, D, ToNhwc, int32_t>));
  } else {
    cast_layout_kernel<S, D, ToNhwc, int64_t><<<grid_for(n), kBlockSize, 0, stream>>>(x.as<S>(), y.as<D>(), n, c,
                                                                                       plane);
    TRTCORE_CUDA_LAUNCH_CHECK(where, (cast_layout_kernel<S, D, ToNhwc, int64_t>));
  }
}

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

template <class F>
bool with_type(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: f(float{}); return true;
    case DType::kFloat64: f(double{}); return true;
    case DType::kFloat16: f(__half{}); return true;
    case DType::kInt64: f(int64_t{}); return true;
    case DType::kInt32: f(int32_t{}); return true;
    case DType::kInt8: f(int8_t{}); return true;
    case DType::kUInt8: f(uint8_t{}); return true;
    case DType::kBool: f(bool{}); return true;
    default: return false;
  }
}

bool castable(DType t) {
  return with_type(t, [](auto) {});
}

class CastKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    for (int id : {node.inputs[0], node.outputs[0]})
      if (!castable(g.value(id).dtype))
        return std::string("value '") + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) +
               ", which the cuda Cast does not take";
    return "";
  }
  // Elementwise over the whole buffer: any storage layout, as long as the output keeps the input's; 4-D float
  // casts also convert between layouts.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    const Value& x = g.value(node.inputs[0]);
    const Value& y = g.value(node.outputs[0]);
    if (x.shape.size() == 4 && is_float(x.dtype) && is_float(y.dtype)) return LayoutRule::kAnyLayout;
    return LayoutRule::kSameLayout;
  }
  void init(const Node& node, const Graph&, CudaInitContext& ctx) override {
    where_ = node.describe();
    in_layout_ = ctx.in_layout(0);
    out_layout_ = ctx.out_layout(0);
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    if (in_layout_ != out_layout_) {
      const bool to_nhwc = out_layout_ == Layout::kNHWC;
      const bool xh = in[0].dtype == DType::kFloat16, yh = out[0].dtype == DType::kFloat16;
      if (xh && yh) return to_nhwc ? launch_cast_layout<__half, __half, true>(in[0], out[0], ctx.stream, where_)
                                   : launch_cast_layout<__half, __half, false>(in[0], out[0], ctx.stream, where_);
      if (xh) return to_nhwc ? launch_cast_layout<__half, float, true>(in[0], out[0], ctx.stream, where_)
                             : launch_cast_layout<__half, float, false>(in[0], out[0], ctx.stream, where_);
      if (yh) return to_nhwc ? launch_cast_layout<float, __half, true>(in[0], out[0], ctx.stream, where_)
                             : launch_cast_layout<float, __half, false>(in[0], out[0], ctx.stream, where_);
      return to_nhwc ? launch_cast_layout<float, float, true>(in[0], out[0], ctx.stream, where_)
                     : launch_cast_layout<float, float, false>(in[0], out[0], ctx.stream, where_);
    }
    if (in[0].dtype == out[0].dtype) {
      TRTCORE_CUDA_CHECK(where_, cudaMemcpyAsync(out[0].data, in[0].data, in[0].nbytes(), cudaMemcpyDeviceToDevice,
                                                 ctx.stream));
      return;
    }
    bool done = false;
    with_type(in[0].dtype, [&](auto s) {
      using S = decltype(s);
      done = with_type(out[0].dtype, [&](auto d) {
        using D = decltype(d);
        cast_kernel<S, D><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<S>(), out[0].as<D>(), n);
        TRTCORE_CUDA_LAUNCH_CHECK(where_, (cast_kernel<S, D>));
      });
    });
    if (!done)
      fail(ErrorKind::kUnsupported, where_, ": cannot cast ", dtype_name(in[0].dtype), " to ",
           dtype_name(out[0].dtype), " on cuda");
  }

 private:
  std::string where_;
  Layout in_layout_ = Layout::kNCHW, out_layout_ = Layout::kNCHW;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Cast, trtcore::cuda::CastKernel)
