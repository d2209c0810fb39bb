// Elementwise unary kernels (activations and math). float16 is computed in float; float Sigmoid, Tanh and Exp use
// the vectorizable forms of vec_math.h.
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/unary_op.h"
#include "backends/cpu/strided.h"
#include "backends/cpu/vec_math.h"

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

struct UnaryParams {
  double alpha = 0, beta = 0;  // LeakyRelu alpha; HardSigmoid alpha/beta; Clip min/max
};

template <UnaryOp Op, class T>
inline T apply(T x, T lo, T hi, const UnaryParams& p) {
  if constexpr (Op == UnaryOp::kRelu) {
    return x < T(0) ? T(0) : x;  // NaN propagates, as in ONNX's reference
  } else if constexpr (Op == UnaryOp::kLeakyRelu) {
    return x >= T(0) ? x : T(p.alpha) * x;
  } else if constexpr (Op == UnaryOp::kClip) {
    const T y = x < lo ? lo : x;  // min > max gives max, as ONNX specifies
    return y > hi ? hi : y;
  } else if constexpr (Op == UnaryOp::kSigmoid) {
    if constexpr (std::is_same_v<T, float>) return sigmoid_fast(x);
    // Split by sign so exp never overflows.
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
  } else if constexpr (Op == UnaryOp::kHardSigmoid) {
    const T y = T(p.alpha) * x + T(p.beta);  // comparisons, not fmax/fmin: NaN propagates
    return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
  } else if constexpr (Op == UnaryOp::kHardSwish) {
    const T y = x / T(6) + T(0.5);
    return x * (y < T(0) ? T(0) : (y > T(1) ? T(1) : y));
  } else if constexpr (Op == UnaryOp::kTanh) {
    if constexpr (std::is_same_v<T, float>) return tanh_fast(x);
    else return std::tanh(x);
  } else if constexpr (Op == UnaryOp::kExp) {
    if constexpr (std::is_same_v<T, float>) return exp_fast(x);
    else return std::exp(x);
  } else if constexpr (Op == UnaryOp::kLog) {
    return std::log(x);
  } else if constexpr (Op == UnaryOp::kSqrt) {
    return std::sqrt(x);
  } else if constexpr (Op == UnaryOp::kNeg) {
    if constexpr (std::is_integral_v<T>) return T(~std::make_unsigned_t<T>(x) + 1u);  // wraps like two's complement
    else return -x;
  } else if constexpr (Op == UnaryOp::kAbs) {
    if constexpr (std::is_unsigned_v<T>) return x;
    else if constexpr (std::is_integral_v<T>) return x < T(0) ? T(~std::make_unsigned_t<T>(x) + 1u) : x;  // as Neg
    else return x < T(0) ? T(-x) : x;
  } else if constexpr (Op == UnaryOp::kFloor) {
    return std::floor(x);
  } else if constexpr (Op == UnaryOp::kCeil) {
    return std::ceil(x);
  } else if constexpr (Op == UnaryOp::kReciprocal) {
    return T(1) / x;
  } else if constexpr (Op == UnaryOp::kErf) {
    return std::erf(x);
  } else {
    return !x;
  }
}

template <UnaryOp Op, class T>
void map_typed(const TensorView& x, const TensorView& y, T lo, T hi, const UnaryParams& p, int threads) {
  const T* src = x.as<T>();
  T* dst = y.as<T>();
  const int64_t n = x.numel();
  parallel_ranges(threads, n, kTaskElements, n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = apply<Op, T>(src[i], lo, hi, p);
  });
}

