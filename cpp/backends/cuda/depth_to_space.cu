// DepthToSpace: output [N, C', H, b, W, b] read from the input viewed as [N, b, b, C', H, W] (DCR) or
// [N, C', b, b, H, W] (CRD) — one strided copy (any dtype).
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

enum class D2SMode { kDCR, kCRD };

class DepthToSpaceKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }
  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    b_ = node.attrs.get_int("blocksize", 1);
    mode_ = node.attrs.get_string("mode", "DCR") == "CRD" ? D2SMode::kCRD : D2SMode::kDCR;
    if (g.value(node.inputs[0]).shape.size() != 4 || b_ < 1)
      fail(ErrorKind::kInvalidArgument, where_, ": expected a rank-4 input and a positive blocksize");
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& x = in[0];
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3], b = b_;
    const int64_t Cp = C / (b * b);
    StridedIndex ix;
    ix.rank = 6;
    const int64_t dims[6] = {N, Cp, H, b, W, b};
    int64_t strides[6] = {C * H * W, H * W, W, b * Cp * H * W, 1, Cp * H * W};  // DCR
    if (mode_ == D2SMode::kCRD) {
      strides[1] = b * b * H * W;
      strides[3] = b * H * W;
      strides[5] = H * W;
    }
    for (int d = 0; d < 6; ++d) {
      ix.dims[d] = dims[d];
      ix.strides[d] = strides[d];
    }
    strided_copy(x.data, ix, out[0].data, out[0].numel(), dtype_size(x.dtype), ctx.stream, where_);
  }

 private:
  std::string where_;
  int64_t b_ = 1;
  D2SMode mode_ = D2SMode::kDCR;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(DepthToSpace, trtcore::cuda::DepthToSpaceKernel)
