// Broadcasting elementwise kernels (same definitions as the cpu reference's binary.cpp): Add Sub Mul Div Pow,
// variadic Sum Mean Min Max, comparisons Equal Less Greater (bool out) and Where. float32, int64 and int32
// (and bool for Equal); Where takes any dtype. Integer Div truncates toward zero; x / 0 gives 0.
#include <cuda_fp16.h>

#include <limits>
#include <type_traits>

#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMin, kMax, kEqual, kLess, kGreater };

constexpr bool is_comparison(BinOp op) { return op == BinOp::kEqual || op == BinOp::kLess || op == BinOp::kGreater; }

// Integer bases: device pow may land an ulp below an exact integer power (3^1 -> 2.999...), which truncation
// would turn into the wrong integer; small integer exponents are multiplied out exactly instead.
__device__ __forceinline__ double int_pow(double a, double b) {
  if (b != trunc(b) || fabs(b) > 64) return pow(a, b);
  double p = 1, base = a;
  for (long long e = (long long)fabs(b); e > 0; e >>= 1, base *= base)
    if (e & 1) p *= base;
  return b < 0 ? 1 / p : p;
}

template <BinOp Op, class T, class U>
__device__ __forceinline__ auto apply(T a, U b) {
  if constexpr (Op == BinOp::kAdd) {
    return T(a + b);
  } else if constexpr (Op == BinOp::kSub) {
    return T(a - b);
  } else if constexpr (Op == BinOp::kMul) {
    return T(a * b);
  } else if constexpr (Op == BinOp::kDiv) {
    if constexpr (std::is_integral_v<T>) {
      // Division by zero has no integer result; -1 is special-cased so INT_MIN / -1 wraps.
      if (b == T(0)) return T(0);
      if (b == T(-1)) return T(~std::make_unsigned_t<T>(a) + 1u);
      return T(a / b);
    } else {
      return T(a / b);
    }
  } else if constexpr (Op == BinOp::kPow) {
    // Through double, as the reference computes it. An integer result out of range (0 to a negative power is
    // inf) takes the type's lowest value, as the reference's conversion does on x86, instead of saturating.
    if constexpr (std::is_integral_v<T>) {
      const double r = int_pow(double(a), double(b));
      const bool fits = r >= double(std::numeric_limits<T>::lowest()) && r < -double(std::numeric_limits<T>::lowest());
      return fits ? T(r) : std::numeric_limits<T>::lowest();
    } else {
      return T(pow(double(a), double(b)));
    }
  } else if constexpr (Op == BinOp::kMin) {
    return b < a ? b : a;
  } else if constexpr (Op == BinOp::kMax) {
    return b > a ? b : a;
  } else if constexpr (Op == BinOp::kEqual) {
    return a == b;
  } else if constexpr (Op == BinOp::kLess) {
    return a < b;
  } else {
    return a > b;
  }
}

template <BinOp Op, class T, class U, class R>
__global__ void binary_kernel(const T* __restrict__ a, const U* __restrict__ b, R* y, int64_t n, Access aa,
                              Access ab) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = apply<Op, T, U>(a[aa(i)], b[ab(i)]);
}

// Float16 storage: each element computed in float and rounded once on the store.
template <BinOp Op>
__global__ void binary_half_kernel(const __half* __restrict__ a, const __half* __restrict__ b, __half* y, int64_t n,
                                   Access aa, Access ab) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = __float2half_rn(apply<Op, float, float>(__half2float(a[aa(i)]), __half2float(b[ab(i)])));
}

