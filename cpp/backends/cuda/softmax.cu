// Softmax / LogSoftmax along one axis (opset >= 13), or over the flattened trailing axes (opset < 13).
#include <algorithm>
#include <cfloat>

#include "backends/cuda/device_math.cuh"

namespace trtcore::cuda {
namespace {

enum class SoftmaxKind { kSoftmax, kLog };

// One block per row of `len` contiguous elements (inner == 1).
template <SoftmaxKind K>
__global__ void softmax_rows_kernel(const float* x, float* y, int64_t len) {
  const float* src = x + int64_t(blockIdx.x) * len;
  float* dst = y + int64_t(blockIdx.x) * len;
  float m = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) m = fmaxf(m, src[i]);
  m = block_reduce<ReduceKind::kMax>(m, -FLT_MAX);
  float s = 0.f;
  for (int64_t i = threadIdx.x; i < len; i += blockDim.x) s += expf(src[i] - m);
  s = block_reduce<ReduceKind::kSum>(s, 0.f);
  if (K == SoftmaxKind::kLog) {
    const float ls = logf(s);
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) dst[i] = src[i] - m - ls;
  } else {
    const float inv = 1.f / s;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) dst[i] = expf(src[i] - m) * inv;
  }
}

// One thread per (outer, inner) column of `len` elements `inner` apart.
template <SoftmaxKind K>
__global__ void softmax_strided_kernel(const float* x, float* y, int64_t outer, int64_t len, int64_t inner) {
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols; c += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (c / inner) * len * inner + c % inner;
    float m = -FLT_MAX;
    for (int64_t i = 0; i < len; ++i) m = fmaxf(m, x[base + i * inner]);
    float s = 0.f;
    for (int64_t i = 0; i < len; ++i) s += expf(x[base + i * inner] - m);
    const float ls = logf(s), inv = 1.f / s;
    for (int64_t i = 0; i < len; ++i) {
      const float v = x[base + i * inner] - m;
      y[base + i * inner] = K == SoftmaxKind::kLog ? v - ls : expf(v) * inv;
    }
  }
}

template <SoftmaxKind K>
class SoftmaxKernel : public CudaKernel {
 public:
  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const int64_t rank = int64_t(g.value(node.inputs[0]).shape.size());
    legacy_ = g.opset < 13;
    axis_ = node.attrs.get_int("axis", legacy_ ? 1 : -1);
    if (axis_ < 0) axis_ += rank;
    if (axis_ < 0 || axis_ >= std::max<int64_t>(rank, 1))
      fail(ErrorKind::kInvalidArgument, where_, ": axis out of range for rank ", rank);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& s = in[0].shape;
    int64_t outer = 1, len = 1, inner = 1;
    for (size_t d = 0; d < s.size(); ++d) {
      if (int64_t(d) < axis_) outer *= s[d];
      else if (int64_t(d) == axis_ || legacy_) len *= s[d];
      else inner *= s[d];
    }
    if (outer * len * inner == 0) return;
    if (inner == 1) {
      if (outer > int64_t(INT32_MAX)) fail(ErrorKind::kUnsupported, where_, ": too many rows");
      softmax_rows_kernel<K><<<unsigned(outer), kBlockSize, 0, ctx.stream>>>(in[0].as<float>(), out[0].as<float>(),
                                                                             len);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, softmax_rows_kernel<K>);
    } else {
      softmax_strided_kernel<K><<<grid_for(outer * inner), kBlockSize, 0, ctx.stream>>>(
          in[0].as<float>(), out[0].as<float>(), outer, len, inner);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, softmax_strided_kernel<K>);
    }
  }

 private:
  std::string where_;
  int64_t axis_ = -1;
  bool legacy_ = false;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Softmax, trtcore::cuda::SoftmaxKernel<trtcore::cuda::SoftmaxKind::kSoftmax>)
TRTCORE_CUDA_KERNEL_FACTORY(LogSoftmax, trtcore::cuda::SoftmaxKernel<trtcore::cuda::SoftmaxKind::kLog>)
