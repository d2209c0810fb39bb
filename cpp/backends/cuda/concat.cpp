// Concat: each input is one strided 2-D copy into its slice of the output (any dtype; capturable in CUDA graphs).
// 4-D activations may be stored NHWC (all inputs and the output alike); an input its producer already wrote into
// its slice (concat elimination, see the executable) is skipped.
#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {
namespace {

class ConcatKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }  // moves bytes: every dtype

  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    for (int v : node.inputs)
      if (v >= 0 && g.value(v).shape.size() != 4) return LayoutRule::kNchwOnly;
    return g.value(node.outputs[0]).shape.size() == 4 ? LayoutRule::kAllSameLayout : LayoutRule::kNchwOnly;
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    axis_ = node_axis(node, int64_t(g.value(node.outputs[0]).shape.size()), where_);
    nhwc_ = ctx.out_layout(0) == Layout::kNHWC;
    inputs_ = 0;
    in_place_ = 0;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (node.inputs[k] < 0) continue;
      ++inputs_;
      if (k < ctx.in_place_inputs.size() && ctx.in_place_inputs[k]) ++in_place_;
    }
  }

  // How many inputs their producers write in place (concat elimination); recorded for inspect and profiles.
  std::string tactic() const override {
    return "in-place " + std::to_string(in_place_) + "/" + std::to_string(inputs_) + (nhwc_ ? " nhwc" : "");
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    // NHWC storage: the logical axes N, C, H, W sit at storage positions 0, 3, 1, 2.
    Shape ys = out[0].shape;
    int64_t axis = axis_;
    if (nhwc_) {
      ys = Shape{ys[0], ys[2], ys[3], ys[1]};
      static constexpr int64_t kStorageAxis[4] = {0, 3, 1, 2};
      axis = kStorageAxis[axis_];
    }
    const size_t esize = dtype_size(out[0].dtype);
    const auto [outer, inner] = axis_rows(ys, axis);
    const size_t dst_pitch = size_t(ys[size_t(axis)] * inner) * esize;
    size_t offset = 0;
    for (const TensorView& v : in) {
      if (!v.data) continue;
      const size_t width = size_t(v.shape[size_t(axis_)] * inner) * esize;
      char* dst = static_cast<char*>(out[0].data) + offset;
      if (width && outer && v.data != dst)
        TRTCORE_CUDA_CHECK(where_, cudaMemcpy2DAsync(dst, dst_pitch, v.data, width, width, size_t(outer),
                                                     cudaMemcpyDeviceToDevice, ctx.stream));
      offset += width;
    }
  }

 private:
  std::string where_;
  int64_t axis_ = 0;
  bool nhwc_ = false;
  int inputs_ = 0, in_place_ = 0;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Concat, trtcore::cuda::ConcatKernel)
