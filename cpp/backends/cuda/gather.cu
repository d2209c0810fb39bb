// Gather: for each outer index and each (possibly negative) index, one block of the inner axes (any data dtype;
// int64 or int32 indices, read on the device). Constant indices are range-checked at build; an index found out of
// range at run time cannot be reported without a sync, so its block is filled with zeros.
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

template <class E, class I>
__global__ void gather_kernel(const E* __restrict__ data, const I* __restrict__ idx, E* __restrict__ y, int64_t n,
                              int64_t num_idx, int64_t dim, int64_t inner) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i % inner, j = (i / inner) % num_idx, o = i / (inner * num_idx);
    int64_t v = int64_t(idx[j]);
    if (v < 0) v += dim;
    y[i] = v >= 0 && v < dim ? data[(o * dim + v) * inner + k] : E(0);
  }
}

class GatherKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    const DType t = g.value(node.inputs[1]).dtype;
    if (t != DType::kInt64 && t != DType::kInt32) return "Gather indices must be int64 or int32 on cuda";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const Shape& s = g.value(node.inputs[0]).shape;
    const int64_t rank = int64_t(s.size());
    axis_ = node.attrs.get_int("axis", 0);
    if (axis_ < 0) axis_ += rank;
    if (axis_ < 0 || axis_ >= rank) fail(ErrorKind::kInvalidArgument, where_, ": axis out of range for rank ", rank);
    const Value& iv = g.value(node.inputs[1]);
    if (iv.constant) {
      const int64_t dim = s[size_t(axis_)];
      for (int64_t i : iv.constant->as_int64())
        if (i < -dim || i >= dim)
          fail(ErrorKind::kInvalidArgument, where_, ": index ", i, " is out of range for axis ", axis_, " of size ", dim);
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const bool i64 = in[1].dtype == DType::kInt64;
    switch (dtype_size(in[0].dtype)) {
      case 1: return i64 ? launch<uint8_t, int64_t>(in, out[0], ctx) : launch<uint8_t, int32_t>(in, out[0], ctx);
      case 2: return i64 ? launch<uint16_t, int64_t>(in, out[0], ctx) : launch<uint16_t, int32_t>(in, out[0], ctx);
      case 4: return i64 ? launch<uint32_t, int64_t>(in, out[0], ctx) : launch<uint32_t, int32_t>(in, out[0], ctx);
      case 8: return i64 ? launch<uint64_t, int64_t>(in, out[0], ctx) : launch<uint64_t, int32_t>(in, out[0], ctx);
      default: fail(ErrorKind::kUnsupported, where_, ": no kernel for ", dtype_name(in[0].dtype));
    }
  }

 private:
  template <class E, class I>
  void launch(const std::vector<TensorView>& in, const TensorView& y, CudaRunContext& ctx) {
    const Shape& s = in[0].shape;
    int64_t inner = 1;
    for (size_t a = size_t(axis_) + 1; a < s.size(); ++a) inner *= s[a];
    const int64_t n = y.numel(), num_idx = in[1].numel();
    if (n == 0) return;
    gather_kernel<E, I><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<E>(), in[1].as<I>(), y.as<E>(), n,
                                                                     num_idx, s[size_t(axis_)], inner);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (gather_kernel<E, I>));
  }

  std::string where_;
  int64_t axis_ = 0;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Gather, trtcore::cuda::GatherKernel)
