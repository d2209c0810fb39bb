// Slice: starts/ends/axes/steps are build-time constants, resolved against each run's input shape with the same
// clamping as inference (ops/op_params.h), then one strided copy (any dtype).
#include "backends/cuda/elementwise.cuh"
#include "ops/op_params.h"

namespace trtcore::cuda {
namespace {

class SliceKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if (g.opset < 10) return "";
    const char* names[] = {"starts", "ends", "axes", "steps"};
    for (size_t k = 1; k <= 4; ++k) {
      const std::string r = check_constant_input(node, g, k, names[k - 1]);
      if (!r.empty()) return r;
    }
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    if (g.opset < 10) {
      spec_.starts = node.attrs.get_ints("starts");
      spec_.ends = node.attrs.get_ints("ends");
      spec_.axes = node.attrs.get_ints("axes");
    } else {
      const std::string reason = check(node, g);
      if (!reason.empty()) fail(ErrorKind::kUnsupported, where_, ": ", reason);
      auto ints = [&](size_t k) {
        return node.inputs.size() > k && node.inputs[k] >= 0 ? g.value(node.inputs[k]).constant->as_int64()
                                                             : std::vector<int64_t>{};
      };
      spec_.starts = ints(1);
      spec_.ends = ints(2);
      spec_.axes = ints(3);
      spec_.steps = ints(4);
    }
    const size_t rank = g.value(node.inputs[0]).shape.size();
    if (rank > size_t(kMaxRank))
      fail(ErrorKind::kUnsupported, where_, ": rank ", rank, " exceeds the cuda backend's limit of ", kMaxRank);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& x = in[0];
    const std::vector<SliceAxis> axes = resolve_slice(x.shape, spec_, where_);
    const StridedIndex cs = contiguous_index(x.shape, where_);
    const size_t esize = dtype_size(x.dtype);
    StridedIndex ix;
    ix.rank = int(axes.size());
    int64_t first = 0, n = 1;
    for (int a = 0; a < ix.rank; ++a) {
      ix.dims[a] = axes[size_t(a)].len;
      ix.strides[a] = cs.strides[a] * axes[size_t(a)].step;
      first += axes[size_t(a)].start * cs.strides[a];
      n *= ix.dims[a];
    }
    if (n != out[0].numel())
      fail(ErrorKind::kRuntime, where_, ": slice of ", shape_str(x.shape), " gives ", n,
           " elements but the output is ", shape_str(out[0].shape));
    if (n == 0) return;
    strided_copy(static_cast<const char*>(x.data) + first * int64_t(esize), ix, out[0].data, n, esize, ctx.stream,
                 where_);
  }

 private:
  std::string where_;
  SliceSpec spec_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Slice, trtcore::cuda::SliceKernel)
