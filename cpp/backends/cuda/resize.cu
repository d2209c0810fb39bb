// Resize (opsets 10+) and Upsample: nearest and linear over any axes. Per-axis source tables (input offsets and
// linear weights) are computed once on the host with the cpu reference's arithmetic and uploaded, so the GPU picks
// the same source elements and weights; linear interpolation combines the corners axis by axis in the reference's
// order with unfused multiply/add, so it reproduces the separable reference result.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "ops/resize_params.h"

namespace trtcore::cuda {
namespace {

constexpr int kMaxLinearAxes = 4;  // 16 corners per output element


// Kernel arguments: output extents and, per axis, where its entries start in the uploaded tables.
struct ResizeArgs {
  int rank = 0;
  int64_t out[kMaxRank] = {};
  int64_t base[kMaxRank] = {};  // first entry of the axis in off0/off1 (and w1 for linear axes)
  int slot[kMaxRank] = {};      // linear: the axis' corner bit, or -1 for an axis copied straight through
  const int64_t* off0 = nullptr;  // input offset (elements) of each output coordinate: nearest / lower corner
  const int64_t* off1 = nullptr;  // upper corner (linear)
  const float* w1 = nullptr;      // weight of the upper corner (linear)
};

__global__ void resize_nearest_kernel(const float* x, float* y, int64_t n, ResizeArgs a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, off = 0;
    for (int d = a.rank - 1; d >= 0; --d) {
      off += a.off0[a.base[d] + rem % a.out[d]];
      rem /= a.out[d];
    }
    y[i] = x[off];
  }
}

template <int K>
__global__ void resize_linear_kernel(const float* x, float* y, int64_t n, ResizeArgs a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, base = 0;
    int64_t lo[K], hi[K];
    float w[K];
    for (int d = a.rank - 1; d >= 0; --d) {
      const int64_t e = a.base[d] + rem % a.out[d];
      rem /= a.out[d];
      const int s = a.slot[d];
      if (s < 0) {
        base += a.off0[e];
      } else {
#pragma unroll
        for (int j = 0; j < K; ++j)
          if (j == s) {
            lo[j] = a.off0[e];
            hi[j] = a.off1[e];
            w[j] = a.w1[e];
          }
      }
    }
    float v[1 << K];
#pragma unroll
    for (int c = 0; c < (1 << K); ++c) {
      int64_t off = base;
#pragma unroll
      for (int j = 0; j < K; ++j) off += (c >> j) & 1 ? hi[j] : lo[j];
      v[c] = x[off];
    }
    // Axis slots ascend with the axes: reducing bit 0 first is the reference's axis-by-axis order.
#pragma unroll
    for (int j = 0; j < K; ++j) {
      const float b = w[j], a0 = __fsub_rn(1.f, b);
#pragma unroll
      for (int c = 0; c < (1 << (K - 1 - j)); ++c)
        v[c] = __fadd_rn(__fmul_rn(a0, v[2 * c]), __fmul_rn(b, v[2 * c + 1]));
    }
    y[i] = v[0];
  }
}

class ResizeKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    for (int id : {node.inputs.at(0), node.outputs.at(0)})
      if (g.value(id).dtype != DType::kFloat32)
        return std::string("value '") + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) +
               "; this cuda kernel resizes float32 only";
    if (g.value(node.inputs[0]).shape.size() > size_t(kMaxRank))
      return "rank above " + std::to_string(kMaxRank) + " is not supported";
    try {
      const ResizeParams p = params(node, g);
      const Shape& in = g.value(node.inputs[0]).shape;
      if (p.mode == ResizeMode::kLinear) {
        int k = 0;
        for (size_t a = 0; a < in.size(); ++a) k += linear_identity(p, a, in, p.out) ? 0 : 1;
        if (k > kMaxLinearAxes)
          return "linear interpolation over more than " + std::to_string(kMaxLinearAxes) + " axes";
      }
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    {
      const std::string reason = check(node, g);
      if (!reason.empty()) fail(ErrorKind::kUnsupported, where_, ": ", reason);
    }
    p_ = params(node, g);
    in_ = g.value(node.inputs[0]).shape;
    out_ = g.value(node.outputs[0]).shape;
    if (out_ != p_.out)
      fail(ErrorKind::kInvalidArgument, where_, ": output shape ", shape_str(out_), " is not the resized ",
           shape_str(p_.out));
    const size_t rank = in_.size();
    std::vector<int64_t> off0;
    args_.rank = int(rank);
    int64_t stride = 1;
    std::vector<int64_t> strides(rank);
    for (size_t a = rank; a-- > 0;) {
      strides[a] = stride;
      stride *= in_[a];
    }
    std::vector<float> scale(rank);
    for (size_t a = 0; a < rank; ++a) scale[a] = p_.scales_given ? p_.scales[a] : float(out_[a]) / float(in_[a]);
    linear_axes_ = 0;
    for (size_t a = 0; a < rank; ++a) {
      const int64_t lin = in_[a], lout = out_[a], s = strides[a];
      args_.out[a] = lout;
      args_.slot[a] = -1;
      if (p_.mode == ResizeMode::kLinear) {
        const bool identity = linear_identity(p_, a, in_, out_);
        if (!identity) args_.slot[a] = linear_axes_++;
        if (a == 0) batch_identity_ = identity;
        continue;
      }
      // an unscaled axis maps straight through, whatever the rounding (as the reference does)
      const bool identity = scale[a] == 1.f && lout == lin;
      if (a == 0) batch_identity_ = identity;
      args_.base[a] = int64_t(off0.size());
      for (int64_t o = 0; o < lout; ++o)
        off0.push_back(identity ? o * s
                                : nearest_index(p_.rounding, source_coord(p_.coord, o, scale[a], lin, lout),
                                                scale[a], lin) * s);
    }
    if (p_.mode == ResizeMode::kLinear) build_linear_tables(strides, scale);
    else upload_tables(off0, {}, {});
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& is = in[0].shape;
    if (is.size() != in_.size() || out[0].shape.size() != out_.size())
      fail(ErrorKind::kRuntime, where_, ": run-time rank differs from the built rank");
    for (size_t a = 1; a < is.size(); ++a)
      if (is[a] != in_[a] || out[0].shape[a] != out_[a])
        fail(ErrorKind::kRuntime, where_, ": only the batch axis may change after build (input ", shape_str(is),
             ", built for ", shape_str(in_), ")");
    ResizeArgs a = args_;
    if (!is.empty() && is[0] != in_[0]) {
      if (!batch_identity_ || is[0] > in_[0] || out[0].shape[0] != is[0])
        fail(ErrorKind::kRuntime, where_, ": axis 0 is resized, so the batch cannot change from ", in_[0]);
      a.out[0] = is[0];  // identity tables are valid for any smaller batch
    }
    const int64_t n = out[0].numel();
    if (n == 0) return;
    const float* x = in[0].as<float>();
    float* y = out[0].as<float>();
    if (p_.mode == ResizeMode::kNearest) {
      resize_nearest_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(x, y, n, a);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, resize_nearest_kernel);
      return;
    }
    switch (linear_axes_) {
      case 0:
        TRTCORE_CUDA_CHECK(where_, cudaMemcpyAsync(y, x, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice,
                                                   ctx.stream));
        return;
      case 1: launch<1>(x, y, n, a, ctx.stream); return;
      case 2: launch<2>(x, y, n, a, ctx.stream); return;
      case 3: launch<3>(x, y, n, a, ctx.stream); return;
      case 4: launch<4>(x, y, n, a, ctx.stream); return;
      default: fail(ErrorKind::kUnsupported, where_, ": ", linear_axes_, " interpolated axes");
    }
  }

  size_t weights_bytes() const override { return offsets_.bytes() + weights_.bytes(); }

 private:
  template <int K>
  void launch(const float* x, float* y, int64_t n, const ResizeArgs& a, cudaStream_t stream) const {
    resize_linear_kernel<K><<<grid_for(n), kBlockSize, 0, stream>>>(x, y, n, a);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, resize_linear_kernel<K>);
  }

  static ResizeParams params(const Node& node, const Graph& g) { return resize_params_of(node, g); }

  // The reference interpolates an axis only when some output coordinate does not land on its own index.
  static bool linear_identity(const ResizeParams& p, size_t a, const Shape& in, const Shape& out) {
    if (out[a] != in[a]) return false;
    const float scale = p.scales_given ? p.scales[a] : float(out[a]) / float(in[a]);
    for (int64_t o = 0; o < out[a]; ++o)
      if (source_coord(p.coord, o, scale, in[a], out[a]) != float(o)) return false;
    return true;
  }

  // Linear tables: interpolated axes first (off0/off1/w1 share indices), then the straight-through axes in off0.
  void build_linear_tables(const std::vector<int64_t>& strides, const std::vector<float>& scale) {
    const size_t rank = in_.size();
    std::vector<int64_t> off0, off1;
    std::vector<float> w1;
    for (size_t a = 0; a < rank; ++a) {
      if (args_.slot[a] < 0) continue;
      const int64_t lin = in_[a], lout = out_[a], s = strides[a];
      args_.base[a] = int64_t(off0.size());
      for (int64_t o = 0; o < lout; ++o) {
        float src = source_coord(p_.coord, o, scale[a], lin, lout);
        src = std::min(std::max(src, 0.f), float(lin - 1));
        const int64_t lo = std::min(int64_t(src), lin - 1);
        off0.push_back(lo * s);
        off1.push_back(std::min(lo + 1, lin - 1) * s);
        w1.push_back(src - float(lo));
      }
    }
    for (size_t a = 0; a < rank; ++a) {
      if (args_.slot[a] >= 0) continue;
      args_.base[a] = int64_t(off0.size());
      for (int64_t o = 0; o < out_[a]; ++o) off0.push_back(o * strides[a]);
    }
    upload_tables(off0, off1, w1);
  }

  void upload_tables(const std::vector<int64_t>& off0, const std::vector<int64_t>& off1,
                     const std::vector<float>& w1) {
    std::vector<int64_t> all(off0);
    all.insert(all.end(), off1.begin(), off1.end());
    offsets_ = upload(all.data(), all.size() * sizeof(int64_t), where_ + " (resize tables)");
    args_.off0 = offsets_.as<int64_t>();
    args_.off1 = offsets_.as<int64_t>() + off0.size();
    if (!w1.empty()) {
      weights_ = upload_floats(w1, where_ + " (resize weights)");
      args_.w1 = weights_.as<float>();
    }
  }

  std::string where_;
  ResizeParams p_;
  Shape in_, out_;  // at the maximum batch
  ResizeArgs args_;
  int linear_axes_ = 0;
  bool batch_identity_ = true;  // axis 0 maps straight through, so a smaller batch reuses the tables
  DeviceBuffer offsets_, weights_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Resize, trtcore::cuda::ResizeKernel)
TRTCORE_CUDA_KERNEL_FACTORY(Upsample, trtcore::cuda::ResizeKernel)
