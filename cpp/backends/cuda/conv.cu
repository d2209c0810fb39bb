// Conv (1-D/2-D/3-D, groups, dilation, fused bias + optional residual + activation) on cuDNN.
// Asymmetric pads are applied explicitly into the workspace first. At build every candidate form is timed on the
// real shapes with CUDA events and the fastest is stored as the tactic "<form>:<algorithm>[+tc][+epi]":
//   fused       cudnnConvolutionBiasActivationForward (bias, residual and ReLU/identity in one call)
//   conv        cudnnConvolutionForward, then our epilogue kernel when anything is fused ("+epi")
//   nhwc-fused / nhwc-conv   tensor-core math only (float16, or float32 with TF32): the same in NHWC; operands the
//                            executable stores NCHW are converted in the workspace, NHWC-stored ones are used directly
//   dw-direct   depthwise convolutions: our direct kernel with the whole epilogue fused, in any storage layout
//   gemm:h<i>   1x1, stride-1, unpadded convolutions on NHWC activations: one cuBLASLt GEMM [N*H*W, C] x W^T with
//               bias, residual (as C) and ReLU in its epilogue
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "backends/cuda/conv_common.h"
#include "backends/cuda/cudnn_util.h"
#include "backends/cuda/depthwise_conv.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/lt_gemm.h"

namespace trtcore::cuda {
namespace {

// `i` enumerates the dense output; y may be a channel slice of a wider buffer (`pitch` channels; z never is).
template <class T>
__global__ void conv_epilogue_kernel(T* y, const T* bias, const T* z, int64_t n, int64_t channels, int64_t spatial,
                                     int64_t pitch, bool nhwc, DeviceActivation act) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c, off;
    if (nhwc) {
      c = i % channels;
      off = (i / channels) * pitch + c;
    } else {
      const int64_t bc = i / spatial;
      c = bc % channels;
      off = ((bc / channels) * pitch + c) * spatial + i % spatial;
    }
    float v = load_float(y[off]);
    if (bias) v += load_float(bias[c]);
    if (z) v += load_float(z[i]);
    y[off] = store_as<T>(apply_activation(act, v));
  }
}

constexpr size_t align256(size_t b) { return (b + 255) / 256 * 256; }

enum class ConvForm { kFused, kSplit, kDepthwise, kGemm };
enum class ConvLayout { kNchw, kNhwc };

struct ConvChoice {
  ConvForm form = ConvForm::kSplit;
  ConvLayout layout = ConvLayout::kNchw;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

// Device pointers of one call (the pad/NHWC staging and the algorithm's scratch all live in `ws`).
struct ConvArgs {
  int64_t batch = 0;
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;  // never null: the zero bias when the node has none
  const void* z = nullptr;     // residual or null
  void* y = nullptr;
  char* ws = nullptr;
  size_t ws_bytes = 0;                 // of ws (the GEMM form checks its algorithm's scratch against it)
  cublasLtHandle_t lt = nullptr;       // for the GEMM form
};

class CudaEvent {
 public:
  explicit CudaEvent(const std::string& where) { TRTCORE_CUDA_CHECK(where, cudaEventCreate(&e_)); }
  ~CudaEvent() { static_cast<void>(cudaEventDestroy(e_)); }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

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

  // 2-D convolutions with constant weights and symmetric pads read and write NHWC activations directly (the
  // executable asks this of tensor-core precisions only). Grouped ones stay NCHW (cuDNN's NHWC grouped kernels are
  // not reliably faster) except depthwise ones, which our direct kernel runs in any layout.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    if (!check(node, g).empty()) return LayoutRule::kNchwOnly;
    if (g.value(node.inputs[0]).shape.size() != 4 || !g.value(node.inputs[1]).constant) return LayoutRule::kNchwOnly;
    const ConvGeometry geom = ConvGeometry::make(node, g.value(node.inputs[0]).shape, g.value(node.inputs[1]).shape,
                                                 g.value(node.outputs[0]).shape);
    if (geom.explicit_pad || geom.cudnn_rank != 4) return LayoutRule::kNchwOnly;
    if (geom.group != 1 && !is_depthwise(geom, g.value(node.inputs[1]).shape)) return LayoutRule::kNchwOnly;
    return LayoutRule::kAnyLayout;
  }

