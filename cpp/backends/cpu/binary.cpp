// Broadcasting elementwise kernels: Add Sub Mul Div Pow PRelu, variadic Sum Mean Min Max, comparisons
// Equal Less Greater (bool out) and Where. Integer Div truncates toward zero (as onnxruntime and the ONNX reference
// do); float16 is computed in float.
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMin, kMax, kPRelu, kEqual, kLess, kGreater };

constexpr bool is_comparison(BinOp op) { return op == BinOp::kEqual || op == BinOp::kLess || op == BinOp::kGreater; }

template <BinOp Op, class T>
inline auto apply(T a, T b) {
  if constexpr (Op == BinOp::kAdd) {
    return T(a + b);
  } else if constexpr (Op == BinOp::kSub) {
    return T(a - b);
  } else if constexpr (Op == BinOp::kMul) {
    return T(a * b);
  } else if constexpr (Op == BinOp::kDiv) {
    if constexpr (std::is_integral_v<T>) {
      // Division by zero has no integer result and would trap; -1 is special-cased so INT_MIN / -1 wraps.
      if (b == T(0)) return T(0);
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return T(~std::make_unsigned_t<T>(a) + 1u);
      }
      return T(a / b);
    } else {
      return T(a / b);
    }
  } else if constexpr (Op == BinOp::kPow) {
    const double p = std::pow(double(a), double(b));
    if constexpr (std::is_integral_v<T>) {
      // a power outside the integer type goes through int64 (saturated) and wraps, as Cast does; converting it
      // directly is undefined
      if (std::isnan(p)) return T(0);
      if (p >= 9.2e18) return T(std::numeric_limits<int64_t>::max());
      if (p <= -9.2e18) return T(std::numeric_limits<int64_t>::min());
      return T(int64_t(p));
    }
    return T(p);
  } else if constexpr (Op == BinOp::kMin) {
    return (b < a || b != b) ? b : a;  // a NaN in either operand gives NaN, as ONNX's Min/Max
  } else if constexpr (Op == BinOp::kMax) {
    return (b > a || b != b) ? b : a;
  } else if constexpr (Op == BinOp::kPRelu) {
    return a < T(0) ? T(a * b) : a;
  } else if constexpr (Op == BinOp::kEqual) {
    return a == b;
  } else if constexpr (Op == BinOp::kLess) {
    return a < b;
  } else {
    return a > b;
  }
}

// out = f(a, b) with both broadcast to out's shape; out may alias a when a has out's shape.
template <BinOp Op, class T>
void broadcast_binary(const TensorView& a, const TensorView& b, const TensorView& out, int threads) {
  using R = decltype(apply<Op, T>(T(), T()));
  const T* pa = a.as<T>();
  const T* pb = b.as<T>();
  R* po = out.as<R>();
  const int64_t n = out.numel();
  // Same shape and scalar operands: one flat loop, no index bookkeeping. Per-channel ([C,1,1] against NCHW) and
  // squeeze-excite ([N,C,1,1]) operands become contiguous rows against a scalar in the strided loop below.
  const bool a_full = a.shape == out.shape, b_full = b.shape == out.shape;
  if ((a_full || a.numel() == 1) && (b_full || b.numel() == 1)) {
    parallel_ranges(threads, n, kTaskElements, n, [&](int64_t s, int64_t e) {
      if (a_full && b_full) {
        for (int64_t i = s; i < e; ++i) po[i] = apply<Op, T>(pa[i], pb[i]);
      } else if (a_full) {
        const T yv = *pb;
        for (int64_t i = s; i < e; ++i) po[i] = apply<Op, T>(pa[i], yv);
      } else if (b_full) {
        const T xv = *pa;
        for (int64_t i = s; i < e; ++i) po[i] = apply<Op, T>(xv, pb[i]);
      } else {
        const R v = apply<Op, T>(*pa, *pb);
        for (int64_t i = s; i < e; ++i) po[i] = v;
      }
    });
    return;
  }
  StridedLoop loop(out.shape, {broadcast_strides(a.shape, out.shape), broadcast_strides(b.shape, out.shape)});
  loop.for_rows(threads, [&](const int64_t* off, int64_t o, int64_t len, const int64_t* st) {
    const T* x = pa + off[0];
    const T* y = pb + off[1];
    R* z = po + o;
    // The common cases get their own loops so the compiler vectorizes them.
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < len; ++i) z[i] = apply<Op, T>(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < len; ++i) z[i] = apply<Op, T>(x[i], yv);
    } else if (st[0] == 0 && st[1] == 1) {
      const T xv = *x;
      for (int64_t i = 0; i < len; ++i) z[i] = apply<Op, T>(xv, y[i]);
    } else {
      for (int64_t i = 0; i < len; ++i) z[i] = apply<Op, T>(x[i * st[0]], y[i * st[1]]);
    }
  });
}

template <BinOp Op, class F>
void with_numeric_type(DType t, const std::string& who, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(float{});
    case DType::kFloat64: return f(double{});
    case DType::kInt64: return f(int64_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kInt8: return f(int8_t{});
    case DType::kUInt8: return f(uint8_t{});
    case DType::kBool:
      if constexpr (Op == BinOp::kEqual) return f(bool{});
      break;
    default: break;
  }
  fail(ErrorKind::kUnsupported, who, ": the cpu kernel does not take element type ", dtype_name(t));
}


