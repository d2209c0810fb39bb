// Gemm (alpha/beta, transposes, bias or broadcast C, fused activation) and MatMul (batched, one side broadcast)
// on cuBLASLt. Bias and ReLU go into the cuBLASLt epilogue where they can; other activations run afterwards.
#include <algorithm>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/lt_gemm.h"

namespace trtcore::cuda {
namespace {

__global__ void broadcast_scale_kernel(const float* c, float* y, int64_t n, StridedIndex ix, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = scale * c[ix.offset(i)];
}

template <class T>
__global__ void activation_kernel(T* y, int64_t n, DeviceActivation act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = store_as<T>(apply_activation(act, load_float(y[i])));
}

// Timing buffers for tuning at the maximum shape (contents irrelevant).
struct TuneBuffers {
  DeviceBuffer a, b, d;
  TuneBuffers(size_t a_elems, size_t b_elems, size_t d_elems, size_t elem, const std::string& where)
      : a(a_elems * elem, where), b(b_elems * elem, where), d(d_elems * elem, where) {
    TRTCORE_CUDA_CHECK(where, cudaMemset(a.get(), 0, a.bytes()));
    TRTCORE_CUDA_CHECK(where, cudaMemset(b.get(), 0, b.bytes()));
  }
};

class GemmKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string r = check_one_float_type(node, g);
    if (!r.empty() || g.value(node.inputs[0]).dtype != DType::kFloat16) return r;
    if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
      const Shape& c = g.value(node.inputs[2]).shape;
      const int64_t n = g.value(node.outputs[0]).shape.back();
      const bool row = (c.size() == 1 && c[0] == n) || (c.size() == 2 && c[0] == 1 && c[1] == n);
      if (!row || node.attrs.get_float("beta", 1.f) != 1.f) return "float16 Gemm takes only a bias row with beta 1";
    }
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    math_ = ctx.fp32_math;
    half_ = g.value(node.inputs[0]).dtype == DType::kFloat16;
    const size_t elem = half_ ? 2 : 4;
    act_ = FusedActivation::from(node.attrs);
    alpha_ = node.attrs.get_float("alpha", 1.f);
    beta_ = node.attrs.get_float("beta", 1.f);
    ta_ = node.attrs.get_int("transA", 0) ? Transpose::kYes : Transpose::kNo;
    tb_ = node.attrs.get_int("transB", 0) ? Transpose::kYes : Transpose::kNo;
    const Shape& as = g.value(node.inputs[0]).shape;
    const Shape& bs = g.value(node.inputs[1]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    if (as.size() != 2 || bs.size() != 2 || ys.size() != 2)
      fail(ErrorKind::kUnsupported, where_, ": Gemm operands must be 2-D");
    k_ = ta_ == Transpose::kYes ? as[0] : as[1];
    n_ = ys[1];
    const bool has_c = node.inputs.size() > 2 && node.inputs[2] >= 0 && beta_ != 0.f;
    c_mode_ = CMode::kNone;
    if (has_c) {
      const Value& c = g.value(node.inputs[2]);
      const bool row = (c.shape.size() == 1 && c.shape[0] == n_) ||
                       (c.shape.size() == 2 && c.shape[0] == 1 && c.shape[1] == n_);
      if (row && (beta_ == 1.f || c.constant)) {
        c_mode_ = CMode::kBias;
        if (beta_ != 1.f) {  // fold beta into a private copy of the constant bias
          std::vector<float> scaled = c.constant->as_float();
          for (float& v : scaled) v *= beta_;
          scaled_bias_ = upload_floats(scaled, where_);
        }
      } else {
        c_mode_ = CMode::kBroadcast;
      }
    }
    const bool relu_in_epilogue = act_.kind == Activation::kRelu && c_mode_ != CMode::kBroadcast;
    GemmEpilogue ep = GemmEpilogue::kNone;
    if (c_mode_ == CMode::kBias) ep = relu_in_epilogue ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias;
    else if (relu_in_epilogue) ep = GemmEpilogue::kRelu;
    post_activation_ = act_.kind != Activation::kNone && !relu_in_epilogue;
    gemm_.configure(where_, ta_, tb_, ep, math_, half_ ? GemmData::kFloat16 : GemmData::kFloat32);

    const GemmShape shape = shape_for(ys[0]);
    if (ctx.mode == TacticMode::kReuse) {
      gemm_.reuse(ctx.cublaslt, shape, ctx.tactic);
      return;
    }
    TuneBuffers t(size_t(numel(as)), size_t(numel(bs)), size_t(numel(ys)), elem, where_ + " (tuning)");
    DeviceBuffer bias(size_t(n_) * elem, where_ + " (tuning)");
    GemmArgs args;
    args.a = t.a.get();
    args.b = g.value(node.inputs[1]).constant ? ctx.device_constant(node.inputs[1]) : t.b.get();
    args.d = t.d.get();
    args.alpha = alpha_;
    args.beta = c_mode_ == CMode::kBroadcast ? 1.f : 0.f;
    args.bias = bias.get();
    TRTCORE_CUDA_CHECK(where_, cudaMemset(t.d.get(), 0, t.d.bytes()));
    TRTCORE_CUDA_CHECK(where_, cudaMemset(bias.get(), 0, bias.bytes()));
    gemm_.tune(ctx.cublaslt, ctx.stream, shape, args);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t m = out[0].shape[0];
    GemmArgs args;
    args.a = in[0].data;
    args.b = in[1].data;
    args.d = out[0].data;
    args.alpha = alpha_;
    if (c_mode_ == CMode::kBias) args.bias = scaled_bias_.get() ? scaled_bias_.get() : in[2].data;
    if (c_mode_ == CMode::kBroadcast) {
      const int64_t n = out[0].numel();
      broadcast_scale_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(
          in[2].as<float>(), out[0].as<float>(), n, broadcast_index(in[2].shape, out[0].shape, where_), beta_);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, broadcast_scale_kernel);
      args.beta = 1.f;
    }
    gemm_.run(ctx.cublaslt, ctx.stream, shape_for(m), args, ctx.workspace, ctx.workspace_bytes);
    if (post_activation_) {
      const int64_t n = out[0].numel();
      if (half_) {
        activation_kernel<__half><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(out[0].as<__half>(), n,
                                                                               DeviceActivation::from(act_));
        TRTCORE_CUDA_LAUNCH_CHECK(where_, activation_kernel<__half>);
      } else {
        activation_kernel<float><<<grid_for(n), kBlockSize, 0, ctx.stream>>>(out[0].as<float>(), n,
                                                                              DeviceActivation::from(act_));
        TRTCORE_CUDA_LAUNCH_CHECK(where_, activation_kernel<float>);
      }
    }
  }

  size_t workspace_size() const override { return LtGemm::kWorkspaceBytes; }
  size_t weights_bytes() const override { return scaled_bias_.bytes(); }
  std::string tactic() const override { return gemm_.tactic(); }
  std::string precision() const override { return half_ ? "fp16" : math_ == Fp32Math::kTF32 ? "tf32" : "fp32"; }

 private:
  enum class CMode { kNone, kBias, kBroadcast };

  GemmShape shape_for(int64_t m) const {
    GemmShape s;
    s.m = m;
    s.n = n_;
    s.k = k_;
    return s;
  }

  std::string where_;
  Fp32Math math_ = Fp32Math::kStrict;
  FusedActivation act_;
  float alpha_ = 1.f, beta_ = 1.f;
  Transpose ta_ = Transpose::kNo, tb_ = Transpose::kNo;
  int64_t n_ = 0, k_ = 0;
  CMode c_mode_ = CMode::kNone;
  bool post_activation_ = false;
  bool half_ = false;
  DeviceBuffer scaled_bias_;
  LtGemm gemm_;
};

