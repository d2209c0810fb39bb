// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout: the same bytes under another shape. The planner lets
// the output alias the input; when it cannot (a graph output, say) this is one device copy.
#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {
namespace {

class ReshapeKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if (node.op == "Dropout" && node.outputs.size() > 1 && node.outputs[1] >= 0 &&
        g.value(node.outputs[1]).dtype != DType::kBool)
      return "Dropout mask output must be bool";
    return "";  // any dtype
  }
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  OutputAlias alias() const override { return OutputAlias::kInput0; }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    if (out[0].data != in[0].data && out[0].nbytes())
      TRTCORE_CUDA_CHECK(where_, cudaMemcpyAsync(out[0].data, in[0].data, out[0].nbytes(), cudaMemcpyDeviceToDevice,
                                                 ctx.stream));
    if (out.size() > 1 && out[1].data && out[1].nbytes())  // Dropout's mask in inference: all true
      TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(out[1].data, 1, out[1].nbytes(), ctx.stream));
  }

 private:
  std::string where_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Reshape, trtcore::cuda::ReshapeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Flatten, trtcore::cuda::ReshapeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Squeeze, trtcore::cuda::ReshapeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Unsqueeze, trtcore::cuda::ReshapeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Identity, trtcore::cuda::ReshapeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Dropout, trtcore::cuda::ReshapeKernel)
