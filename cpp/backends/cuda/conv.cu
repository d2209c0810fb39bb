// Conv (1-D/2-D/3-D, groups, dilation, fused bias + optional residual + activation) on cuDNN.
// Asymmetric pads are applied explicitly into the workspace first. The algorithm is timed at build
// (cudnnFindConvolutionForwardAlgorithmEx on the real shapes) and stored as the tactic.
#include <algorithm>
#include <map>

#include "backends/cuda/conv_common.h"
#include "backends/cuda/cudnn_util.h"
#include "backends/cuda/device_math.cuh"

namespace trtcore::cuda {
namespace {

template <class T>
__global__ void conv_epilogue_kernel(T* y, const T* bias, const T* z, int64_t n, int64_t channels, int64_t spatial,
                                     DeviceActivation act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float v = load_float(y[i]);
    if (bias) v += load_float(bias[(i / spatial) % channels]);
    if (z) v += load_float(z[i]);
    y[i] = store_as<T>(apply_activation(act, v));
  }
}

class ConvKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    // One element type throughout: float32, or float16 (FP32 accumulation) as the precision stage writes it.
    const DType t = g.value(node.inputs.at(0)).dtype;
    if (t != DType::kFloat32 && t != DType::kFloat16) return std::string("input dtype ") + dtype_name(t);
    for (const std::vector<int>* ids : {&node.inputs, &node.outputs})
      for (int id : *ids)
        if (id >= 0 && g.value(id).dtype != t)
          return "value '" + g.value(id).name + "' is " + dtype_name(g.value(id).dtype) + " but the input is " +
                 dtype_name(t);
    const size_t rank = g.value(node.inputs.at(0)).shape.size();
    if (rank < 3 || rank > 5) return "only 1-D, 2-D and 3-D convolutions are supported";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    act_ = FusedActivation::from(node.attrs);
    const Shape& xs = g.value(node.inputs[0]).shape;
    const Shape& ws = g.value(node.inputs[1]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    geom_ = ConvGeometry::make(node, xs, ws, ys);
    has_bias_ = node.inputs.size() > 2 && node.inputs[2] >= 0;
    has_residual_ = node.inputs.size() > 3 && node.inputs[3] >= 0;
    channels_ = ys[1];
    math_ = ctx.fp32_math;
    half_ = g.value(node.inputs[0]).dtype == DType::kFloat16;
    dt_ = half_ ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    elem_ = half_ ? 2 : 4;

    filter_ = geom_.filter_desc(ws, dt_, where_);
    conv_ = geom_.conv_desc(base_math(), where_);
    {
      Shape bshape(size_t(geom_.cudnn_rank), 1);
      bshape[1] = channels_;
      bias_desc_ = make_tensor_desc(bshape, dt_, where_);
    }
    act_desc_ = ActivationDesc(where_);
    const bool relu = act_.kind == Activation::kRelu;
    TRTCORE_CUDNN_CHECK(where_, cudnnSetActivationDescriptor(act_desc_.get(),
                                                             relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                                             CUDNN_PROPAGATE_NAN, 0.0));
    if (!has_bias_) {
      const std::vector<uint8_t> zeros(size_t(channels_) * elem_, 0);
      zero_bias_ = upload(zeros.data(), zeros.size(), where_);
    }

    const int64_t max_batch = xs[0];
    BatchDescs& d = descs_for(max_batch);
    if (ctx.mode == TacticMode::kReuse && parse_tactic(ctx.tactic)) {
      size_t bytes = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, d.x.get(), filter_.get(), conv_.get(), d.y.get(),
                                                  algo_, &bytes) != CUDNN_STATUS_SUCCESS)
        choose_heuristic(ctx, d);  // the stored algorithm is not valid with this library: pick again
    } else if (ctx.mode == TacticMode::kReuse) {
      choose_heuristic(ctx, d);
    } else {
      tune(node, g, ctx, d);
    }
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), math_type_));
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardWorkspaceSize(ctx.cudnn, d.x.get(), filter_.get(),
                                                                        conv_.get(), d.y.get(), algo_, &conv_ws_));
    d.algo = algo_;
    d.ws = conv_ws_;
    fused_ = !no_fuse_ &&
             (relu || (act_.kind == Activation::kNone && algo_ == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM));
    if (fused_ && ctx.mode == TacticMode::kTune) probe_fused(node, g, ctx, d);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t batch = in[0].shape[0];
    BatchDescs& d = descs_for(batch);
    if (!d.ready) finish_descs(ctx.cudnn, d);
    char* ws = static_cast<char*>(ctx.workspace);
    const void* x = in[0].data;
    if (geom_.explicit_pad) {
      geom_.launch_pad(in[0].data, ws, batch, ctx.stream, where_, elem_);
      x = ws;
      ws += geom_.padded_bytes(batch, elem_);
    }
    const float one = 1.f, zero = 0.f;
    const void* bias = has_bias_ ? in[2].data : zero_bias_.get();
    if (fused_) {
      const void* z = has_residual_ ? in[3].data : out[0].data;
      const float alpha2 = has_residual_ ? 1.f : 0.f;
      TRTCORE_CUDNN_CHECK(where_, cudnnConvolutionBiasActivationForward(
                                      ctx.cudnn, &one, d.x.get(), x, filter_.get(), in[1].data, conv_.get(), d.algo,
                                      ws, d.ws, &alpha2, d.y.get(), z, bias_desc_.get(), bias, act_desc_.get(),
                                      d.y.get(), out[0].data));
      return;
    }
    TRTCORE_CUDNN_CHECK(where_, cudnnConvolutionForward(ctx.cudnn, &one, d.x.get(), x, filter_.get(), in[1].data,
                                                        conv_.get(), d.algo, ws, d.ws, &zero, d.y.get(),
                                                        out[0].data));
    if (!has_bias_ && !has_residual_ && act_.kind == Activation::kNone) return;
    const int64_t n = out[0].numel();
    const int64_t spatial = n / (batch * channels_);
    if (half_) launch_epilogue<__half>(in, out, n, spatial, ctx.stream);
    else launch_epilogue<float>(in, out, n, spatial, ctx.stream);
  }

  size_t workspace_size() const override {
    return (geom_.explicit_pad ? geom_.padded_bytes(geom_.x_shape[0], elem_) : 0) + conv_ws_;
  }
  size_t weights_bytes() const override { return zero_bias_.bytes(); }
  std::string tactic() const override {
    const bool tc = math_type_ == CUDNN_TENSOR_OP_MATH || math_type_ == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    return std::string(fwd_algo_name(algo_)) + (tc ? "+tc" : "") + (no_fuse_ ? "+nofuse" : "");
  }
  std::string precision() const override {
    if (half_) return "fp16";
    return math_ == Fp32Math::kTF32 ? "tf32" : "fp32";
  }

 private:
  struct BatchDescs {
    TensorDesc x, y;
    cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    size_t ws = 0;
    bool ready = false;
  };

  BatchDescs& descs_for(int64_t batch) {
    auto it = descs_.find(batch);
    if (it != descs_.end()) return it->second;
    BatchDescs d;
    d.x = make_tensor_desc(geom_.cudnn_x_shape(batch), dt_, where_);
    d.y = make_tensor_desc(geom_.cudnn_y_shape(batch), dt_, where_);
    return descs_.emplace(batch, std::move(d)).first->second;
  }

  // Another batch size: the tuned algorithm if its workspace still fits, else one that needs none.
  void finish_descs(cudnnHandle_t h, BatchDescs& d) {
    size_t bytes = 0;
    const cudnnStatus_t s =
        cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), filter_.get(), conv_.get(), d.y.get(), algo_, &bytes);
    if (s == CUDNN_STATUS_SUCCESS && bytes <= conv_ws_) {
      d.algo = algo_;
      d.ws = bytes;
    } else {
      // The fused identity form only runs IMPLICIT_PRECOMP_GEMM; every other form can use IMPLICIT_GEMM.
      d.algo = fused_ && act_.kind == Activation::kNone ? CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM
                                                         : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
      TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), filter_.get(), conv_.get(),
                                                                          d.y.get(), d.algo, &d.ws));
      if (d.ws > conv_ws_)
        fail(ErrorKind::kRuntime, where_, ": no convolution algorithm fits the workspace at batch ",
             geom_.x_shape[0]);
    }
    d.ready = true;
  }

  bool parse_tactic(const std::string& t) {
    if (t.empty()) return false;
    std::string name = t;
    math_type_ = base_math();
    no_fuse_ = name.find("+nofuse") != std::string::npos;
    const size_t plus = name.find('+');
    if (plus != std::string::npos) {
      if (name.find("+tc") != std::string::npos && tensor_ops_allowed()) math_type_ = CUDNN_TENSOR_OP_MATH;
      name = name.substr(0, plus);
    }
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a)
      if (name == fwd_algo_name(cudnnConvolutionFwdAlgo_t(a))) {
        algo_ = cudnnConvolutionFwdAlgo_t(a);
        return true;
      }
    return false;
  }

  // Float16 data always may use tensor cores (FP32 accumulation); float32 only when TF32 is allowed.
  bool tensor_ops_allowed() const { return half_ || math_ == Fp32Math::kTF32; }
  cudnnMathType_t base_math() const { return half_ ? CUDNN_TENSOR_OP_MATH : cudnn_math(math_); }
  bool math_allowed(cudnnMathType_t m) const {
    return tensor_ops_allowed() || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
  }

  template <class T>
  void launch_epilogue(const std::vector<TensorView>& in, const std::vector<TensorView>& out, int64_t n,
                       int64_t spatial, cudaStream_t stream) {
    conv_epilogue_kernel<T><<<grid_for(n), kBlockSize, 0, stream>>>(
        out[0].as<T>(), has_bias_ ? in[2].as<T>() : nullptr, has_residual_ ? in[3].as<T>() : nullptr, n, channels_,
        spatial, DeviceActivation::from(act_));
    TRTCORE_CUDA_LAUNCH_CHECK(where_, conv_epilogue_kernel<T>);
  }

  // The fused cuDNN call does not take every algorithm/dtype combination: try it once at build, and fall back to
  // convolution + epilogue kernel (recorded in the tactic) when it is refused.
  void probe_fused(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
    const int64_t max_batch = geom_.x_shape[0];
    DeviceBuffer x(size_t(numel(geom_.cudnn_x_shape(max_batch))) * elem_, where_ + " (probe input)");
    DeviceBuffer y(size_t(numel(geom_.cudnn_y_shape(max_batch))) * elem_, where_ + " (probe output)");
    DeviceBuffer ws(std::max<size_t>(conv_ws_, 1), where_ + " (probe workspace)");
    DeviceBuffer w_tmp;
    const void* w = nullptr;
    if (g.value(node.inputs[1]).constant) {
      w = ctx.device_constant(node.inputs[1]);
    } else {
      w_tmp = DeviceBuffer(size_t(numel(g.value(node.inputs[1]).shape)) * elem_, where_ + " (probe weights)");
      TRTCORE_CUDA_CHECK(where_, cudaMemset(w_tmp.get(), 0, w_tmp.bytes()));
      w = w_tmp.get();
    }
    DeviceBuffer b(size_t(channels_) * elem_, where_ + " (probe bias)");
    TRTCORE_CUDA_CHECK(where_, cudaMemset(b.get(), 0, b.bytes()));
    TRTCORE_CUDA_CHECK(where_, cudaMemset(x.get(), 0, x.bytes()));
    TRTCORE_CUDA_CHECK(where_, cudaMemset(y.get(), 0, y.bytes()));
    const float one = 1.f, alpha2 = has_residual_ ? 1.f : 0.f;
    const cudnnStatus_t s = cudnnConvolutionBiasActivationForward(
        ctx.cudnn, &one, d.x.get(), x.get(), filter_.get(), w, conv_.get(), d.algo, ws.get(), conv_ws_, &alpha2,
        d.y.get(), y.get(), bias_desc_.get(), b.get(), act_desc_.get(), d.y.get(), y.get());
    TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
    if (s != CUDNN_STATUS_SUCCESS) {
      fused_ = false;
      no_fuse_ = true;
    }
  }

  void choose_heuristic(CudaInitContext& ctx, BatchDescs& d) {
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, d.x.get(), filter_.get(),
                                                                       conv_.get(), d.y.get(), int(perf.size()),
                                                                       &returned, perf.data()));
    for (int i = 0; i < returned; ++i)
      if (perf[size_t(i)].status == CUDNN_STATUS_SUCCESS && perf[size_t(i)].memory <= ctx.workspace_limit &&
          math_allowed(perf[size_t(i)].mathType)) {
        algo_ = perf[size_t(i)].algo;
        math_type_ = tensor_ops_allowed() ? perf[size_t(i)].mathType : cudnn_math(math_);
        return;
      }
    algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    math_type_ = base_math();
  }

  void tune(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
    size_t free_bytes = 0, total_bytes = 0;
    TRTCORE_CUDA_CHECK(where_, cudaMemGetInfo(&free_bytes, &total_bytes));
    const size_t limit = std::min(ctx.workspace_limit, free_bytes / 4);
    const int64_t max_batch = geom_.x_shape[0];
    DeviceBuffer x(size_t(numel(geom_.cudnn_x_shape(max_batch))) * elem_, where_ + " (tuning input)");
    DeviceBuffer y(size_t(numel(geom_.cudnn_y_shape(max_batch))) * elem_, where_ + " (tuning output)");
    DeviceBuffer ws(limit, where_ + " (tuning workspace)");
    TRTCORE_CUDA_CHECK(where_, cudaMemset(x.get(), 0, x.bytes()));
    DeviceBuffer w_tmp;
    const void* w = nullptr;
    if (g.value(node.inputs[1]).constant) {
      w = ctx.device_constant(node.inputs[1]);
    } else {
      w_tmp = DeviceBuffer(size_t(numel(g.value(node.inputs[1]).shape)) * elem_, where_ + " (tuning weights)");
      TRTCORE_CUDA_CHECK(where_, cudaMemset(w_tmp.get(), 0, w_tmp.bytes()));
      w = w_tmp.get();
    }
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnFindConvolutionForwardAlgorithmEx(
                                    ctx.cudnn, d.x.get(), x.get(), filter_.get(), w, conv_.get(), d.y.get(), y.get(),
                                    int(perf.size()), &returned, perf.data(), ws.get(), ws.bytes()));
    // Results come sorted by time; the fused identity epilogue needs IMPLICIT_PRECOMP_GEMM, which the timing
    // below does not favour, so the fastest usable algorithm wins and the epilogue kernel covers the rest.
    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionFwdAlgoPerf_t& p = perf[size_t(i)];
      if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= limit && math_allowed(p.mathType)) {
        algo_ = p.algo;
        math_type_ = tensor_ops_allowed() ? p.mathType : cudnn_math(math_);
        return;
      }
    }
    choose_heuristic(ctx, d);
  }

  std::string where_;
  FusedActivation act_;
  ConvGeometry geom_;
  bool has_bias_ = false, has_residual_ = false, fused_ = false, no_fuse_ = false;
  bool half_ = false;  // float16 data, FP32 accumulation on tensor cores
  cudnnDataType_t dt_ = CUDNN_DATA_FLOAT;
  size_t elem_ = 4;
  int64_t channels_ = 0;
  Fp32Math math_ = Fp32Math::kStrict;
  cudnnMathType_t math_type_ = CUDNN_FMA_MATH;
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t conv_ws_ = 0;
  FilterDesc filter_;
  ConvDesc conv_;
  TensorDesc bias_desc_;
  ActivationDesc act_desc_;
  DeviceBuffer zero_bias_;
  std::map<int64_t, BatchDescs> descs_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Conv, trtcore::cuda::ConvKernel)