template <BinOp Op>
class BinaryKernel : public ElementwiseKernel {
  void run_views(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int threads) override {
    if constexpr (Op == BinOp::kPow) {
      if (in[0].dtype != in[1].dtype) return mixed_pow(in[0], in[1], out[0], threads);
    }
    with_numeric_type<Op>(in[0].dtype, who_, [&](auto t) {
      broadcast_binary<Op, decltype(t)>(in[0], in[1], out[0], threads);
    });
  }

  // Pow with an exponent of another type: both go through double, the result takes the base's type.
  void mixed_pow(const TensorView& a, const TensorView& b, const TensorView& out, int threads) {
    std::vector<double> da(size_t(a.numel())), db(size_t(b.numel())), dout(size_t(out.numel()));
    convert_elements(a.data, a.dtype, da.data(), DType::kFloat64, a.numel(), threads);
    convert_elements(b.data, b.dtype, db.data(), DType::kFloat64, b.numel(), threads);
    broadcast_binary<BinOp::kPow, double>(TensorView{DType::kFloat64, a.shape, da.data()},
                                          TensorView{DType::kFloat64, b.shape, db.data()},
                                          TensorView{DType::kFloat64, out.shape, dout.data()}, threads);
    convert_elements(dout.data(), DType::kFloat64, out.data, out.dtype, out.numel(), threads);
  }
};

enum class Fold { kSum, kMean, kMin, kMax };

template <Fold F>
class VariadicKernel : public ElementwiseKernel {
  static constexpr BinOp kOp = F == Fold::kMin ? BinOp::kMin : F == Fold::kMax ? BinOp::kMax : BinOp::kAdd;

  void run_views(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int threads) override {
    const TensorView& y = out[0];
    if (in.size() == 1) {
      strided_copy(in[0].data, y.shape, broadcast_strides(in[0].shape, y.shape), y.data, dtype_size(y.dtype), threads);
      return;
    }
    with_numeric_type<kOp>(y.dtype, who_, [&](auto t) {
      using T = decltype(t);
      broadcast_binary<kOp, T>(in[0], in[1], y, threads);
      for (size_t k = 2; k < in.size(); ++k) broadcast_binary<kOp, T>(y, in[k], y, threads);
      if constexpr (F == Fold::kMean) {
        const T count = T(in.size());
        T* p = y.as<T>();
        const int64_t n = y.numel();
        parallel_ranges(threads, n, kTaskElements, n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) p[i] = T(p[i] / count);
        });
      }
    });
  }
};

template <class E>
void where_typed(const TensorView& c, const TensorView& x, const TensorView& y, const TensorView& out, int threads) {
  const uint8_t* pc = c.as<uint8_t>();
  const E* px = x.as<E>();
  const E* py = y.as<E>();
  E* po = out.as<E>();
  StridedLoop loop(out.shape, {broadcast_strides(c.shape, out.shape), broadcast_strides(x.shape, out.shape),
                               broadcast_strides(y.shape, out.shape)});
  loop.for_rows(threads, [&](const int64_t* off, int64_t o, int64_t len, const int64_t* st) {
    for (int64_t i = 0; i < len; ++i)
      po[o + i] = pc[off[0] + i * st[0]] ? px[off[1] + i * st[1]] : py[off[2] + i * st[2]];
  });
}

// Where selects whole elements, so it runs on any dtype by element size.
class WhereKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    switch (dtype_size(out[0].dtype)) {
      case 1: return where_typed<uint8_t>(in[0], in[1], in[2], out[0], ctx.threads);
      case 2: return where_typed<uint16_t>(in[0], in[1], in[2], out[0], ctx.threads);
      case 4: return where_typed<uint32_t>(in[0], in[1], in[2], out[0], ctx.threads);
      case 8: return where_typed<uint64_t>(in[0], in[1], in[2], out[0], ctx.threads);
      default: fail(ErrorKind::kUnsupported, "Where: no kernel for ", dtype_name(out[0].dtype));
    }
  }
};

}  // namespace
}  // namespace trtcore::cpu

using trtcore::cpu::BinaryKernel;
using trtcore::cpu::BinOp;
using trtcore::cpu::Fold;
using trtcore::cpu::VariadicKernel;
TRTCORE_CPU_KERNEL_FACTORY(Add, BinaryKernel<BinOp::kAdd>)
TRTCORE_CPU_KERNEL_FACTORY(Sub, BinaryKernel<BinOp::kSub>)
TRTCORE_CPU_KERNEL_FACTORY(Mul, BinaryKernel<BinOp::kMul>)
TRTCORE_CPU_KERNEL_FACTORY(Div, BinaryKernel<BinOp::kDiv>)
TRTCORE_CPU_KERNEL_FACTORY(Pow, BinaryKernel<BinOp::kPow>)
TRTCORE_CPU_KERNEL_FACTORY(PRelu, BinaryKernel<BinOp::kPRelu>)
TRTCORE_CPU_KERNEL_FACTORY(Equal, BinaryKernel<BinOp::kEqual>)
TRTCORE_CPU_KERNEL_FACTORY(Less, BinaryKernel<BinOp::kLess>)
TRTCORE_CPU_KERNEL_FACTORY(Greater, BinaryKernel<BinOp::kGreater>)
TRTCORE_CPU_KERNEL_FACTORY(Sum, VariadicKernel<Fold::kSum>)
TRTCORE_CPU_KERNEL_FACTORY(Mean, VariadicKernel<Fold::kMean>)
TRTCORE_CPU_KERNEL_FACTORY(Min, VariadicKernel<Fold::kMin>)
TRTCORE_CPU_KERNEL_FACTORY(Max, VariadicKernel<Fold::kMax>)
TRTCORE_CPU_KERNEL_FACTORY(Where, trtcore::cpu::WhereKernel)
