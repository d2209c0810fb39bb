// Elementwise unary kernels (same definitions as the cpu reference's unary.cpp) and PRelu. float32 for all;
// int64/int32 for Relu, Neg, Abs and Clip; bool for Not.
#include <cuda_fp16.h>

#include <cfloat>
#include <limits>
#include <type_traits>

#include "ops/unary_op.h"
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

struct UnaryArgs {
  float alpha = 0.f, beta = 0.f;  // LeakyRelu alpha; HardSigmoid alpha/beta
};

template <UnaryOp Op, class T>
__device__ __forceinline__ T apply(T x, T lo, T hi, const UnaryArgs& p) {
  if constexpr (Op == UnaryOp::kRelu) {
    return x < T(0) ? T(0) : x;  // NaN propagates, as in ONNX's reference
  } else if constexpr (Op == UnaryOp::kLeakyRelu) {
    return x >= T(0) ? x : __fmul_rn(p.alpha, x);
  } else if constexpr (Op == UnaryOp::kClip) {
    const T y = x < lo ? lo : x;  // min > max gives max; NaN propagates
    return y > hi ? hi : y;
  } else if constexpr (Op == UnaryOp::kSigmoid) {
    // Split by sign so exp never overflows (as the reference does).
    if (x >= 0.f) return 1.f / (1.f + expf(-x));
    const float e = expf(x);
    return e / (1.f + e);
  } else if constexpr (Op == UnaryOp::kHardSigmoid) {
    // Unfused multiply-add, so results round like the reference's.
    return fmaxf(0.f, fminf(1.f, __fadd_rn(__fmul_rn(p.alpha, x), p.beta)));
  } else if constexpr (Op == UnaryOp::kHardSwish) {
    return x * fmaxf(0.f, fminf(1.f, __fadd_rn(x / 6.f, 0.5f)));
  } else if constexpr (Op == UnaryOp::kTanh) {
    return tanhf(x);
  } else if constexpr (Op == UnaryOp::kExp) {
    return expf(x);
  } else if constexpr (Op == UnaryOp::kLog) {
    return logf(x);
  } else if constexpr (Op == UnaryOp::kSqrt) {
    return sqrtf(x);
  } else if constexpr (Op == UnaryOp::kNeg) {
    if constexpr (std::is_integral_v<T>) return T(~std::make_unsigned_t<T>(x) + 1u);  // wraps like two's complement
    else return -x;
  } else if constexpr (Op == UnaryOp::kAbs) {
    return x < T(0) ? T(-x) : x;
  } else if constexpr (Op == UnaryOp::kFloor) {
    return floorf(x);
  } else if constexpr (Op == UnaryOp::kCeil) {
    return ceilf(x);
  } else if constexpr (Op == UnaryOp::kReciprocal) {
    return 1.f / x;
  } else if constexpr (Op == UnaryOp::kErf) {
    return erff(x);
  } else {
    return !x;
  }
}

// lo_ptr/hi_ptr: Clip's optional bound inputs on the device (read here so they may be computed at run time).
template <UnaryOp Op, class T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, T lo, T hi,
                             const T* lo_ptr, const T* hi_ptr, UnaryArgs p) {
  if (lo_ptr) lo = *lo_ptr;
  if (hi_ptr) hi = *hi_ptr;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = apply<Op, T>(x[i], lo, hi, p);
}

// Float16 storage: computed in float, rounded once on the store.
template <UnaryOp Op>
__global__ void unary_half_kernel(const __half* __restrict__ x, __half* __restrict__ y, int64_t n, float lo, float hi,
                                  const __half* lo_ptr, const __half* hi_ptr, UnaryArgs p) {
  if (lo_ptr) lo = __half2float(*lo_ptr);
  if (hi_ptr) hi = __half2float(*hi_ptr);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = __float2half_rn(apply<Op, float>(__half2float(x[i]), lo, hi, p));
}