// MatMul with numpy semantics. The batch dims of one operand may be all 1 (broadcast with stride 0); a 2-D right
// operand folds the left operand's batch dims into M.
class MatMulKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string r = check_one_float_type(node, g);
    if (!r.empty()) return r;
    const Shape& a = g.value(node.inputs[0]).shape;
    const Shape& b = g.value(node.inputs[1]).shape;
    const Shape& y = g.value(node.outputs[0]).shape;
    try {
      shape_of(a, b, y);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnsupported || a.size() < 2 || b.size() < 2) return e.what();
    }
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    math_ = ctx.fp32_math;
    half_ = g.value(node.inputs[0]).dtype == DType::kFloat16;
    gemm_.configure(where_, Transpose::kNo, Transpose::kNo, GemmEpilogue::kNone, math_,
                    half_ ? GemmData::kFloat16 : GemmData::kFloat32);
    const Shape& as = g.value(node.inputs[0]).shape;
    const Shape& bs = g.value(node.inputs[1]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    GemmShape shape;
    try {
      shape = shape_of(as, bs, ys);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnsupported) throw;
      // Batch broadcast on both sides: one GEMM per output batch item (see run()).
      mixed_ = true;
      shape = GemmShape{};
      shape.m = as[as.size() - 2];
      shape.k = as.back();
      shape.n = bs.back();
    }
    if (ctx.mode == TacticMode::kReuse) {
      gemm_.reuse(ctx.cublaslt, shape, ctx.tactic);
      return;
    }
    TuneBuffers t(size_t(numel(as)), size_t(numel(bs)), size_t(numel(ys)), half_ ? 2 : 4, where_ + " (tuning)");
    GemmArgs args;
    args.a = g.value(node.inputs[0]).constant ? ctx.device_constant(node.inputs[0]) : t.a.get();
    args.b = g.value(node.inputs[1]).constant ? ctx.device_constant(node.inputs[1]) : t.b.get();
    args.d = t.d.get();
    gemm_.tune(ctx.cublaslt, ctx.stream, shape, args);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    if (mixed_) {
      run_per_item(in, out, ctx);
      return;
    }
    GemmArgs args;
    args.a = in[0].data;
    args.b = in[1].data;
    args.d = out[0].data;
    gemm_.run(ctx.cublaslt, ctx.stream, shape_of(in[0].shape, in[1].shape, out[0].shape), args, ctx.workspace,
              ctx.workspace_bytes);
  }

  size_t workspace_size() const override { return LtGemm::kWorkspaceBytes; }
  std::string tactic() const override { return gemm_.tactic(); }
  std::string precision() const override { return half_ ? "fp16" : math_ == Fp32Math::kTF32 ? "tf32" : "fp32"; }

 private:
  static int64_t prod(const Shape& s, size_t from, size_t to) {
    int64_t p = 1;
    for (size_t i = from; i < to; ++i) p *= s[i];
    return p;
  }

  // Throws kUnsupported for batch broadcasts that are not "one side all ones".
  static GemmShape shape_of(Shape a, Shape b, const Shape& y) {
    if (a.empty() || b.empty()) fail(ErrorKind::kUnsupported, "MatMul of a scalar");
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    GemmShape s;
    s.k = a.back();
    s.n = b.back();
    if (b[b.size() - 2] != s.k) fail(ErrorKind::kInvalidArgument, "MatMul inner dimensions differ");
    const int64_t batch_b = prod(b, 0, b.size() - 2);
    if (batch_b == 1) {  // fold A's batch into M
      s.m = prod(a, 0, a.size() - 1);
      s.batch = 1;
      return s;
    }
    s.m = a[a.size() - 2];
    const int64_t batch_a = prod(a, 0, a.size() - 2);
    const int64_t batch_y = y.size() >= 2 ? numel(y) / std::max<int64_t>(1, s.m * s.n) : 1;
    if (!((batch_a == batch_y || batch_a == 1) && batch_b == batch_y))
      fail(ErrorKind::kUnsupported, "MatMul batch broadcast of ", shape_str(a), " with ", shape_str(b),
           " (only one side may broadcast, as a whole)");
    if (batch_a == batch_y && batch_y > 1) {
      // Equal products can still hide mixed broadcasts ([2,1] vs [1,2]): require identical trailing batch dims.
      const size_t ra = a.size() - 2, rb = b.size() - 2;
      for (size_t i = 0; i < std::min(ra, rb); ++i)
        if (a[ra - 1 - i] != b[rb - 1 - i])
          fail(ErrorKind::kUnsupported, "MatMul mixed batch broadcast of ", shape_str(a), " with ", shape_str(b));
    }
    s.batch = batch_y;
    s.stride_a = batch_a == 1 ? 0 : s.m * s.k;
    s.stride_b = s.k * s.n;
    s.stride_d = s.m * s.n;
    return s;
  }

  // Output batch item i reads A and B at their broadcast positions (numpy rules on the leading axes).
  void run_per_item(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) {
    const Shape& a = in[0].shape;
    const Shape& b = in[1].shape;
    const Shape& y = out[0].shape;
    GemmShape one;
    one.m = a[a.size() - 2];
    one.k = a.back();
    one.n = b.back();
    const size_t elem = half_ ? 2 : 4;
    const size_t ry = y.size() - 2;
    const int64_t items = prod(y, 0, ry);
    for (int64_t i = 0; i < items; ++i) {
      int64_t rem = i, off_a = 0, off_b = 0, stride_a = one.m * one.k, stride_b = one.k * one.n;
      for (size_t d = ry; d-- > 0;) {
        const int64_t idx = rem % y[d];
        rem /= y[d];
        const int64_t da = int64_t(d) - int64_t(ry) + int64_t(a.size()) - 2;  // A's axis facing y's axis d
        const int64_t db = int64_t(d) - int64_t(ry) + int64_t(b.size()) - 2;
        if (da >= 0) {
          if (a[size_t(da)] != 1) off_a += idx * stride_a;
          stride_a *= a[size_t(da)];
        }
        if (db >= 0) {
          if (b[size_t(db)] != 1) off_b += idx * stride_b;
          stride_b *= b[size_t(db)];
        }
      }
      GemmArgs args;
      args.a = static_cast<const char*>(in[0].data) + size_t(off_a) * elem;
      args.b = static_cast<const char*>(in[1].data) + size_t(off_b) * elem;
      args.d = static_cast<char*>(out[0].data) + size_t(i * one.m * one.n) * elem;
      gemm_.run(ctx.cublaslt, ctx.stream, one, args, ctx.workspace, ctx.workspace_bytes);
    }
  }

  std::string where_;
  Fp32Math math_ = Fp32Math::kStrict;
  bool half_ = false;
  bool mixed_ = false;  // batch broadcast on both sides
  LtGemm gemm_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Gemm, trtcore::cuda::GemmKernel)
TRTCORE_CUDA_KERNEL_FACTORY(MatMul, trtcore::cuda::MatMulKernel)
