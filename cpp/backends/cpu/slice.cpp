// Slice reference: resolves starts/ends/axes/steps against this run's input shape, then one strided copy.
#include "backends/cpu/strided.h"
#include "ops/op_params.h"

namespace trtcore::cpu {
namespace {

class SliceKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    who_ = node.describe();
    from_attrs_ = g.opset < 10;
    if (from_attrs_) {
      attr_spec_.starts = node.attrs.get_ints("starts");
      attr_spec_.ends = node.attrs.get_ints("ends");
      attr_spec_.axes = node.attrs.get_ints("axes");
    }
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    SliceSpec spec = attr_spec_;
    if (!from_attrs_) {
      spec.starts = read_ints(in[1]);
      spec.ends = read_ints(in[2]);
      if (in.size() > 3 && in[3].data) spec.axes = read_ints(in[3]);
      if (in.size() > 4 && in[4].data) spec.steps = read_ints(in[4]);
    }
    const std::vector<SliceAxis> axes = resolve_slice(x.shape, spec, who_);
    const std::vector<int64_t> cs = contiguous_strides(x.shape);
    const size_t esize = dtype_size(x.dtype);
    int64_t first = 0;
    Shape dims(axes.size());
    std::vector<int64_t> st(axes.size());
    for (size_t a = 0; a < axes.size(); ++a) {
      dims[a] = axes[a].len;
      st[a] = cs[a] * axes[a].step;
      first += axes[a].start * cs[a];
    }
    if (numel(dims) != out[0].numel())
      fail(ErrorKind::kRuntime, who_, ": slice of ", shape_str(x.shape), " gives ", shape_str(dims),
           " but the output is ", shape_str(out[0].shape));
    if (numel(dims) == 0) return;
    strided_copy(static_cast<const uint8_t*>(x.data) + first * int64_t(esize), dims, st, out[0].data, esize,
                 ctx.threads);
  }

 private:
  std::string who_;
  bool from_attrs_ = false;
  SliceSpec attr_spec_;
};

}  // namespace
}  // namespace trtcore::cpu

TRTCORE_CPU_KERNEL_FACTORY(Slice, trtcore::cpu::SliceKernel)