template <UnaryOp Op>
class UnaryKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if constexpr (Op == UnaryOp::kNot) return check_dtypes(node, g, {DType::kBool});
    else if constexpr (takes_ints(Op))
      return check_dtypes(node, g, {DType::kFloat32, DType::kFloat16, DType::kInt64, DType::kInt32});
    else return check_dtypes(node, g, {DType::kFloat32, DType::kFloat16});
  }

  // Elementwise over the whole buffer: any storage layout, as long as the output keeps the input's.
  LayoutRule layout_rule(const Node&, const Graph&) const override { return LayoutRule::kSameLayout; }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    if constexpr (Op == UnaryOp::kLeakyRelu) {
      p_.alpha = node.attrs.get_float("alpha", 0.01f);
    } else if constexpr (Op == UnaryOp::kHardSigmoid) {
      p_.alpha = node.attrs.get_float("alpha", 0.2f);
      p_.beta = node.attrs.get_float("beta", 0.5f);
    } else if constexpr (Op == UnaryOp::kClip) {
      clip_attrs_ = g.opset < 11;
      clip_min_ = node.attrs.get_float("min", -std::numeric_limits<float>::infinity());
      clip_max_ = node.attrs.get_float("max", std::numeric_limits<float>::infinity());
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    switch (in[0].dtype) {
      case DType::kBool:
        if constexpr (Op == UnaryOp::kNot) return launch<bool>(in, out[0], ctx);
        break;
      case DType::kFloat32:
        if constexpr (Op != UnaryOp::kNot) return launch<float>(in, out[0], ctx);
        break;
      case DType::kFloat16:
        if constexpr (Op != UnaryOp::kNot) return launch_half(in, out[0], ctx);
        break;
      case DType::kInt64:
        if constexpr (takes_ints(Op)) return launch<int64_t>(in, out[0], ctx);
        break;
      case DType::kInt32:
        if constexpr (takes_ints(Op)) return launch<int32_t>(in, out[0], ctx);
        break;
      default: break;
    }
    fail(ErrorKind::kUnsupported, where_, ": the cuda kernel does not take element type ", dtype_name(in[0].dtype));
  }

 private:
  template <class T>
  void launch(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    const T *lo_ptr = nullptr, *hi_ptr = nullptr;
    if constexpr (Op == UnaryOp::kClip) {
      if (clip_attrs_) {
        lo = clamp_to<T>(clip_min_);
        hi = clamp_to<T>(clip_max_);
      } else {
        if (in.size() > 1 && in[1].data) lo_ptr = in[1].as<T>();
        if (in.size() > 2 && in[2].data) hi_ptr = in[2].as<T>();
      }
    }
    unary_kernel<Op, T><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<T>(), y.as<T>(), n, lo, hi, lo_ptr,
                                                                     hi_ptr, p_);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (unary_kernel<Op, T>));
  }

  void launch_half(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    float lo = -FLT_MAX, hi = FLT_MAX;
    const __half *lo_ptr = nullptr, *hi_ptr = nullptr;
    if constexpr (Op == UnaryOp::kClip) {
      if (clip_attrs_) {
        lo = float(clip_min_);
        hi = float(clip_max_);
      } else {
        if (in.size() > 1 && in[1].data) lo_ptr = in[1].as<__half>();
        if (in.size() > 2 && in[2].data) hi_ptr = in[2].as<__half>();
      }
    }
    unary_half_kernel<Op><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<__half>(), y.as<__half>(), n, lo, hi,
                                                                       lo_ptr, hi_ptr, p_);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, unary_half_kernel<Op>);
  }

  template <class T>
  static T clamp_to(double v) {
    if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return T(v);
  }

  std::string where_;
  UnaryArgs p_;
  bool clip_attrs_ = false;
  double clip_min_ = 0, clip_max_ = 0;
};

// PRelu: y = x < 0 ? x * slope : x, slope broadcast to x's shape.
template <class T>
__global__ void prelu_kernel(const T* __restrict__ x, const T* __restrict__ slope, T* __restrict__ y, int64_t n,
                             Access sa) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T v = x[i];
    y[i] = v < T(0) ? T(v * slope[sa(i)]) : v;
  }
}

class PReluKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    return check_dtypes(node, g, {DType::kFloat32, DType::kInt64, DType::kInt32});
  }
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    switch (in[0].dtype) {
      case DType::kFloat32: return launch<float>(in, out[0], ctx);
      case DType::kInt64: return launch<int64_t>(in, out[0], ctx);
      case DType::kInt32: return launch<int32_t>(in, out[0], ctx);
      default: fail(ErrorKind::kUnsupported, where_, ": the cuda kernel does not take ", dtype_name(in[0].dtype));
    }
  }

 private:
  template <class T>
  void launch(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const int64_t n = y.numel();
    if (n == 0) return;
    if (in[0].numel() != n)
      fail(ErrorKind::kUnsupported, where_, ": the cuda kernel needs the slope to broadcast to the input's shape");
    const Access sa = make_access(in[1].shape, y.shape, where_);
    prelu_kernel<T><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<T>(), in[1].as<T>(), y.as<T>(), n, sa);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, prelu_kernel<T>);
  }

  std::string where_;
};

}  // namespace
}  // namespace trtcore::cuda

using trtcore::cuda::UnaryKernel;
using trtcore::UnaryOp;
TRTCORE_CUDA_KERNEL_FACTORY(Relu, UnaryKernel<UnaryOp::kRelu>)
TRTCORE_CUDA_KERNEL_FACTORY(LeakyRelu, UnaryKernel<UnaryOp::kLeakyRelu>)
TRTCORE_CUDA_KERNEL_FACTORY(Clip, UnaryKernel<UnaryOp::kClip>)
TRTCORE_CUDA_KERNEL_FACTORY(Sigmoid, UnaryKernel<UnaryOp::kSigmoid>)
TRTCORE_CUDA_KERNEL_FACTORY(HardSigmoid, UnaryKernel<UnaryOp::kHardSigmoid>)
TRTCORE_CUDA_KERNEL_FACTORY(HardSwish, UnaryKernel<UnaryOp::kHardSwish>)
TRTCORE_CUDA_KERNEL_FACTORY(Tanh, UnaryKernel<UnaryOp::kTanh>)
TRTCORE_CUDA_KERNEL_FACTORY(Exp, UnaryKernel<UnaryOp::kExp>)
TRTCORE_CUDA_KERNEL_FACTORY(Log, UnaryKernel<UnaryOp::kLog>)
TRTCORE_CUDA_KERNEL_FACTORY(Sqrt, UnaryKernel<UnaryOp::kSqrt>)
TRTCORE_CUDA_KERNEL_FACTORY(Neg, UnaryKernel<UnaryOp::kNeg>)
TRTCORE_CUDA_KERNEL_FACTORY(Abs, UnaryKernel<UnaryOp::kAbs>)
TRTCORE_CUDA_KERNEL_FACTORY(Floor, UnaryKernel<UnaryOp::kFloor>)
TRTCORE_CUDA_KERNEL_FACTORY(Ceil, UnaryKernel<UnaryOp::kCeil>)
TRTCORE_CUDA_KERNEL_FACTORY(Reciprocal, UnaryKernel<UnaryOp::kReciprocal>)
TRTCORE_CUDA_KERNEL_FACTORY(Erf, UnaryKernel<UnaryOp::kErf>)
TRTCORE_CUDA_KERNEL_FACTORY(Not, UnaryKernel<UnaryOp::kNot>)
TRTCORE_CUDA_KERNEL_FACTORY(PRelu, trtcore::cuda::PReluKernel)
