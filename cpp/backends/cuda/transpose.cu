// Transpose: a strided copy reading input axis perm[i] for output axis i (any dtype). Also defines the
// strided_copy launcher the other data-movement kernels share.
#include "backends/cuda/elementwise.cuh"

namespace trtcore::cuda {
namespace {

template <class T>
__global__ void strided_copy_kernel(const T* __restrict__ src, StridedIndex index, T* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = src[index.offset(i)];
}

template <class T>
void launch_copy(const void* src, const StridedIndex& index, void* dst, int64_t n, cudaStream_t stream,
                 const std::string& where) {
  strided_copy_kernel<T><<<grid_for(n), kBlockSize, 0, stream>>>(static_cast<const T*>(src), index,
                                                                  static_cast<T*>(dst), n);
  TRTCORE_CUDA_LAUNCH_CHECK(where, strided_copy_kernel<T>);
}

}  // namespace

void strided_copy(const void* src, const StridedIndex& index, void* dst, int64_t n, size_t elem_size,
                  cudaStream_t stream, const std::string& where) {
  if (n <= 0) return;
  const StridedIndex ix = collapse(index);
  // A plain contiguous walk is one device copy.
  if (ix.rank == 0 || (ix.rank == 1 && ix.strides[0] == 1)) {
    TRTCORE_CUDA_CHECK(where, cudaMemcpyAsync(dst, src, size_t(n) * elem_size, cudaMemcpyDeviceToDevice, stream));
    return;
  }
  switch (elem_size) {
    case 1: return launch_copy<uint8_t>(src, ix, dst, n, stream, where);
    case 2: return launch_copy<uint16_t>(src, ix, dst, n, stream, where);
    case 4: return launch_copy<uint32_t>(src, ix, dst, n, stream, where);
    case 8: return launch_copy<uint64_t>(src, ix, dst, n, stream, where);
    default: fail(ErrorKind::kUnsupported, where, ": no strided copy for elements of ", elem_size, " bytes");
  }
}

namespace {

class TransposeKernel : public CudaKernel {
 public:
  std::string check(const Node&, const Graph&) const override { return ""; }  // moves elements: any dtype
  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const size_t rank = g.value(node.inputs[0]).shape.size();
    perm_ = node.attrs.get_ints("perm");
    if (!node.attrs.has("perm"))
      for (size_t i = 0; i < rank; ++i) perm_.push_back(int64_t(rank - 1 - i));
    if (perm_.size() != rank) fail(ErrorKind::kInvalidArgument, where_, ": perm has ", perm_.size(), " entries for rank ", rank);
    if (rank > size_t(kMaxRank))
      fail(ErrorKind::kUnsupported, where_, ": rank ", rank, " exceeds the cuda backend's limit of ", kMaxRank);
  }
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& x = in[0];
    const StridedIndex cs = contiguous_index(x.shape, where_);
    StridedIndex ix;
    ix.rank = int(perm_.size());
    for (int i = 0; i < ix.rank; ++i) {
      ix.dims[i] = out[0].shape[size_t(i)];
      ix.strides[i] = cs.strides[perm_[size_t(i)]];
    }
    strided_copy(x.data, ix, out[0].data, out[0].numel(), dtype_size(x.dtype), ctx.stream, where_);
  }

 private:
  std::string where_;
  std::vector<int64_t> perm_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Transpose, trtcore::cuda::TransposeKernel)
