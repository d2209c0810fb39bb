// BatchNormalization (inference form, folded to a per-channel scale and shift at init) and LRN across channels.
#include <cmath>

#include "backends/cuda/device_math.cuh"

namespace trtcore::cuda {
namespace {

__global__ void channel_affine_kernel(const float* x, float* y, const float* scale, const float* shift, int64_t n,
                                      int64_t channels, int64_t spatial) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / spatial) % channels;
    y[i] = x[i] * scale[c] + shift[c];
  }
}

class BatchNormKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string r = CudaKernel::check(node, g);
    if (!r.empty()) return r;
    for (size_t i = 1; i < 5; ++i)
      if (i >= node.inputs.size() || node.inputs[i] < 0 || !g.value(node.inputs[i]).constant)
        return "scale, B, mean and var must be constants";
    if (node.outputs.size() > 1)
      for (size_t i = 1; i < node.outputs.size(); ++i)
        if (node.outputs[i] >= 0) return "training-mode outputs are not supported";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    const float eps = node.attrs.get_float("epsilon", 1e-5f);
    const std::vector<float> scale = g.value(node.inputs[1]).constant->as_float();
    const std::vector<float> bias = g.value(node.inputs[2]).constant->as_float();
    const std::vector<float> mean = g.value(node.inputs[3]).constant->as_float();
    const std::vector<float> var = g.value(node.inputs[4]).constant->as_float();
    channels_ = int64_t(scale.size());
    if (bias.size() != scale.size() || mean.size() != scale.size() || var.size() != scale.size())
      fail(ErrorKind::kInvalidArgument, where_, ": scale/B/mean/var lengths differ");
    std::vector<float> a(scale.size()), b(scale.size());
    for (size_t c = 0; c < scale.size(); ++c) {
      a[c] = scale[c] / std::sqrt(var[c] + eps);
      b[c] = bias[c] - mean[c] * a[c];
    }
    scale_ = upload_floats(a, where_);
    shift_ = upload_floats(b, where_);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t n = in[0].numel();
    if (n == 0) return;
    const int64_t batch = in[0].shape.empty() ? 1 : in[0].shape[0];
    const int64_t spatial = n / std::max<int64_t>(1, batch * channels_);
    channel_affine_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(
        in[0].as<float>(), out[0].as<float>(), scale_.as<float>(), shift_.as<float>(), n, channels_, spatial);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, channel_affine_kernel);
  }

  size_t weights_bytes() const override { return scale_.bytes() + shift_.bytes(); }

 private:
  std::string where_;
  int64_t channels_ = 0;
  DeviceBuffer scale_, shift_;
};

// y = x / (bias + alpha / size * sum of squares over nearby channels) ^ beta
__global__ void lrn_kernel(const float* x, float* y, int64_t n, int64_t channels, int64_t spatial, int64_t lo,
                           int64_t hi, float alpha_over_size, float beta, float bias) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = (i / spatial) % channels;
    const int64_t base = i - c * spatial;
    float s = 0.f;
    const int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= channels ? channels - 1 : c + hi;
    for (int64_t k = c0; k <= c1; ++k) {
      const float v = x[base + k * spatial];
      s += v * v;
    }
    y[i] = x[i] / powf(bias + alpha_over_size * s, beta);
  }
}

class LrnKernel : public CudaKernel {
 public:
  void init(const Node& node, const Graph&, CudaInitContext&) override {
    where_ = node.describe();
    alpha_ = node.attrs.get_float("alpha", 1e-4f);
    beta_ = node.attrs.get_float("beta", 0.75f);
    bias_ = node.attrs.get_float("bias", 1.f);
    size_ = node.attrs.get_int("size", 0);
    if (size_ < 1) fail(ErrorKind::kInvalidArgument, where_, ": attribute 'size' must be >= 1");
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& s = in[0].shape;
    const int64_t n = in[0].numel();
    if (n == 0) return;
    if (s.size() < 2) fail(ErrorKind::kInvalidArgument, where_, ": input rank ", s.size(), " (expected >= 2)");
    const int64_t channels = s[1], spatial = n / (s[0] * channels);
    const int64_t lo = (size_ - 1) / 2, hi = size_ - 1 - lo;
    lrn_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(in[0].as<float>(), out[0].as<float>(), n, channels,
                                                           spatial, lo, hi, alpha_ / float(size_), beta_, bias_);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, lrn_kernel);
  }

 private:
  std::string where_;
  float alpha_ = 1e-4f, beta_ = 0.75f, bias_ = 1.f;
  int64_t size_ = 1;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(BatchNormalization, trtcore::cuda::BatchNormKernel)
TRTCORE_CUDA_KERNEL_FACTORY(LRN, trtcore::cuda::LrnKernel)
