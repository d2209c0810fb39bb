// Concat: each input is one strided 2-D copy into its slice of the output (any dtype; capturable in CUDA graphs).
#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {
namespace {

class ConcatKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }  // moves bytes: every dtype

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    axis_ = node_axis(node, int64_t(g.value(node.outputs[0]).shape.size()), where_);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& ys = out[0].shape;
    const size_t esize = dtype_size(out[0].dtype);
    const auto [outer, inner] = axis_rows(ys, axis_);
    const size_t dst_pitch = size_t(ys[size_t(axis_)] * inner) * esize;
    size_t offset = 0;
    for (const TensorView& v : in) {
      if (!v.data) continue;
      const size_t width = size_t(v.shape[size_t(axis_)] * inner) * esize;
      if (width && outer)
        TRTCORE_CUDA_CHECK(where_, cudaMemcpy2DAsync(static_cast<char*>(out[0].data) + offset, dst_pitch, v.data,
                                                     width, width, size_t(outer), cudaMemcpyDeviceToDevice,
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

TRTCORE_CUDA_KERNEL_FACTORY(Concat, trtcore::cuda::ConcatKernel)
