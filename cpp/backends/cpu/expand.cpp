// Expand and Tile references: both are one strided copy (broadcast strides; Tile reads the input as
// [r0, d0, r1, d1, ...] with zero strides on the repeat axes).
#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

class ExpandKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const TensorView& y = out[0];
    strided_copy(x.data, y.shape, broadcast_strides(x.shape, y.shape), y.data, dtype_size(x.dtype), ctx.threads);
  }
};

class TileKernel : public CpuKernel {
 public:
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const TensorView& y = out[0];
    if (y.numel() == 0) return;
    const std::vector<int64_t> cs = contiguous_strides(x.shape);
    Shape dims;
    std::vector<int64_t> st;
    for (size_t a = 0; a < x.shape.size(); ++a) {
      dims.push_back(y.shape[a] / x.shape[a]);
      st.push_back(0);
      dims.push_back(x.shape[a]);
      st.push_back(cs[a]);
    }
    strided_copy(x.data, dims, st, y.data, dtype_size(x.dtype), ctx.threads);
  }
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Expand, trtcore::cpu::ExpandKernel)
TRTCORE_CPU_KERNEL_FACTORY(Tile, trtcore::cpu::TileKernel)