// y = f(a, b); `a` may be y itself (the variadic fold), read before written at the same index.
template <BinOp Op, class T, class U = T>
void launch_binary(const TensorView& a, const TensorView& b, const TensorView& y, cudaStream_t stream,
                   const std::string& where) {
  // Spelled out rather than deduced from the device function (the host pass must name the same kernel).
  using R = std::conditional_t<is_comparison(Op), bool, T>;
  const int64_t n = y.numel();
  if (n == 0) return;
  const Access aa = make_access(a.shape, y.shape, where), ab = make_access(b.shape, y.shape, where);
  binary_kernel<Op, T, U, R><<<grid_for(n), kBlockSize, 0, stream>>>(a.as<T>(), b.as<U>(), y.as<R>(), n, aa, ab);
  TRTCORE_CUDA_LAUNCH_CHECK(where, (binary_kernel<Op, T, U, R>));
}

template <class F>
void with_numeric_type(DType t, bool allow_bool, const std::string& where, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(float{});
    case DType::kInt64: return f(int64_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kBool:
      if (allow_bool) return f(bool{});
      break;
    default: break;
  }
  fail(ErrorKind::kUnsupported, where, ": the cuda kernel does not take element type ", dtype_name(t));
}

constexpr std::initializer_list<DType> kNumeric = {DType::kFloat32, DType::kInt64, DType::kInt32};

template <BinOp Op>
class BinaryKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if constexpr (is_comparison(Op)) {
      for (int id : node.inputs) {
        const DType t = g.value(id).dtype;
        if (t != DType::kFloat32 && t != DType::kInt64 && t != DType::kInt32 && !(Op == BinOp::kEqual && t == DType::kBool))
          return std::string("value '") + g.value(id).name + "' is " + dtype_name(t) + ", which this cuda kernel does not take";
      }
      return "";
    } else if constexpr (Op == BinOp::kPow) {
      return check_dtypes(node, g, kNumeric);
    } else {
      return check_dtypes(node, g, {DType::kFloat32, DType::kFloat16, DType::kInt64, DType::kInt32});
    }
  }
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    if constexpr (Op == BinOp::kPow) {
      // The exponent may have another type than the base; the result takes the base's.
      return with_numeric_type(in[0].dtype, false, where_, [&](auto t) {
        with_numeric_type(in[1].dtype, false, where_, [&](auto u) {
          launch_binary<Op, decltype(t), decltype(u)>(in[0], in[1], out[0], ctx.stream, where_);
        });
      });
    } else {
      if constexpr (!is_comparison(Op)) {
        if (in[0].dtype == DType::kFloat16) {
          const TensorView& y = out[0];
          const int64_t n = y.numel();
          if (n == 0) return;
          const Access aa = make_access(in[0].shape, y.shape, where_), ab = make_access(in[1].shape, y.shape, where_);
          binary_half_kernel<Op><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<__half>(), in[1].as<__half>(),
                                                                             y.as<__half>(), n, aa, ab);
          TRTCORE_CUDA_LAUNCH_CHECK(where_, binary_half_kernel<Op>);
          return;
        }
      }
      with_numeric_type(in[0].dtype, Op == BinOp::kEqual, where_, [&](auto t) {
        using T = decltype(t);
        if constexpr (std::is_same_v<T, bool> && !is_comparison(Op)) return;  // unreachable: bool only for Equal
        else launch_binary<Op, T>(in[0], in[1], out[0], ctx.stream, where_);
      });
    }
  }

 private:
  std::string where_;
};

enum class Fold { kSum, kMean, kMin, kMax };

template <class T>
__global__ void divide_kernel(T* y, int64_t n, T count) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = T(y[i] / count);
}

template <Fold F>
class VariadicKernel : public CudaKernel {
  static constexpr BinOp kOp = F == Fold::kMin ? BinOp::kMin : F == Fold::kMax ? BinOp::kMax : BinOp::kAdd;

