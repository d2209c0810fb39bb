// Constant and ConstantOfShape references: copy the attribute tensor, or fill the output with its one element.
#include <cstring>

#include "backends/cpu/strided.h"
#include "ops/op_params.h"

namespace trtcore::cpu {
namespace {

class ConstantKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override { value_ = constant_attr_value(node); }
  void run(const std::vector<TensorView>&, const std::vector<TensorView>& out, CpuContext&) override {
    copy_bytes(out[0].data, value_.bytes.data(), std::min(value_.bytes.size(), out[0].nbytes()));
  }

 private:
  Tensor value_;
};

class ConstantOfShapeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    if (TensorPtr v = node.attrs.get_tensor("value")) value_ = v->bytes;
  }
  void run(const std::vector<TensorView>&, const std::vector<TensorView>& out, CpuContext&) override {
    const TensorView& y = out[0];
    const size_t esize = dtype_size(y.dtype);
    uint8_t* dst = static_cast<uint8_t*>(y.data);
    if (y.nbytes() == 0) return;  // an empty output has no buffer
    if (value_.empty()) {
      fill_bytes(dst, 0, y.nbytes());  // the default value is float 0
      return;
    }
    for (int64_t i = 0; i < y.numel(); ++i) std::memcpy(dst + size_t(i) * esize, value_.data(), esize);
  }

 private:
  std::vector<uint8_t> value_;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Constant, trtcore::cpu::ConstantKernel)
TRTCORE_CPU_KERNEL_FACTORY(ConstantOfShape, trtcore::cpu::ConstantOfShapeKernel)
