// Range reference: out[i] = start + i * delta in the inputs' type, for as many elements as the output holds.
#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

template <class T>
void fill_range(const TensorView& start, const TensorView& delta, const TensorView& y) {
  const T s = *start.as<T>(), d = *delta.as<T>();
  T* dst = y.as<T>();
  for (int64_t i = 0; i < y.numel(); ++i) dst[i] = T(s + T(i) * d);
}

class RangeKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext&) override {
    switch (out[0].dtype) {
      case DType::kFloat32: return fill_range<float>(in[0], in[2], out[0]);
      case DType::kFloat64: return fill_range<double>(in[0], in[2], out[0]);
      case DType::kInt64: return fill_range<int64_t>(in[0], in[2], out[0]);
      case DType::kInt32: return fill_range<int32_t>(in[0], in[2], out[0]);
      default: fail(ErrorKind::kUnsupported, "Range: no kernel for ", dtype_name(out[0].dtype));
    }
  }
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Range, trtcore::cpu::RangeKernel)
