// Cast reference and the dtype conversion shared by the elementwise kernels (ONNX Cast semantics: float -> int
// truncates toward zero, any nonzero -> true, bool -> 0/1, float16 through float).
#include <cmath>
#include <limits>

#include "backends/cpu/strided.h"
#include "trtcore/half.h"

namespace trtcore::cpu {
namespace {

struct Half {
  uint16_t bits;
};
// A bool tensor's byte: any nonzero byte is true (a file may hold bytes other than 0 and 1, which C++ bool cannot).
struct Bool {
  uint8_t byte;
};

template <class D, class S>
D convert_one(S v) {
  if constexpr (std::is_same_v<S, Half>) {
    return convert_one<D>(half_to_float(v.bits));
  } else if constexpr (std::is_same_v<S, Bool>) {
    return convert_one<D>(uint8_t(v.byte != 0));
  } else if constexpr (std::is_same_v<D, Half>) {
    return Half{float_to_half(float(v))};
  } else if constexpr (std::is_same_v<D, Bool>) {
    return Bool{uint8_t(v != S(0))};
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    // NaN has no integer value; 0 keeps the result defined. A float outside D's range (undefined to convert
    // directly) goes through int64, saturated there, and wraps into D as integer conversions do.
    if (std::isnan(v)) return D(0);
    if (v >= S(9.2e18)) return D(std::numeric_limits<int64_t>::max());
    if (v <= S(-9.2e18)) return D(std::numeric_limits<int64_t>::min());
    return D(int64_t(v));
  } else {
    return D(v);
  }
}

template <class S, class D>
void convert_loop(const S* s, D* d, int64_t n, int threads) {
  parallel_ranges(threads, n, kTaskElements, n, [&](int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i) d[i] = convert_one<D>(s[i]);
  });
}

template <class F>
void with_type(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: return f(float{});
    case DType::kFloat64: return f(double{});
    case DType::kFloat16: return f(Half{});
    case DType::kInt64: return f(int64_t{});
    case DType::kInt32: return f(int32_t{});
    case DType::kInt8: return f(int8_t{});
    case DType::kUInt8: return f(uint8_t{});
    case DType::kBool: return f(Bool{});
    default: fail(ErrorKind::kUnsupported, "cannot convert elements of type ", dtype_name(t));
  }
}

class CastKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    convert_elements(in[0].data, in[0].dtype, out[0].data, out[0].dtype, in[0].numel(), ctx.threads);
  }
};

}  // namespace

void convert_elements(const void* src, DType src_type, void* dst, DType dst_type, int64_t n, int threads) {
  if (n <= 0) return;
  if (src_type == dst_type) {
    copy_bytes(dst, src, size_t(n) * dtype_size(src_type));
    return;
  }
  with_type(src_type, [&](auto s) {
    using S = decltype(s);
    with_type(dst_type, [&](auto d) {
      using D = decltype(d);
      convert_loop(static_cast<const S*>(src), static_cast<D*>(dst), n, threads);
    });
  });
}

}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Cast, trtcore::cpu::CastKernel)
