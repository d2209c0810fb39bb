// ConvTranspose (1-D/2-D/3-D, groups, strides, dilations, output_padding/output_shape/auto_pad, bias, fused
// activation) as cuDNN's backward-data convolution. cuDNN only knows symmetric pads and at most stride-1 extra
// output rows, so other geometries compute the unpadded ("full") result into the workspace and a crop kernel
// cuts the node's window out of it; the same pass adds the bias and applies the activation.
#include <algorithm>
#include <map>

#include "backends/cuda/conv_common.h"
#include "backends/cuda/cudnn_util.h"
#include "backends/cuda/device_math.cuh"
#include "ops/window.h"

namespace trtcore::cuda {
namespace {

// Output element i of [N, M, out...] reads full[..., o + begin] (zero where that falls past the full extent).
struct CropArgs {
  int spatial = 0;
  int64_t out[kMaxSpatial] = {};
  int64_t full[kMaxSpatial] = {};
  int64_t begin[kMaxSpatial] = {};
};

__global__ void crop_epilogue_kernel(const float* full, float* y, int64_t n, int64_t channels, const float* bias,
                                     DeviceActivation act, CropArgs a) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, src = 0, stride = 1;
    bool inside = true;
    for (int d = a.spatial - 1; d >= 0; --d) {
      const int64_t s = rem % a.out[d] + a.begin[d];
      rem /= a.out[d];
      if (s >= a.full[d]) inside = false;
      src += s * stride;
      stride *= a.full[d];
    }
    src += rem * stride;  // rem is now n * channels + m
    float v = inside ? full[src] : 0.f;
    if (bias) v += bias[rem % channels];
    y[i] = apply_activation(act, v);
  }
}

__global__ void bias_act_kernel(float* y, const float* bias, int64_t n, int64_t channels, int64_t spatial,
                                DeviceActivation act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float v = y[i];
    if (bias) v += bias[(i / spatial) % channels];
    y[i] = apply_activation(act, v);
  }
}

class ConvTransposeKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string r = CudaKernel::check(node, g);
    if (!r.empty()) return r;
    const size_t rank = g.value(node.inputs.at(0)).shape.size();
    if (rank < 3 || rank > 5) return "only 1-D, 2-D and 3-D transposed convolutions are supported";
    return "";
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    {
      const std::string reason = check(node, g);
      if (!reason.empty()) fail(ErrorKind::kUnsupported, where_, ": ", reason);
    }
    act_ = FusedActivation::from(node.attrs);
    math_ = ctx.fp32_math;
    const Shape& xs = g.value(node.inputs[0]).shape;
    const Shape& ws = g.value(node.inputs[1]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    has_bias_ = node.inputs.size() > 2 && node.inputs[2] >= 0;
    channels_ = ys[1];
    const Window win = resolve_transpose_window(node, spatial_of(ws), spatial_of(xs));
    if (win.out != spatial_of(ys))
      fail(ErrorKind::kInvalidArgument, where_, ": output shape ", shape_str(ys),
           " does not match the transposed window of input ", shape_str(xs));

    // The forward convolution whose input gradient this is: its input is our output, its output our input.
    const int spatial = int(win.rank());
    geom_.spatial = spatial;
    geom_.cudnn_rank = spatial == 3 ? 5 : 4;
    geom_.group = node.attrs.get_int("group", 1);
    geom_.y_shape = xs;
    direct_ = true;
    for (int i = 0; i < spatial; ++i) {
      const size_t k = size_t(i);
      const int64_t dk = (win.kernel[k] - 1) * win.dilation[k] + 1;
      const int64_t unpadded = win.stride[k] * (win.in[k] - 1) + dk;
      const int64_t extra = win.out[k] - (unpadded - win.pad_begin[k] - win.pad_end[k]);
      if (win.pad_begin[k] != win.pad_end[k] || extra < 0 || extra >= win.stride[k]) direct_ = false;
      geom_.kernel[i] = int(win.kernel[k]);
      geom_.stride[i] = int(win.stride[k]);
      geom_.dilation[i] = int(win.dilation[k]);
      crop_.out[i] = win.out[k];
      crop_.full[i] = unpadded;
      crop_.begin[i] = win.pad_begin[k];
    }
    crop_.spatial = spatial;
    geom_.x_shape = ys;
    for (int i = 0; i < spatial; ++i) {
      geom_.pad_begin[i] = geom_.pad_end[i] = direct_ ? int(win.pad_begin[size_t(i)]) : 0;
      if (!direct_) geom_.x_shape[size_t(2 + i)] = crop_.full[i];
    }

    filter_ = geom_.filter_desc(ws, CUDNN_DATA_FLOAT, where_);
    conv_ = geom_.conv_desc(cudnn_math(math_), where_);

    const int64_t max_batch = xs[0];
    BatchDescs& d = descs_for(max_batch);
    if (ctx.mode == TacticMode::kReuse && parse_tactic(ctx.tactic)) {
      size_t bytes = 0;
      if (cudnnGetConvolutionBackwardDataWorkspaceSize(ctx.cudnn, filter_.get(), d.dy.get(), conv_.get(), d.dx.get(),
                                                       algo_, &bytes) != CUDNN_STATUS_SUCCESS)
        choose_heuristic(ctx, d);  // the stored algorithm is not valid with this library: pick again
    } else if (ctx.mode == TacticMode::kReuse) {
      choose_heuristic(ctx, d);
    } else {
      tune(node, g, ctx, d);
    }
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), math_type_));
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionBackwardDataWorkspaceSize(
                                    ctx.cudnn, filter_.get(), d.dy.get(), conv_.get(), d.dx.get(), algo_, &conv_ws_));
    d.algo = algo_;
    d.ws = conv_ws_;
    d.ready = true;
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t batch = in[0].shape[0];
    BatchDescs& d = descs_for(batch);
    if (!d.ready) finish_descs(ctx.cudnn, d);
    char* ws = static_cast<char*>(ctx.workspace);
    float* dx = direct_ ? out[0].as<float>() : reinterpret_cast<float*>(ws);
    char* conv_ws = ws + full_bytes(geom_.y_shape[0]);
    const float one = 1.f, zero = 0.f;
    TRTCORE_CUDNN_CHECK(where_, cudnnConvolutionBackwardData(ctx.cudnn, &one, filter_.get(), in[1].data, d.dy.get(),
                                                             in[0].data, conv_.get(), d.algo, conv_ws, d.ws, &zero,
                                                             d.dx.get(), dx));
    const float* bias = has_bias_ ? in[2].as<float>() : nullptr;
    const int64_t n = out[0].numel();
    if (!direct_) {
      crop_epilogue_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(dx, out[0].as<float>(), n, channels_, bias,
                                                                         DeviceActivation::from(act_), crop_);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, crop_epilogue_kernel);
      return;
    }
    if (!has_bias_ && act_.kind == Activation::kNone) return;
    const int64_t spatial = n / (batch * channels_);
    bias_act_kernel<<<grid_for(n), kBlockSize, 0, ctx.stream>>>(out[0].as<float>(), bias, n, channels_, spatial,
                                                                DeviceActivation::from(act_));
    TRTCORE_CUDA_LAUNCH_CHECK(where_, bias_act_kernel);
  }

  size_t workspace_size() const override { return full_bytes(geom_.y_shape[0]) + conv_ws_; }
  std::string tactic() const override {
    const bool tc = math_type_ == CUDNN_TENSOR_OP_MATH || math_type_ == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    return std::string(bwd_data_algo_name(algo_)) + (tc ? "+tc" : "");
  }
  std::string precision() const override { return math_ == Fp32Math::kTF32 ? "tf32" : "fp32"; }

 private:
  struct BatchDescs {
    TensorDesc dx, dy;  // dx: our output (or the full buffer), dy: our input
    cudnnConvolutionBwdDataAlgo_t algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    size_t ws = 0;
    bool ready = false;
  };

  // Bytes of the unpadded result at `batch` (0 when cuDNN writes the output directly), 256-aligned.
  size_t full_bytes(int64_t batch) const {
    if (direct_) return 0;
    const size_t b = size_t(numel(geom_.cudnn_x_shape(batch))) * sizeof(float);
    return (b + 255) / 256 * 256;
  }

  BatchDescs& descs_for(int64_t batch) {
    auto it = descs_.find(batch);
    if (it != descs_.end()) return it->second;
    BatchDescs d;
    d.dx = make_tensor_desc(geom_.cudnn_x_shape(batch), CUDNN_DATA_FLOAT, where_);
    d.dy = make_tensor_desc(geom_.cudnn_y_shape(batch), CUDNN_DATA_FLOAT, where_);
    return descs_.emplace(batch, std::move(d)).first->second;
  }

  // Another batch size: the tuned algorithm if its workspace still fits, else the first fallback that does.
  void finish_descs(cudnnHandle_t h, BatchDescs& d) {
    for (cudnnConvolutionBwdDataAlgo_t a :
         {algo_, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0}) {
      size_t bytes = 0;
      if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, filter_.get(), d.dy.get(), conv_.get(), d.dx.get(), a,
                                                       &bytes) == CUDNN_STATUS_SUCCESS &&
          bytes <= conv_ws_) {
        d.algo = a;
        d.ws = bytes;
        d.ready = true;
        return;
      }
    }
    fail(ErrorKind::kRuntime, where_, ": no backward-data algorithm fits the workspace sized at batch ",
         geom_.y_shape[0]);
  }

  bool parse_tactic(const std::string& t) {
    if (t.empty()) return false;
    std::string name = t;
    math_type_ = cudnn_math(math_);
    const size_t plus = name.find("+tc");
    if (plus != std::string::npos) {
      name = name.substr(0, plus);
      if (math_ == Fp32Math::kTF32) math_type_ = CUDNN_TENSOR_OP_MATH;
    }
    for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; ++a)
      if (name == bwd_data_algo_name(cudnnConvolutionBwdDataAlgo_t(a))) {
        algo_ = cudnnConvolutionBwdDataAlgo_t(a);
        return true;
      }
    return false;
  }

  bool math_allowed(cudnnMathType_t m) const {
    return math_ == Fp32Math::kTF32 || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
  }

  void choose_heuristic(CudaInitContext& ctx, BatchDescs& d) {
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionBackwardDataAlgorithmMaxCount(ctx.cudnn, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, filter_.get(), d.dy.get(),
                                                                            conv_.get(), d.dx.get(), int(perf.size()),
                                                                            &returned, perf.data()));
    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionBwdDataAlgoPerf_t& p = perf[size_t(i)];
      if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= ctx.workspace_limit && math_allowed(p.mathType)) {
        algo_ = p.algo;
        math_type_ = math_ == Fp32Math::kTF32 ? p.mathType : cudnn_math(math_);
        return;
      }
    }
    algo_ = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    math_type_ = cudnn_math(math_);
  }

  void tune(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
    size_t free_bytes = 0, total_bytes = 0;
    TRTCORE_CUDA_CHECK(where_, cudaMemGetInfo(&free_bytes, &total_bytes));
    const size_t limit = std::min(ctx.workspace_limit, free_bytes / 4);
    const int64_t max_batch = geom_.y_shape[0];
    DeviceBuffer dy(size_t(numel(geom_.cudnn_y_shape(max_batch))) * sizeof(float), where_ + " (tuning input)");
    DeviceBuffer dx(size_t(numel(geom_.cudnn_x_shape(max_batch))) * sizeof(float), where_ + " (tuning output)");
    DeviceBuffer ws(limit, where_ + " (tuning workspace)");
    TRTCORE_CUDA_CHECK(where_, cudaMemset(dy.get(), 0, dy.bytes()));
    DeviceBuffer w_tmp;
    const void* w = nullptr;
    if (g.value(node.inputs[1]).constant) {
      w = ctx.device_constant(node.inputs[1]);
    } else {
      w_tmp = DeviceBuffer(size_t(numel(g.value(node.inputs[1]).shape)) * sizeof(float), where_ + " (tuning weights)");
      TRTCORE_CUDA_CHECK(where_, cudaMemset(w_tmp.get(), 0, w_tmp.bytes()));
      w = w_tmp.get();
    }
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionBackwardDataAlgorithmMaxCount(ctx.cudnn, &max_count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnFindConvolutionBackwardDataAlgorithmEx(
                                    ctx.cudnn, filter_.get(), w, d.dy.get(), dy.get(), conv_.get(), d.dx.get(),
                                    dx.get(), int(perf.size()), &returned, perf.data(), ws.get(), ws.bytes()));
    // Results come sorted by time: the fastest one that fits and respects the fp32 math setting wins.
    for (int i = 0; i < returned; ++i) {
      const cudnnConvolutionBwdDataAlgoPerf_t& p = perf[size_t(i)];
      if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= limit && math_allowed(p.mathType)) {
        algo_ = p.algo;
        math_type_ = math_ == Fp32Math::kTF32 ? p.mathType : cudnn_math(math_);
        return;
      }
    }
    choose_heuristic(ctx, d);
  }

  std::string where_;
  FusedActivation act_;
  ConvGeometry geom_;  // x_shape: our output (or the full buffer); y_shape: our input
  CropArgs crop_;
  bool direct_ = true;  // cuDNN writes the output itself (symmetric pads, extra rows below the stride)
  bool has_bias_ = false;
  int64_t channels_ = 0;
  Fp32Math math_ = Fp32Math::kStrict;
  cudnnMathType_t math_type_ = CUDNN_FMA_MATH;
  cudnnConvolutionBwdDataAlgo_t algo_ = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  size_t conv_ws_ = 0;
  FilterDesc filter_;
  ConvDesc conv_;
  std::map<int64_t, BatchDescs> descs_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(ConvTranspose, trtcore::cuda::ConvTransposeKernel)
