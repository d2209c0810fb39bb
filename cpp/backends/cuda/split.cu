// Split: each present output is one strided 2-D copy out of its slice of the input (any dtype). Output extents
// along the axis come from the output views (the split the graph inferred).
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

class SplitKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph&) const override {
    // An absent output would leave the next one's offset unknown.
    for (size_t k = 0; k + 1 < node.outputs.size(); ++k)
      if (node.outputs[k] < 0 && node.outputs[k + 1] >= 0) return "only trailing outputs of Split may be absent";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const std::string reason = check(node, g);
    if (!reason.empty()) fail(ErrorKind::kUnsupported, where_, ": ", reason);
    axis_ = node_axis(node, int64_t(g.value(node.inputs[0]).shape.size()), where_);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& xs = in[0].shape;
    const size_t esize = dtype_size(in[0].dtype);
    const auto [outer, inner] = axis_rows(xs, axis_);
    const size_t src_pitch = size_t(xs[size_t(axis_)] * inner) * esize;
    size_t offset = 0;
    for (const TensorView& y : out) {
      if (!y.data) break;
      const size_t width = size_t(y.shape[size_t(axis_)] * inner) * esize;
      if (width && outer)
        TRTCORE_CUDA_CHECK(where_, cudaMemcpy2DAsync(y.data, width, static_cast<const char*>(in[0].data) + offset,
                                                     src_pitch, width, size_t(outer), cudaMemcpyDeviceToDevice,
                                                     ctx.stream));
      offset += width;
    }
  }

 private:
  std::string where_;
  int64_t axis_ = 0;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Split, trtcore::cuda::SplitKernel)
