// Pad (constant, reflect, edge, wrap): each output coordinate maps to a source coordinate per axis, or to the
// constant. Pads/axes are build-time constants (expanded with ops/op_params.h); the constant value may be computed
// at run time (read on the device). Any dtype.
#include <cstring>

#include "backends/cuda/elementwise.cuh"
#include "ops/op_params.h"

namespace trtcore::cuda {
namespace {

struct PadIndex {
  int rank = 0;
  PadMode mode = PadMode::kConstant;
  int64_t out_dims[kMaxRank] = {};
  int64_t in_dims[kMaxRank] = {};
  int64_t before[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};
};

template <class E>
__global__ void pad_kernel(const E* __restrict__ x, E* __restrict__ y, int64_t n, PadIndex p, E value,
                           const E* value_ptr) {
  if (value_ptr) value = *value_ptr;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, off = 0;
    bool constant = false;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t s = pad_source_index(rem % p.out_dims[d] - p.before[d], p.in_dims[d], p.mode);
      rem /= p.out_dims[d];
      constant = constant || s < 0;
      off += s * p.in_strides[d];
    }
    y[i] = constant ? value : x[off];
  }
}

class PadKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if (g.opset < 11) return "";
    std::string r = check_constant_input(node, g, 1, "pads");
    return r.empty() ? check_constant_input(node, g, 3, "axes") : r;
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    mode_ = pad_mode_from(node.attrs.get_string("mode", "constant"), where_);
    from_attrs_ = g.opset < 11;
    const int64_t rank = int64_t(g.value(node.inputs[0]).shape.size());
    if (rank > kMaxRank)
      fail(ErrorKind::kUnsupported, where_, ": rank ", rank, " exceeds the cuda backend's limit of ", kMaxRank);
    std::vector<int64_t> pads = node.attrs.get_ints("pads"), axes;
    if (!from_attrs_) {
      const std::string reason = check(node, g);
      if (!reason.empty()) fail(ErrorKind::kUnsupported, where_, ": ", reason);
      pads = g.value(node.inputs[1]).constant->as_int64();
      if (node.inputs.size() > 3 && node.inputs[3] >= 0) axes = g.value(node.inputs[3]).constant->as_int64();
    }
    pads_ = expand_pads(pads, axes, rank, where_);
    // The opset < 11 constant is a float attribute, converted to the data's type once here.
    const float v = node.attrs.get_float("value", 0.f);
    switch (g.value(node.inputs[0]).dtype) {
      case DType::kFloat32: std::memcpy(&value_bits_, &v, sizeof v); break;
      case DType::kInt64: { const int64_t i = int64_t(v); std::memcpy(&value_bits_, &i, sizeof i); break; }
      case DType::kInt32: { const int32_t i = int32_t(v); std::memcpy(&value_bits_, &i, sizeof i); break; }
      default:
        if (from_attrs_ && v != 0.f)
          fail(ErrorKind::kUnsupported, where_, ": a nonzero pad value for this dtype is not supported on cuda");
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    switch (dtype_size(in[0].dtype)) {
      case 1: return launch<uint8_t>(in, out[0], ctx);
      case 2: return launch<uint16_t>(in, out[0], ctx);
      case 4: return launch<uint32_t>(in, out[0], ctx);
      case 8: return launch<uint64_t>(in, out[0], ctx);
      default: fail(ErrorKind::kUnsupported, where_, ": no kernel for ", dtype_name(in[0].dtype));
    }
  }

 private:
  template <class E>
  void launch(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const TensorView& x = in[0];
    PadIndex p;
    p.rank = int(x.shape.size());
    p.mode = mode_;
    int64_t stride = 1;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t dim = x.shape[size_t(d)];
      if (y.shape[size_t(d)] != dim + pads_[size_t(d)] + pads_[size_t(d + p.rank)])
        fail(ErrorKind::kRuntime, where_, ": padded shape does not match the output ", shape_str(y.shape));
      if (dim == 0 && mode_ != PadMode::kConstant && y.shape[size_t(d)] > 0)
        fail(ErrorKind::kInvalidArgument, where_, ": cannot pad the empty axis ", d, " in a non-constant mode");
      p.out_dims[d] = y.shape[size_t(d)];
      p.in_dims[d] = dim;
      p.before[d] = pads_[size_t(d)];
      p.in_strides[d] = stride;
      stride *= dim;
    }
    const int64_t n = y.numel();
    if (n == 0) return;
    E value;
    std::memcpy(&value, &value_bits_, sizeof(E));
    const E* value_ptr = !from_attrs_ && in.size() > 2 && in[2].data ? in[2].as<E>() : nullptr;
    pad_kernel<E><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(x.as<E>(), y.as<E>(), n, p, value, value_ptr);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, pad_kernel<E>);
  }

  std::string where_;
  PadMode mode_ = PadMode::kConstant;
  bool from_attrs_ = false;
  std::vector<int64_t> pads_;
  uint64_t value_bits_ = 0;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Pad, trtcore::cuda::PadKernel)
