// ReduceMean / ReduceSum / ReduceMax over any set of axes (attribute, or the constant second input of newer
// opsets). Large reductions use a block per output, small ones a thread per output.
#include <algorithm>
#include <cfloat>

#include "backends/cuda/device_math.cuh"

namespace trtcore::cuda {
namespace {

enum class ReduceOp { kSum, kMean, kMax };

// kept: output index (over the kept axes) -> input offset; reduced: reduced index -> input offset.
template <ReduceOp Op>
__global__ void reduce_block_kernel(const float* x, float* y, StridedIndex kept, StridedIndex reduced, int64_t r) {
  constexpr ReduceKind K = Op == ReduceOp::kMax ? ReduceKind::kMax : ReduceKind::kSum;
  const float identity = Op == ReduceOp::kMax ? -FLT_MAX : 0.f;
  const float* src = x + kept.offset(blockIdx.x);
  float acc = identity;
  for (int64_t i = threadIdx.x; i < r; i += blockDim.x) acc = reduce_combine<K>(acc, src[reduced.offset(i)]);
  acc = block_reduce<K>(acc, identity);
  if (threadIdx.x == 0) y[blockIdx.x] = Op == ReduceOp::kMean ? acc / float(r) : acc;
}

template <ReduceOp Op>
__global__ void reduce_thread_kernel(const float* x, float* y, StridedIndex kept, StridedIndex reduced, int64_t n,
                                     int64_t r) {
  constexpr ReduceKind K = Op == ReduceOp::kMax ? ReduceKind::kMax : ReduceKind::kSum;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < n; o += int64_t(gridDim.x) * blockDim.x) {
    const float* src = x + kept.offset(o);
    float acc = Op == ReduceOp::kMax ? -FLT_MAX : 0.f;
    for (int64_t i = 0; i < r; ++i) acc = reduce_combine<K>(acc, src[reduced.offset(i)]);
    y[o] = Op == ReduceOp::kMean ? acc / float(r) : acc;
  }
}

template <ReduceOp Op>
class ReduceKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    for (int id : {node.inputs.at(0), node.outputs.at(0)})
      if (g.value(id).dtype != DType::kFloat32) return "this cuda kernel runs float32 only";
    if (node.inputs.size() > 1 && node.inputs[1] >= 0 && !g.value(node.inputs[1]).constant)
      return "axes must be a constant";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const int64_t rank = int64_t(g.value(node.inputs[0]).shape.size());
    std::vector<int64_t> axes = node.attrs.get_ints("axes");
    if (node.inputs.size() > 1 && node.inputs[1] >= 0) axes = g.value(node.inputs[1]).constant->as_int64();
    const bool noop = node.attrs.get_int("noop_with_empty_axes", 0) != 0;
    reduce_axis_.assign(size_t(rank), false);
    if (axes.empty() && !noop) reduce_axis_.assign(size_t(rank), true);
    for (int64_t a : axes) {
      const int64_t ax = a < 0 ? a + rank : a;
      if (ax < 0 || ax >= rank) fail(ErrorKind::kInvalidArgument, where_, ": axis ", a, " out of range");
      reduce_axis_[size_t(ax)] = true;
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& s = in[0].shape;
    if (s.size() > size_t(kMaxRank)) fail(ErrorKind::kUnsupported, where_, ": rank above ", kMaxRank);
    // Input strides split into the kept axes (walked by the output index) and the reduced axes.
    StridedIndex kept, reduced;
    std::vector<int64_t> stride(s.size(), 1);
    for (size_t d = s.size(); d-- > 1;) stride[d - 1] = stride[d] * s[d];
    int64_t n = 1, r = 1;
    for (size_t d = 0; d < s.size(); ++d) {
      StridedIndex& ix = reduce_axis_[d] ? reduced : kept;
      ix.dims[ix.rank] = s[d];
      ix.strides[ix.rank] = stride[d];
      ++ix.rank;
      (reduce_axis_[d] ? r : n) *= s[d];
    }
    if (kept.rank == 0) {
      kept.rank = 1;
      kept.dims[0] = 1;
      kept.strides[0] = 0;
    }
    if (reduced.rank == 0) {
      reduced.rank = 1;
      reduced.dims[0] = 1;
      reduced.strides[0] = 0;
    }
    if (n == 0) return;
    if (r >= 1024 && n <= int64_t(INT32_MAX)) {
      reduce_block_kernel<Op><<<unsigned(n), kBlockSize, 0, ctx.stream>>>(in[0].as<float>(), out[0].as<float>(),
                                                                          kept, reduced, r);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, reduce_block_kernel<Op>);
    } else {
      reduce_thread_kernel<Op><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<float>(), out[0].as<float>(),
                                                                           kept, reduced, n, r);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, reduce_thread_kernel<Op>);
    }
  }

 private:
  std::string where_;
  std::vector<bool> reduce_axis_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(ReduceSum, trtcore::cuda::ReduceKernel<trtcore::cuda::ReduceOp::kSum>)
TRTCORE_CUDA_KERNEL_FACTORY(ReduceMean, trtcore::cuda::ReduceKernel<trtcore::cuda::ReduceOp::kMean>)
TRTCORE_CUDA_KERNEL_FACTORY(ReduceMax, trtcore::cuda::ReduceKernel<trtcore::cuda::ReduceOp::kMax>)
