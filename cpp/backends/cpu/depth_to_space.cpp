// DepthToSpace reference: output [N, C', H, b, W, b] read from the input viewed as [N, b, b, C', H, W] (DCR) or
// [N, C', b, b, H, W] (CRD) — one strided copy.
#include "backends/cpu/strided.h"

namespace trtcore::cpu {
namespace {

enum class D2SMode { kDCR, kCRD };

class DepthToSpaceKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override {
    b_ = node.attrs.get_int("blocksize", 1);
    mode_ = node.attrs.get_string("mode", "DCR") == "CRD" ? D2SMode::kCRD : D2SMode::kDCR;
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], b = b_;
    const int64_t Cp = C / (b * b);
    const int64_t sn = C * H * W, sh = W, sw = 1;
    int64_t sc, sb1, sb2;
    if (mode_ == D2SMode::kDCR) {
      sb1 = b * Cp * H * W;
      sb2 = Cp * H * W;
      sc = H * W;
    } else {
      sc = b * b * H * W;
      sb1 = b * H * W;
      sb2 = H * W;
    }
    strided_copy(x.data, {N, Cp, H, b, W, b}, {sn, sc, sh, sb1, sw, sb2}, out[0].data, dtype_size(x.dtype),
                 ctx.threads);
  }

 private:
  int64_t b_ = 1;
  D2SMode mode_ = D2SMode::kDCR;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(DepthToSpace, trtcore::cpu::DepthToSpaceKernel)