  // 2-D convolutions without a residual input write a Concat's channel slice through strided cuDNN descriptors.
  bool accepts_output_slice(const Node& node, const Graph& g) const override {
    if (!check(node, g).empty() || g.value(node.inputs[0]).shape.size() != 4) return false;
    return !(node.inputs.size() > 3 && node.inputs[3] >= 0);
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    act_ = FusedActivation::from(node.attrs);
    const Shape& xs = g.value(node.inputs[0]).shape;
    const Shape& ws = g.value(node.inputs[1]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    geom_ = ConvGeometry::make(node, xs, ws, ys);
    w_shape_ = ws;
    has_bias_ = node.inputs.size() > 2 && node.inputs[2] >= 0;
    has_residual_ = node.inputs.size() > 3 && node.inputs[3] >= 0;
    channels_ = ys[1];
    out_pitch_ = ctx.out_slice(0) > 0 ? ctx.out_slice(0) : channels_;
    if (out_pitch_ != channels_ && (has_residual_ || xs.size() != 4 || out_pitch_ < channels_))
      fail(ErrorKind::kRuntime, where_, ": a channel-slice output was planned for a convolution that cannot write one");
    math_ = ctx.fp32_math;
    half_ = g.value(node.inputs[0]).dtype == DType::kFloat16;
    dt_ = half_ ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    elem_ = half_ ? 2 : 4;
    // The legacy fused call knows ReLU and identity only; other activations always run in the epilogue kernel.
    fusable_ = act_.kind == Activation::kRelu || act_.kind == Activation::kNone;
    // NHWC staging pays off only with tensor-core math; it needs 4-D descriptors and a weight copy.
    nhwc_possible_ = tensor_ops_allowed() && geom_.cudnn_rank == 4 && g.value(node.inputs[1]).constant;
    depthwise_ = is_depthwise(geom_, ws) && !geom_.explicit_pad && geom_.cudnn_rank == 4 &&
                 g.value(node.inputs[1]).constant;
    weights_constant_ = g.value(node.inputs[1]).constant != nullptr;
    x_layout_ = ctx.in_layout(0);
    z_layout_ = ctx.in_layout(3);
    y_layout_ = ctx.out_layout(0);
    fixed_nhwc_ = x_layout_ == Layout::kNHWC || y_layout_ == Layout::kNHWC || z_layout_ == Layout::kNHWC;
    if (fixed_nhwc_ && !depthwise_ && (!nhwc_possible_ || geom_.explicit_pad))
      fail(ErrorKind::kRuntime, where_, ": NHWC activations planned for a convolution that cannot run in NHWC");

    filter_ = geom_.filter_desc(ws, dt_, where_);
    conv_ = geom_.conv_desc(base_math(), where_);
    {
      Shape bshape(size_t(geom_.cudnn_rank), 1);
      bshape[1] = channels_;
      bias_desc_ = make_tensor_desc(bshape, dt_, where_);
    }
    act_desc_ = ActivationDesc(where_);
    TRTCORE_CUDNN_CHECK(where_, cudnnSetActivationDescriptor(
                                    act_desc_.get(),
                                    act_.kind == Activation::kRelu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                    CUDNN_PROPAGATE_NAN, 0.0));
    if (!has_bias_) {
      const std::vector<uint8_t> zeros(size_t(channels_) * elem_, 0);
      zero_bias_ = upload(zeros.data(), zeros.size(), where_);
    }

    const int64_t max_batch = xs[0];
    if (depthwise_) prepare_depthwise(node, g);
    if (fixed_nhwc_ && nhwc_possible_) prepare_nhwc(node, ctx);
    // A plan whose tactic was chosen for a dense output keeps it dense (its Concat copies it).
    if (out_pitch_ != channels_ && ctx.mode == TacticMode::kReuse && ctx.tactic.find("+slice") == std::string::npos)
      out_pitch_ = channels_;
    bool chosen = select(node, g, ctx, descs_for(max_batch));
    if (!chosen && out_pitch_ != channels_) {
      // cuDNN cannot write this slice with any algorithm: the output stays dense and the Concat copies it.
      out_pitch_ = channels_;
      descs_.clear();
      chosen = select(node, g, ctx, descs_for(max_batch));
    }
    if (!chosen) fail(ErrorKind::kUnsupported, where_, ": cuDNN offers no convolution algorithm for these shapes");
    BatchDescs& d = descs_for(max_batch);
    if (choice_.form != ConvForm::kGemm) gemm_.reset();
    if (choice_.form == ConvForm::kDepthwise || choice_.form == ConvForm::kGemm) {
      w_nhwc_ = DeviceBuffer();
      if (choice_.form == ConvForm::kGemm) w_dw_ = DeviceBuffer();
      conv_ws_ = 0;
    } else {
      w_dw_ = DeviceBuffer();
      TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), choice_.math));
      TRTCORE_CUDNN_CHECK(where_, workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &conv_ws_));
    }
    d.choice = choice_;
    d.ws = conv_ws_;
    d.ready = true;
  }

  // Channels of the Concat buffer this output is written into, or 0 when it is dense (see accepts_output_slice).
  int64_t output_slice() const override { return out_pitch_ != channels_ ? out_pitch_ : 0; }
  // cuBLASLt reads C (the residual) and writes D element by element: D may be C.
  int output_over_input() const override { return choice_.form == ConvForm::kGemm && has_residual_ ? 3 : -1; }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t batch = in[0].shape[0];
    BatchDescs& d = descs_for(batch);
    if (!d.ready) finish_descs(ctx, d, batch);
    ConvArgs a;
    a.batch = batch;
    a.x = in[0].data;
    a.w = in[1].data;
    a.bias = has_bias_ ? in[2].data : zero_bias_.get();
    a.z = has_residual_ ? in[3].data : nullptr;
    a.y = out[0].data;
    a.ws = static_cast<char*>(ctx.workspace);
    a.ws_bytes = ctx.workspace_bytes;
    a.lt = ctx.cublaslt;
    TRTCORE_CUDNN_CHECK(where_, enqueue(d.choice, d, a, ctx.cudnn, ctx.stream));
  }

  size_t workspace_size() const override {
    if (choice_.form == ConvForm::kDepthwise) return 0;
    if (choice_.form == ConvForm::kGemm) return LtGemm::kWorkspaceBytes;
    return staging_bytes(geom_.x_shape[0], choice_.layout) + conv_ws_;
  }
  size_t weights_bytes() const override { return zero_bias_.bytes() + w_nhwc_.bytes() + w_dw_.bytes(); }
  std::string tactic() const override {
    const std::string slice = out_pitch_ != channels_ ? "+slice" : "";
    if (choice_.form == ConvForm::kDepthwise) return "dw-direct" + slice;
    if (choice_.form == ConvForm::kGemm) return "gemm:" + gemm_->tactic();
    const bool tc = choice_.math == CUDNN_TENSOR_OP_MATH || choice_.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    std::string t = choice_.layout == ConvLayout::kNhwc ? "nhwc-" : "";
    t += choice_.form == ConvForm::kFused ? "fused:" : "conv:";
    t += fwd_algo_name(choice_.algo);
    if (tc) t += "+tc";
    if (choice_.form == ConvForm::kSplit && needs_epilogue()) t += "+epi";
    return t + slice;
  }
  std::string precision() const override {
    if (half_) return "fp16";
    if (choice_.form == ConvForm::kDepthwise) return "fp32";  // plain FP32 arithmetic, no tensor cores
    return math_ == Fp32Math::kTF32 ? "tf32" : "fp32";
  }

 private:
  struct BatchDescs {
    TensorDesc x, y;      // NCHW, as the graph stores them
    TensorDesc xh, yh;    // NHWC staging (only when the layout is nhwc)
    ConvChoice choice;
    size_t ws = 0;
    bool ready = false;
  };

  bool needs_epilogue() const { return has_bias_ || has_residual_ || act_.kind != Activation::kNone; }

  // 1x1, stride 1, no padding, ungrouped, ReLU or no activation, every activation operand NHWC and dense, tensor-core
  // math: y[N*H*W, K] = x[N*H*W, C] * W[K, C]^T (+ bias, + residual as cuBLASLt's C, then ReLU).
  bool gemm_possible() const {
    if (geom_.cudnn_rank != 4 || geom_.spatial != 2 || geom_.group != 1 || geom_.explicit_pad) return false;
    for (int d = 0; d < 2; ++d)
      if (geom_.kernel[d] != 1 || geom_.stride[d] != 1 || geom_.pad_begin[d] != 0 || geom_.pad_end[d] != 0)
        return false;
    if (x_layout_ != Layout::kNHWC || y_layout_ != Layout::kNHWC || (has_residual_ && z_layout_ != Layout::kNHWC))
      return false;
    return fusable_ && weights_constant_ && tensor_ops_allowed() && out_pitch_ == channels_;
  }

  GemmShape gemm_shape(int64_t batch) const {
    GemmShape s;
    const Shape ys = geom_.cudnn_y_shape(batch);
    s.m = ys[0] * ys[2] * ys[3];
    s.n = channels_;
    s.k = geom_.x_shape[1];
    return s;
  }

  // x * W^T + bias, plus the residual as cuBLASLt's C.
  static GemmArgs gemm_args(const ConvArgs& a) {
    GemmArgs g;
    g.a = a.x;
    g.b = a.w;
    g.d = a.y;
    g.bias = a.bias;
    g.c = a.z;
    g.beta = a.z ? 1.f : 0.f;
    return g;
  }

  void make_gemm() {
    if (gemm_) return;
    gemm_ = std::make_unique<LtGemm>();
    const bool relu = act_.kind == Activation::kRelu;
    // The zero bias stands in for a missing one, so the bias epilogue always applies.
    gemm_->configure(where_, Transpose::kNo, Transpose::kYes, relu ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias,
                     math_, half_ ? GemmData::kFloat16 : GemmData::kFloat32);
  }

  // One filter per channel and one output channel per input channel.
  static bool is_depthwise(const ConvGeometry& geom, const Shape& w) {
    return geom.group > 1 && w.size() >= 2 && w[1] == 1 && w[0] == geom.group && geom.x_shape.size() >= 2 &&
           geom.x_shape[1] == geom.group;
  }

  // Tap-major copy of the constant weights ([kH*kW][C]) for the direct depthwise kernel.
  void prepare_depthwise(const Node& node, const Graph& g) {
    if (w_dw_.get()) return;
    const Shape w = geom_.lift(w_shape_);
    const int64_t c = w[0], taps = w[2] * w[3];
    const std::vector<uint8_t>& src = g.value(node.inputs[1]).constant->bytes;
    if (src.size() != size_t(c * taps) * elem_)
      fail(ErrorKind::kRuntime, where_, ": weights hold ", src.size(), " bytes, expected ", c * taps * elem_);
    std::vector<uint8_t> dst(src.size());
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t t = 0; t < taps; ++t)
        std::memcpy(dst.data() + size_t(t * c + ch) * elem_, src.data() + size_t(ch * taps + t) * elem_, elem_);
    w_dw_ = upload(dst.data(), dst.size(), where_ + " (depthwise weights)");
  }

  void launch_direct(const ConvArgs& a, cudaStream_t stream) {
    const Shape xs = geom_.cudnn_x_shape(a.batch), ys = geom_.cudnn_y_shape(a.batch);
    DepthwiseShape s;
    s.batch = a.batch;
    s.channels = xs[1];
    s.h = xs[2];
    s.w = xs[3];
    s.out_h = ys[2];
    s.out_w = ys[3];
    // A 1-D convolution is lifted to H = 1 with its window on W.
    const int off = geom_.spatial == 1 ? 1 : 0;
    s.kernel_h = off ? 1 : geom_.kernel[0];
    s.stride_h = off ? 1 : geom_.stride[0];
    s.pad_h = off ? 0 : geom_.pad_begin[0];
    s.dilation_h = off ? 1 : geom_.dilation[0];
    s.kernel_w = geom_.kernel[1 - off];
    s.stride_w = geom_.stride[1 - off];
    s.pad_w = geom_.pad_begin[1 - off];
    s.dilation_w = geom_.dilation[1 - off];
    DepthwiseArgs d;
    d.x = a.x;
    d.w = w_dw_.get();
    d.bias = has_bias_ ? a.bias : nullptr;
    d.z = a.z;
    d.y = a.y;
    d.x_layout = x_layout_;
    d.y_layout = y_layout_;
    d.z_layout = z_layout_;
    d.y_channel_pitch = out_pitch_;
    launch_depthwise(s, d, act_, half_, stream, where_);
  }

  BatchDescs& descs_for(int64_t batch) {
    auto it = descs_.find(batch);
    if (it != descs_.end()) return it->second;
    BatchDescs d;
    d.x = make_tensor_desc(geom_.cudnn_x_shape(batch), dt_, where_);
    const Shape ys = geom_.cudnn_y_shape(batch);
    // The stored output carries the Concat's channel pitch when it is a slice; an NHWC staging copy is dense.
    const bool sliced = out_pitch_ != channels_;
    d.y = sliced && y_layout_ == Layout::kNCHW ? make_strided_desc(ys, Layout::kNCHW) : make_tensor_desc(ys, dt_, where_);
    if (nhwc_possible_) {
      d.xh = make_nhwc_desc(geom_.cudnn_x_shape(batch));
      d.yh = sliced && y_layout_ == Layout::kNHWC ? make_strided_desc(ys, Layout::kNHWC) : make_nhwc_desc(ys);
    }
    return descs_.emplace(batch, std::move(d)).first->second;
  }

  // [N, C, H, W] inside a buffer of out_pitch_ channels, stored in `layout`.
  TensorDesc make_strided_desc(const Shape& s, Layout layout) const {
    const int64_t c = out_pitch_, h = s[2], w = s[3];
    const bool nhwc = layout == Layout::kNHWC;
    TensorDesc t(where_);
    TRTCORE_CUDNN_CHECK(where_, cudnnSetTensor4dDescriptorEx(t.get(), dt_, int(s[0]), int(s[1]), int(h), int(w),
                                                             int(c * h * w), nhwc ? 1 : int(h * w),
                                                             nhwc ? int(w * c) : int(w), nhwc ? int(c) : 1));
    return t;
  }

  TensorDesc make_nhwc_desc(const Shape& s) const {
    TensorDesc t(where_);
    TRTCORE_CUDNN_CHECK(where_, cudnnSetTensor4dDescriptor(t.get(), CUDNN_TENSOR_NHWC, dt_, int(s[0]), int(s[1]),
                                                           int(s[2]), int(s[3])));
    return t;
  }

  // Bytes ahead of the algorithm's scratch: the explicit-pad copy, then NHWC copies of the NCHW-stored operands.
  size_t staging_bytes(int64_t batch, ConvLayout layout) const {
    size_t b = geom_.padded_bytes(batch, elem_);
    if (layout != ConvLayout::kNhwc) return b;
    const size_t yb = align256(size_t(numel(geom_.cudnn_y_shape(batch))) * elem_);
    if (x_layout_ == Layout::kNCHW) b += align256(size_t(numel(geom_.cudnn_x_shape(batch))) * elem_);
    if (y_layout_ == Layout::kNCHW) b += yb;
    if (has_residual_ && z_layout_ == Layout::kNCHW) b += yb;
    return b;
  }

  cudnnStatus_t workspace_for(cudnnHandle_t h, const BatchDescs& d, ConvLayout layout, cudnnConvolutionFwdAlgo_t algo,
                              size_t* bytes) const {
    const bool nhwc = layout == ConvLayout::kNhwc;
    return cudnnGetConvolutionForwardWorkspaceSize(h, nhwc ? d.xh.get() : d.x.get(),
                                                   nhwc ? filter_nhwc_.get() : filter_.get(), conv_.get(),
                                                   nhwc ? d.yh.get() : d.y.get(), algo, bytes);
  }

  // cuDNN's heuristic ranking (no timing) for the descriptors of one layout.
  std::vector<cudnnConvolutionFwdAlgoPerf_t> heuristic_algos(cudnnHandle_t h, const BatchDescs& d, bool nhwc) const {
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithm_v7(
                                    h, nhwc ? d.xh.get() : d.x.get(), nhwc ? filter_nhwc_.get() : filter_.get(),
                                    conv_.get(), nhwc ? d.yh.get() : d.y.get(), int(perf.size()), &returned,
                                    perf.data()));
    perf.resize(size_t(std::max(0, returned)));
    return perf;
  }

  bool set_math(cudnnMathType_t m) {
    if (!math_allowed(m)) return false;
    return cudnnSetConvolutionMathType(conv_.get(), m) == CUDNN_STATUS_SUCCESS;
  }

  // One forward pass in the given form; returns the first failing cuDNN status (unsupported forms are reported,
  // not thrown, so tuning can skip them).
  cudnnStatus_t enqueue(const ConvChoice& c, const BatchDescs& d, const ConvArgs& a, cudnnHandle_t h,
                        cudaStream_t stream) {
    if (c.form == ConvForm::kDepthwise) {
      launch_direct(a, stream);
      return CUDNN_STATUS_SUCCESS;
    }
    if (c.form == ConvForm::kGemm) {
      gemm_->run(a.lt, stream, gemm_shape(a.batch), gemm_args(a), a.ws, a.ws_bytes);
      return CUDNN_STATUS_SUCCESS;
    }
    char* ws = a.ws;
    const void* x = a.x;
    if (geom_.explicit_pad) {
      geom_.launch_pad(a.x, ws, a.batch, stream, where_, elem_);
      x = ws;
      ws += geom_.padded_bytes(a.batch, elem_);
    }
    const float one = 1.f, zero = 0.f;
    const bool nhwc = c.layout == ConvLayout::kNhwc;
    cudnnTensorDescriptor_t xd = d.x.get(), yd = d.y.get();
    cudnnFilterDescriptor_t fd = filter_.get();
    const void* w = a.w;
    void* y = a.y;
    const void* z = a.z;
    cudnnStatus_t s = CUDNN_STATUS_SUCCESS;
    if (nhwc) {
      const size_t yb = align256(size_t(numel(geom_.cudnn_y_shape(a.batch))) * elem_);
      if (x_layout_ == Layout::kNCHW) {
        void* xh = ws;
        ws += align256(size_t(numel(geom_.cudnn_x_shape(a.batch))) * elem_);
        s = cudnnTransformTensor(h, &one, d.x.get(), x, &zero, d.xh.get(), xh);
        if (s != CUDNN_STATUS_SUCCESS) return s;
        x = xh;
      }
      if (y_layout_ == Layout::kNCHW) {
        y = ws;
        ws += yb;
      }
      if (a.z && z_layout_ == Layout::kNCHW) {
        void* zh = ws;
        ws += yb;
        s = cudnnTransformTensor(h, &one, d.y.get(), a.z, &zero, d.yh.get(), zh);
        if (s != CUDNN_STATUS_SUCCESS) return s;
        z = zh;
      }
      xd = d.xh.get();
      yd = d.yh.get();
      fd = filter_nhwc_.get();
      w = w_nhwc_.get();
    }
    if (c.form == ConvForm::kFused) {
      const float alpha2 = z ? 1.f : 0.f;
      s = cudnnConvolutionBiasActivationForward(h, &one, xd, x, fd, w, conv_.get(), c.algo, ws, d.ws, &alpha2, yd,
                                                z ? z : y, bias_desc_.get(), a.bias, act_desc_.get(), yd, y);
    } else {
      s = cudnnConvolutionForward(h, &one, xd, x, fd, w, conv_.get(), c.algo, ws, d.ws, &zero, yd, y);
    }
    if (s != CUDNN_STATUS_SUCCESS) return s;
    if (c.form == ConvForm::kSplit && needs_epilogue()) {
      const int64_t n = numel(geom_.cudnn_y_shape(a.batch));
      const int64_t spatial = n / (a.batch * channels_);
      // NHWC staging of an NCHW-stored output is dense; the stored output may be a Concat's channel slice.
      const int64_t pitch = nhwc && y_layout_ == Layout::kNCHW ? channels_ : out_pitch_;
      if (half_) launch_epilogue<__half>(y, a.bias, z, n, spatial, pitch, nhwc, stream);
      else launch_epilogue<float>(y, a.bias, z, n, spatial, pitch, nhwc, stream);
    }
    if (nhwc && y_layout_ == Layout::kNCHW) {
      s = cudnnTransformTensor(h, &one, d.yh.get(), y, &zero, d.y.get(), a.y);
      if (s != CUDNN_STATUS_SUCCESS) return s;
    }
    return CUDNN_STATUS_SUCCESS;
  }

  // Another batch size: the tuned choice if its workspace fits the shared workspace, else the best algorithm
  // (cuDNN's heuristic order) that fits, run as convolution + epilogue kernel.
  void finish_descs(const CudaRunContext& ctx, BatchDescs& d, int64_t batch) {
    if (choice_.form == ConvForm::kDepthwise || choice_.form == ConvForm::kGemm) {  // any batch
      d.choice = choice_;
      d.ws = 0;
      d.ready = true;
      return;
    }
    const size_t staged = staging_bytes(batch, choice_.layout);
    const size_t avail = ctx.workspace_bytes > staged ? ctx.workspace_bytes - staged : 0;
    size_t bytes = 0;
    if (workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &bytes) == CUDNN_STATUS_SUCCESS &&
        bytes <= avail) {
      d.choice = choice_;
      d.ws = bytes;
      d.ready = true;
      return;
    }
    const bool nhwc = choice_.layout == ConvLayout::kNhwc;
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> perf = heuristic_algos(ctx.cudnn, d, nhwc);
    // The convolution descriptor's math type is shared by all batches: keep candidates of the tuned math type,
    // then the zero-workspace implicit GEMM as the last resort.
    std::vector<cudnnConvolutionFwdAlgo_t> order;
    for (const cudnnConvolutionFwdAlgoPerf_t& p : perf)
      if (p.status == CUDNN_STATUS_SUCCESS && p.mathType == choice_.math) order.push_back(p.algo);
    order.push_back(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    for (cudnnConvolutionFwdAlgo_t a : order)
      if (workspace_for(ctx.cudnn, d, choice_.layout, a, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= avail) {
        d.choice = choice_;
        d.choice.algo = a;
        d.choice.form = ConvForm::kSplit;  // every algorithm runs split; the fused call accepts only some
        d.ws = bytes;
        d.ready = true;
        return;
      }
    fail(ErrorKind::kRuntime, where_, ": no convolution algorithm fits the ", ctx.workspace_bytes,
         "-byte workspace at batch ", batch, " (plan built for batch ", geom_.x_shape[0], ")");
  }

  bool parse_tactic(const std::string& t) {
    const size_t colon = t.find(':');
    if (colon == std::string::npos) return false;  // an older plan's string: choose again by heuristic
    const std::string form = t.substr(0, colon);
    std::string rest = t.substr(colon + 1);
    choice_ = ConvChoice{};
    if (form == "gemm") {
      if (!gemm_possible()) return false;
      make_gemm();
      gemm_->reuse(lt_, gemm_shape(geom_.x_shape[0]), rest);
      choice_.form = ConvForm::kGemm;
      return true;
    }
    if (form == "dw") {
      if (rest.substr(0, rest.find('+')) != "direct" || !depthwise_) return false;
      choice_.form = ConvForm::kDepthwise;
      return true;
    }
    if (form == "fused" || form == "nhwc-fused") choice_.form = ConvForm::kFused;
    else if (form == "conv" || form == "nhwc-conv") choice_.form = ConvForm::kSplit;
    else return false;
    if (choice_.form == ConvForm::kFused && !fusable_) return false;
    choice_.layout = form.rfind("nhwc-", 0) == 0 ? ConvLayout::kNhwc : ConvLayout::kNchw;
    choice_.math = base_math();
    if (rest.find("+tc") != std::string::npos && tensor_ops_allowed()) choice_.math = CUDNN_TENSOR_OP_MATH;
    rest = rest.substr(0, rest.find('+'));
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a)
      if (rest == fwd_algo_name(cudnnConvolutionFwdAlgo_t(a))) {
        choice_.algo = cudnnConvolutionFwdAlgo_t(a);
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
  void launch_epilogue(void* y, const void* bias, const void* z, int64_t n, int64_t spatial, int64_t pitch,
                       bool nhwc, cudaStream_t stream) {
    conv_epilogue_kernel<T><<<grid_for(n), kBlockSize, 0, stream>>>(
        static_cast<T*>(y), has_bias_ ? static_cast<const T*>(bias) : nullptr, static_cast<const T*>(z), n,
        channels_, spatial, pitch, nhwc, DeviceActivation::from(act_));
    TRTCORE_CUDA_LAUNCH_CHECK(where_, conv_epilogue_kernel<T>);
  }

  // NHWC copy of the constant weights (filter K x C/g x kH x kW).
  void prepare_nhwc(const Node& node, CudaInitContext& ctx) {
    if (w_nhwc_.get()) return;
    const Shape w = geom_.lift(w_shape_);
    filter_nhwc_ = FilterDesc(where_);
    TRTCORE_CUDNN_CHECK(where_, cudnnSetFilter4dDescriptor(filter_nhwc_.get(), dt_, CUDNN_TENSOR_NHWC, int(w[0]),
                                                           int(w[1]), int(w[2]), int(w[3])));
    w_nhwc_ = DeviceBuffer(size_t(numel(w)) * elem_, where_ + " (NHWC weights)");
    const TensorDesc src = make_tensor_desc(w, dt_, where_);
    TensorDesc dst(where_);
    TRTCORE_CUDNN_CHECK(where_, cudnnSetTensor4dDescriptor(dst.get(), CUDNN_TENSOR_NHWC, dt_, int(w[0]), int(w[1]),
                                                           int(w[2]), int(w[3])));
    const float one = 1.f, zero = 0.f;
    TRTCORE_CUDNN_CHECK(where_, cudnnTransformTensor(ctx.cudnn, &one, src.get(), ctx.device_constant(node.inputs[1]),
                                                     &zero, dst.get(), w_nhwc_.get()));
    TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
  }

  // The tactic: the stored one (load), timed candidates (build) or cuDNN's heuristic; false when no algorithm can
  // run with the current descriptors (e.g. a strided slice output cuDNN does not support).
  bool select(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
    lt_ = ctx.cublaslt;
    if (ctx.mode == TacticMode::kReuse && parse_tactic(ctx.tactic)) {
      if (choice_.form == ConvForm::kDepthwise || choice_.form == ConvForm::kGemm) return true;
      if (fixed_nhwc_) choice_.layout = ConvLayout::kNhwc;
      if (choice_.layout == ConvLayout::kNhwc) {
        if (nhwc_possible_) prepare_nhwc(node, ctx);
        else choice_.layout = ConvLayout::kNchw;  // weights could not be prepared: same algorithm, NCHW
      }
      if (choice_valid(ctx, d)) return true;
    } else if (ctx.mode == TacticMode::kTune) {
      if (tune(node, g, ctx, d)) return true;
    }
    choose_heuristic(ctx, d);
    return choice_valid(ctx, d);
  }

  bool choice_valid(CudaInitContext& ctx, const BatchDescs& d) {
    if (choice_.form == ConvForm::kDepthwise || choice_.form == ConvForm::kGemm) return true;
    size_t bytes = 0;
    return set_math(choice_.math) &&
           workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &bytes) == CUDNN_STATUS_SUCCESS;
  }

  void choose_heuristic(CudaInitContext& ctx, BatchDescs& d) {
    choice_ = ConvChoice{};
    if (depthwise_) {  // always applicable, no scratch
      choice_.form = ConvForm::kDepthwise;
      return;
    }
    choice_.math = base_math();
    if (fixed_nhwc_) choice_.layout = ConvLayout::kNhwc;
    const bool nhwc = fixed_nhwc_;
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), choice_.math));
    const std::vector<cudnnConvolutionFwdAlgoPerf_t> perf = heuristic_algos(ctx.cudnn, d, nhwc);
    for (const cudnnConvolutionFwdAlgoPerf_t& p : perf)
      if (p.status == CUDNN_STATUS_SUCCESS && p.memory <= ctx.workspace_limit && math_allowed(p.mathType)) {
        choice_.algo = p.algo;
        choice_.math = tensor_ops_allowed() ? p.mathType : cudnn_math(math_);
        return;
      }
  }

  // Milliseconds per call of one candidate (infinity when cuDNN refuses it or its scratch exceeds `limit`).
  // `scratch`: what the candidate needs from the shared workspace.
  float time_choice(const ConvChoice& c, BatchDescs& d, ConvArgs a, size_t limit, CudaInitContext& ctx,
                    size_t* scratch) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    *scratch = c.form == ConvForm::kGemm ? LtGemm::kWorkspaceBytes : 0;
    if (c.form != ConvForm::kDepthwise && c.form != ConvForm::kGemm) {
      if (!set_math(c.math)) return kInf;
      size_t bytes = 0;
      if (workspace_for(ctx.cudnn, d, c.layout, c.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > limit) return kInf;
      d.ws = bytes;
      *scratch = bytes + staging_bytes(geom_.x_shape[0], c.layout);
    }
    if (enqueue(c, d, a, ctx.cudnn, ctx.stream) != CUDNN_STATUS_SUCCESS) {
      static_cast<void>(cudaGetLastError());
      return kInf;
    }
    TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
    // Plans run as CUDA graphs, where launch overhead vanishes: time a captured graph of the repetitions, so
    // forms with more (small) launches are not penalised for host time; plain launches if capture is refused.
    constexpr int kReps = 5;
    cudaGraphExec_t exec = nullptr;
    if (cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
      bool ok = true;
      for (int i = 0; i < kReps && ok; ++i) ok = enqueue(c, d, a, ctx.cudnn, ctx.stream) == CUDNN_STATUS_SUCCESS;
      cudaGraph_t graph = nullptr;
      ok = cudaStreamEndCapture(ctx.stream, &graph) == cudaSuccess && ok;
      if (ok && cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) exec = nullptr;
      if (graph) static_cast<void>(cudaGraphDestroy(graph));
      static_cast<void>(cudaGetLastError());
    }
    auto launch = [&]() -> bool {
      if (exec) return cudaGraphLaunch(exec, ctx.stream) == cudaSuccess;
      for (int i = 0; i < kReps; ++i)
        if (enqueue(c, d, a, ctx.cudnn, ctx.stream) != CUDNN_STATUS_SUCCESS) return false;
      return true;
    };
    float ms = kInf;
    CudaEvent start(where_), stop(where_);
    if (launch()) {  // warm-up of the graph itself
      TRTCORE_CUDA_CHECK(where_, cudaEventRecord(start.get(), ctx.stream));
      const bool ok = launch();
      TRTCORE_CUDA_CHECK(where_, cudaEventRecord(stop.get(), ctx.stream));
      TRTCORE_CUDA_CHECK(where_, cudaEventSynchronize(stop.get()));
      if (ok) TRTCORE_CUDA_CHECK(where_, cudaEventElapsedTime(&ms, start.get(), stop.get()));
    }
    TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
    if (exec) static_cast<void>(cudaGraphExecDestroy(exec));
    return ms / kReps;
  }

  // The fastest few algorithms of one layout as cudnnFind ranks the bare convolution.
  std::vector<ConvChoice> find_candidates(ConvLayout layout, BatchDescs& d, const ConvArgs& a, void* ws, size_t limit,
                                          CudaInitContext& ctx) {
    const bool nhwc = layout == ConvLayout::kNhwc;
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), base_math()));
    int max_count = 0;
    TRTCORE_CUDNN_CHECK(where_, cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &max_count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(1, max_count)));
    int returned = 0;
    const cudnnStatus_t s = cudnnFindConvolutionForwardAlgorithmEx(
        ctx.cudnn, nhwc ? d.xh.get() : d.x.get(), a.x, nhwc ? filter_nhwc_.get() : filter_.get(),
        nhwc ? w_nhwc_.get() : a.w, conv_.get(), nhwc ? d.yh.get() : d.y.get(), a.y, int(perf.size()), &returned,
        perf.data(), ws, limit);
    std::vector<ConvChoice> out;
    if (s != CUDNN_STATUS_SUCCESS) return out;
    constexpr size_t kKeep = 3;
    for (int i = 0; i < returned && out.size() < kKeep; ++i) {
      const cudnnConvolutionFwdAlgoPerf_t& p = perf[size_t(i)];
      if (p.status != CUDNN_STATUS_SUCCESS || p.memory > limit || !math_allowed(p.mathType)) continue;
      ConvChoice c;
      c.layout = layout;
      c.algo = p.algo;
      c.math = tensor_ops_allowed() ? p.mathType : cudnn_math(math_);
      if (std::none_of(out.begin(), out.end(), [&](const ConvChoice& o) { return o.algo == c.algo; }))
        out.push_back(c);
    }
    return out;
  }

  // Times the candidates; false when none runs (the caller falls back to the heuristic).
  bool tune(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
    size_t free_bytes = 0, total_bytes = 0;
    TRTCORE_CUDA_CHECK(where_, cudaMemGetInfo(&free_bytes, &total_bytes));
    const size_t limit = std::min(ctx.workspace_limit, free_bytes / 4);
    const int64_t max_batch = geom_.x_shape[0];
    const size_t y_bytes = size_t(numel(geom_.cudnn_y_shape(max_batch))) * elem_;
    DeviceBuffer x(size_t(numel(geom_.cudnn_x_shape(max_batch))) * elem_, where_ + " (tuning input)");
    // A channel-slice output spans the whole Concat buffer's pitch.
    DeviceBuffer y(y_bytes / size_t(channels_) * size_t(out_pitch_), where_ + " (tuning output)");
    DeviceBuffer z(has_residual_ ? y_bytes : 0, where_ + " (tuning residual)");
    DeviceBuffer b(size_t(channels_) * elem_, where_ + " (tuning bias)");
    const size_t staging = staging_bytes(max_batch, nhwc_possible_ ? ConvLayout::kNhwc : ConvLayout::kNchw);
    DeviceBuffer ws(staging + limit, where_ + " (tuning workspace)");
    for (const DeviceBuffer* buf : {&x, &y, &z, &b})
      if (buf->bytes()) TRTCORE_CUDA_CHECK(where_, cudaMemset(buf->get(), 0, buf->bytes()));
    DeviceBuffer w_tmp;
    const void* w = nullptr;
    if (g.value(node.inputs[1]).constant) {
      w = ctx.device_constant(node.inputs[1]);
    } else {
      w_tmp = DeviceBuffer(size_t(numel(w_shape_)) * elem_, where_ + " (tuning weights)");
      TRTCORE_CUDA_CHECK(where_, cudaMemset(w_tmp.get(), 0, w_tmp.bytes()));
      w = w_tmp.get();
    }
    ConvArgs a;
    a.batch = max_batch;
    a.x = x.get();
    a.w = w;
    a.bias = b.get();
    a.z = has_residual_ ? z.get() : nullptr;
    a.y = y.get();
    a.ws = ws.as<char>();
    a.ws_bytes = ws.bytes();
    a.lt = ctx.cublaslt;
    if (nhwc_possible_) prepare_nhwc(node, ctx);
    struct Timed {
      ConvChoice choice;
      float ms;
      size_t scratch;
    };
    std::vector<Timed> timed;
    auto add = [&](const ConvChoice& c) {
      size_t scratch = 0;
      const float ms = time_choice(c, d, a, limit, ctx, &scratch);
      if (ms < std::numeric_limits<float>::infinity()) timed.push_back({c, ms, scratch});
    };
    if (depthwise_) {
      ConvChoice dw;
      dw.form = ConvForm::kDepthwise;
      add(dw);
    }
    if (gemm_possible()) {
      make_gemm();
      gemm_->tune(ctx.cublaslt, ctx.stream, gemm_shape(max_batch), gemm_args(a));
      ConvChoice gc;
      gc.form = ConvForm::kGemm;
      add(gc);
    }

    // cudnnFind ranks algorithms for the bare convolution; `x` is sized for the padded shape and `y` for the
    // output, so both serve as NCHW or NHWC operands of any layout (contents do not matter for timing).
    std::vector<ConvChoice> cands;
    // NHWC-stored depthwise convolutions run our kernel only (cuDNN's NHWC grouped kernels are slow).
    if (nhwc_possible_ && !(fixed_nhwc_ && depthwise_))
      cands = find_candidates(ConvLayout::kNhwc, d, a, ws.get(), limit, ctx);
    // NHWC-stored operands fix the layout: an NCHW form would need transforms the tuner does not model.
    if (!fixed_nhwc_)
      for (const ConvChoice& c : find_candidates(ConvLayout::kNchw, d, a, ws.get(), limit, ctx)) cands.push_back(c);
    for (const ConvChoice& base : cands) {
      for (ConvForm form : {ConvForm::kSplit, ConvForm::kFused}) {
        if (form == ConvForm::kFused && (!fusable_ || !needs_epilogue())) continue;
        ConvChoice c = base;
        c.form = form;
        add(c);
      }
    }
    // The fastest, unless one within kScratchTolerance of it needs less scratch memory (the shared workspace is the
    // largest scratch of any layer, so big-scratch tactics cost memory for a gain in the noise).
    constexpr float kScratchTolerance = 1.03f;
    bool found = false;
    float best = std::numeric_limits<float>::infinity();
    for (const Timed& t : timed) best = std::min(best, t.ms);
    size_t least = std::numeric_limits<size_t>::max();
    for (const Timed& t : timed)
      if (t.ms <= best * kScratchTolerance && t.scratch < least) {
        least = t.scratch;
        choice_ = t.choice;
        found = true;
      }
    TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
    if (!found) return false;
    if (choice_.layout != ConvLayout::kNhwc || choice_.form == ConvForm::kDepthwise)
      w_nhwc_ = DeviceBuffer();  // the NHWC weight copy is not needed
    return true;
  }

  std::string where_;
  FusedActivation act_;
  ConvGeometry geom_;
  Shape w_shape_;
  bool has_bias_ = false, has_residual_ = false, fusable_ = false, nhwc_possible_ = false;
  Layout x_layout_ = Layout::kNCHW, y_layout_ = Layout::kNCHW, z_layout_ = Layout::kNCHW;  // as stored
  bool fixed_nhwc_ = false;  // some operand is stored NHWC: the convolution always runs in NHWC
  bool depthwise_ = false;   // the direct depthwise kernel applies
  bool weights_constant_ = false;
  std::unique_ptr<LtGemm> gemm_;     // the GEMM form (1x1 convolutions on NHWC activations)
  cublasLtHandle_t lt_ = nullptr;    // init only: the handle plans are made with
  bool half_ = false;  // float16 data, FP32 accumulation on tensor cores
  cudnnDataType_t dt_ = CUDNN_DATA_FLOAT;
  size_t elem_ = 4;
  int64_t channels_ = 0;
  int64_t out_pitch_ = 0;  // channels of the buffer the output is stored in (> channels_ for a Concat slice)
  Fp32Math math_ = Fp32Math::kStrict;
  ConvChoice choice_;
  size_t conv_ws_ = 0;
  FilterDesc filter_, filter_nhwc_;
  ConvDesc conv_;
  TensorDesc bias_desc_;
  ActivationDesc act_desc_;
  DeviceBuffer zero_bias_, w_nhwc_, w_dw_;
  std::map<int64_t, BatchDescs> descs_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Conv, trtcore::cuda::ConvKernel)
