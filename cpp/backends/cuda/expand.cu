// Expand (a broadcast copy) and Tile (each output coordinate read modulo the input's extent): any dtype.
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

class ExpandKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }  // moves elements: any dtype
  void init(const Node& node, const Graph&, CudaInitContext&) override { where_ = node.describe(); }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& y = out[0];
    strided_copy(in[0].data, broadcast_index(in[0].shape, y.shape, where_), y.data, y.numel(), dtype_size(y.dtype),
                 ctx.stream, where_);
  }

 private:
  std::string where_;
};

struct TileIndex {
  int rank = 0;
  int64_t out_dims[kMaxRank] = {};
  int64_t in_dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};
};

template <class E>
__global__ void tile_kernel(const E* __restrict__ x, E* __restrict__ y, int64_t n, TileIndex t) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, off = 0;
    for (int d = t.rank - 1; d >= 0; --d) {
      off += (rem % t.out_dims[d]) % t.in_dims[d] * t.in_strides[d];
      rem /= t.out_dims[d];
    }
    y[i] = x[off];
  }
}

class TileKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }
  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const size_t rank = g.value(node.inputs[0]).shape.size();
    if (rank > size_t(kMaxRank))
      fail(ErrorKind::kUnsupported, where_, ": rank ", rank, " exceeds the cuda backend's limit of ", kMaxRank);
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    switch (dtype_size(out[0].dtype)) {
      case 1: return launch<uint8_t>(in[0], out[0], ctx);
      case 2: return launch<uint16_t>(in[0], out[0], ctx);
      case 4: return launch<uint32_t>(in[0], out[0], ctx);
      case 8: return launch<uint64_t>(in[0], out[0], ctx);
      default: fail(ErrorKind::kUnsupported, where_, ": no kernel for ", dtype_name(out[0].dtype));
    }
  }

 private:
  template <class E>
  void launch(const TensorView& x, const TensorView& y, CudaRunContext& ctx) {
    const int64_t n = y.numel();
    if (n == 0) return;
    TileIndex t;
    t.rank = int(x.shape.size());
    int64_t stride = 1;
    for (int d = t.rank - 1; d >= 0; --d) {
      t.out_dims[d] = y.shape[size_t(d)];
      t.in_dims[d] = x.shape[size_t(d)];
      t.in_strides[d] = stride;
      stride *= x.shape[size_t(d)];
    }
    tile_kernel<E><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(x.as<E>(), y.as<E>(), n, t);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, tile_kernel<E>);
  }

  std::string where_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Expand, trtcore::cuda::ExpandKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Tile, trtcore::cuda::TileKernel)