 public:
  std::string check(const Node& node, const Graph& g) const override { return check_dtypes(node, g, kNumeric); }
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& y = out[0];
    if (in.size() == 1) {
      strided_copy(in[0].data, broadcast_index(in[0].shape, y.shape, where_), y.data, y.numel(), dtype_size(y.dtype),
                   ctx.stream, where_);
      return;
    }
    with_numeric_type(y.dtype, false, where_, [&](auto t) {
      using T = decltype(t);
      launch_binary<kOp, T>(in[0], in[1], y, ctx.stream, where_);
      for (size_t k = 2; k < in.size(); ++k) launch_binary<kOp, T>(y, in[k], y, ctx.stream, where_);
      if constexpr (F == Fold::kMean) {
        const int64_t n = y.numel();
        if (n == 0) return;
        divide_kernel<T><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(y.as<T>(), n, T(in.size()));
        TRTCORE_CUDA_LAUNCH_CHECK(where_, divide_kernel<T>);
      }
    });
  }

 private:
  std::string where_;
};

template <class E>
__global__ void where_kernel(const bool* __restrict__ c, const E* __restrict__ x, const E* __restrict__ y,
                             E* __restrict__ out, int64_t n, Access ac, Access ax, Access ay) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = c[ac(i)] ? x[ax(i)] : y[ay(i)];
}

// Where selects whole elements, so it runs on any dtype by element size.
class WhereKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if (g.value(node.inputs[0]).dtype != DType::kBool) return "Where's condition must be bool";
    return "";
  }
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    switch (dtype_size(out[0].dtype)) {
      case 1: return launch<uint8_t>(in, out[0], ctx);
      case 2: return launch<uint16_t>(in, out[0], ctx);
      case 4: return launch<uint32_t>(in, out[0], ctx);
      case 8: return launch<uint64_t>(in, out[0], ctx);
      default: fail(ErrorKind::kUnsupported, where_, ": no kernel for ", dtype_name(out[0].dtype));
    }
  }

 private:
  template <class E>
  void launch(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const int64_t n = y.numel();
    if (n == 0) return;
    const Access ac = make_access(in[0].shape, y.shape, where_), ax = make_access(in[1].shape, y.shape, where_),
                 ay = make_access(in[2].shape, y.shape, where_);
    where_kernel<E><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<bool>(), in[1].as<E>(), in[2].as<E>(),
                                                                 y.as<E>(), n, ac, ax, ay);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, where_kernel<E>);
  }

  std::string where_;
};

}  // namespace
}  // namespace trtcore::cuda

using trtcore::cuda::BinaryKernel;
using trtcore::cuda::BinOp;
using trtcore::cuda::Fold;
using trtcore::cuda::VariadicKernel;
TRTCORE_CUDA_KERNEL_FACTORY(Add, BinaryKernel<BinOp::kAdd>)
TRTCORE_CUDA_KERNEL_FACTORY(Sub, BinaryKernel<BinOp::kSub>)
TRTCORE_CUDA_KERNEL_FACTORY(Mul, BinaryKernel<BinOp::kMul>)
TRTCORE_CUDA_KERNEL_FACTORY(Div, BinaryKernel<BinOp::kDiv>)
TRTCORE_CUDA_KERNEL_FACTORY(Pow, BinaryKernel<BinOp::kPow>)
TRTCORE_CUDA_KERNEL_FACTORY(Equal, BinaryKernel<BinOp::kEqual>)
TRTCORE_CUDA_KERNEL_FACTORY(Less, BinaryKernel<BinOp::kLess>)
TRTCORE_CUDA_KERNEL_FACTORY(Greater, BinaryKernel<BinOp::kGreater>)
TRTCORE_CUDA_KERNEL_FACTORY(Sum, VariadicKernel<Fold::kSum>)
TRTCORE_CUDA_KERNEL_FACTORY(Mean, VariadicKernel<Fold::kMean>)
TRTCORE_CUDA_KERNEL_FACTORY(Min, VariadicKernel<Fold::kMin>)
TRTCORE_CUDA_KERNEL_FACTORY(Max, VariadicKernel<Fold::kMax>)
TRTCORE_CUDA_KERNEL_FACTORY(Where, trtcore::cuda::WhereKernel)
