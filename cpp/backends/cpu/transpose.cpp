// Transpose reference: a strided copy reading input axis perm[i] for output axis i.
#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

class TransposeKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    has_perm_ = node.attrs.has("perm");
    perm_ = node.attrs.get_ints("perm");
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const size_t rank = x.shape.size();
    const std::vector<int64_t> cs = contiguous_strides(x.shape);
    std::vector<int64_t> st(rank);
    for (size_t i = 0; i < rank; ++i) st[i] = cs[has_perm_ ? size_t(perm_[i]) : rank - 1 - i];
    strided_copy(x.data, out[0].shape, st, out[0].data, dtype_size(x.dtype), ctx.threads);
  }

 private:
  bool has_perm_ = false;
  std::vector<int64_t> perm_;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Transpose, trtcore::cpu::TransposeKernel)