template <UnaryOp Op>
class UnaryKernel : public ElementwiseKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    who_ = node.describe();
    if constexpr (Op == UnaryOp::kLeakyRelu) {
      p_.alpha = node.attrs.get_float("alpha", 0.01f);
    } else if constexpr (Op == UnaryOp::kHardSigmoid) {
      p_.alpha = node.attrs.get_float("alpha", 0.2f);
      p_.beta = node.attrs.get_float("beta", 0.5f);
    } else if constexpr (Op == UnaryOp::kClip) {
      clip_attrs_ = g.opset < 11;
      p_.alpha = node.attrs.get_float("min", -std::numeric_limits<float>::infinity());
      p_.beta = node.attrs.get_float("max", std::numeric_limits<float>::infinity());
    }
  }

 private:
  void run_views(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int threads) override {
    const TensorView& x = in[0];
    if constexpr (Op == UnaryOp::kNot) {
      if (x.dtype != DType::kBool) unsupported(x.dtype);
      return map_typed<Op, bool>(x, out[0], false, true, p_, threads);
    } else {
      switch (x.dtype) {
        case DType::kFloat32: return dispatch<float>(in, out[0], threads);
        case DType::kFloat64: return dispatch<double>(in, out[0], threads);
        default: break;
      }
      if constexpr (takes_ints(Op)) {
        switch (x.dtype) {
          case DType::kInt64: return dispatch<int64_t>(in, out[0], threads);
          case DType::kInt32: return dispatch<int32_t>(in, out[0], threads);
          case DType::kInt8: return dispatch<int8_t>(in, out[0], threads);
          case DType::kUInt8: return dispatch<uint8_t>(in, out[0], threads);
          default: break;
        }
      }
      unsupported(x.dtype);
    }
  }

  template <class T>
  void dispatch(const std::vector<TensorView>& in, const TensorView& y, int threads) {
    T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    if constexpr (Op == UnaryOp::kClip) {
      if (clip_attrs_) {
        lo = clamp_to<T>(p_.alpha);
        hi = clamp_to<T>(p_.beta);
      } else {
        if (in.size() > 1 && in[1].data) lo = *in[1].as<T>();
        if (in.size() > 2 && in[2].data) hi = *in[2].as<T>();
      }
    }
    map_typed<Op, T>(in[0], y, lo, hi, p_, threads);
  }

  template <class T>
  static T clamp_to(double v) {
    if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return T(v);
  }

  [[noreturn]] void unsupported(DType t) const {
    fail(ErrorKind::kUnsupported, who_, ": the cpu kernel does not take element type ", dtype_name(t));
  }

  UnaryParams p_;
  bool clip_attrs_ = false;
};

}  // namespace
TRTCORE_CPU_NAMESPACE_END

using trtcore::cpu::UnaryKernel;
using trtcore::UnaryOp;
TRTCORE_CPU_KERNEL_FACTORY(Relu, UnaryKernel<UnaryOp::kRelu>)
TRTCORE_CPU_KERNEL_FACTORY(LeakyRelu, UnaryKernel<UnaryOp::kLeakyRelu>)
TRTCORE_CPU_KERNEL_FACTORY(Clip, UnaryKernel<UnaryOp::kClip>)
TRTCORE_CPU_KERNEL_FACTORY(Sigmoid, UnaryKernel<UnaryOp::kSigmoid>)
TRTCORE_CPU_KERNEL_FACTORY(HardSigmoid, UnaryKernel<UnaryOp::kHardSigmoid>)
TRTCORE_CPU_KERNEL_FACTORY(HardSwish, UnaryKernel<UnaryOp::kHardSwish>)
TRTCORE_CPU_KERNEL_FACTORY(Tanh, UnaryKernel<UnaryOp::kTanh>)
TRTCORE_CPU_KERNEL_FACTORY(Exp, UnaryKernel<UnaryOp::kExp>)
TRTCORE_CPU_KERNEL_FACTORY(Log, UnaryKernel<UnaryOp::kLog>)
TRTCORE_CPU_KERNEL_FACTORY(Sqrt, UnaryKernel<UnaryOp::kSqrt>)
TRTCORE_CPU_KERNEL_FACTORY(Neg, UnaryKernel<UnaryOp::kNeg>)
TRTCORE_CPU_KERNEL_FACTORY(Abs, UnaryKernel<UnaryOp::kAbs>)
TRTCORE_CPU_KERNEL_FACTORY(Floor, UnaryKernel<UnaryOp::kFloor>)
TRTCORE_CPU_KERNEL_FACTORY(Ceil, UnaryKernel<UnaryOp::kCeil>)
TRTCORE_CPU_KERNEL_FACTORY(Reciprocal, UnaryKernel<UnaryOp::kReciprocal>)
TRTCORE_CPU_KERNEL_FACTORY(Erf, UnaryKernel<UnaryOp::kErf>)
TRTCORE_CPU_KERNEL_FACTORY(Not, UnaryKernel<UnaryOp::kNot>)
