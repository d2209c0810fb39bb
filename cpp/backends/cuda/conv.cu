// The Conv kernel's init, run and forms (see conv_kernel.h): weights, descriptors, one forward pass in a chosen
// form, and the fallback algorithm for batch sizes other than the one the tactic was tuned for.
#include <algorithm>
#include <cstring>

#include "backends/cuda/conv_kernel.h"
#include "backends/cuda/device_math.cuh"
#include "trtcore/half.h"

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

}  // namespace

std::string ConvKernel::check(const Node& node, const Graph& g) const {
  // One element type throughout: float32, or float16 (FP32 accumulation) as the precision stage writes it.
  std::string r = check_one_float_type(node, g);
  if (!r.empty()) return r;
  const size_t rank = g.value(node.inputs.at(0)).shape.size();
  if (rank < 3 || rank > 5) return "only 1-D, 2-D and 3-D convolutions are supported";
  return "";
}

LayoutRule ConvKernel::layout_rule(const Node& node, const Graph& g) const {
  if (!check(node, g).empty()) return LayoutRule::kNchwOnly;
  if (g.value(node.inputs[0]).shape.size() != 4 || !g.value(node.inputs[1]).constant) return LayoutRule::kNchwOnly;
  const ConvGeometry geom = ConvGeometry::make(node, g.value(node.inputs[0]).shape, g.value(node.inputs[1]).shape,
                                               g.value(node.outputs[0]).shape);
  if (geom.explicit_pad || geom.cudnn_rank != 4) return LayoutRule::kNchwOnly;
  if (geom.group != 1 && !is_depthwise(geom, g.value(node.inputs[1]).shape)) return LayoutRule::kNchwOnly;
  return LayoutRule::kAnyLayout;
}

bool ConvKernel::accepts_output_slice(const Node& node, const Graph& g) const {
  if (!check(node, g).empty() || g.value(node.inputs[0]).shape.size() != 4) return false;
  return !(node.inputs.size() > 3 && node.inputs[3] >= 0);
}

void ConvKernel::init(const Node& node, const Graph& g, CudaInitContext& ctx) {
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
  small_ = small_possible(node, g);
  if (small_) prepare_small(node, g);
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
  if (choice_.form != ConvForm::kSmall) w_small_ = DeviceBuffer();
  if (own_kernel(choice_.form) || choice_.form == ConvForm::kGemm) {
    w_nhwc_ = DeviceBuffer();
    if (choice_.form != ConvForm::kDepthwise) w_dw_ = DeviceBuffer();
    conv_ws_ = 0;
  } else if (choice_.form == ConvForm::kGraph) {
    w_dw_ = DeviceBuffer();
    // Other batch sizes may fall back to legacy algorithms of this math type (finish_descs).
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), choice_.math));
    conv_ws_ = d.graph->workspace();
  } else {
    w_dw_ = DeviceBuffer();
    TRTCORE_CUDNN_CHECK(where_, cudnnSetConvolutionMathType(conv_.get(), choice_.math));
    TRTCORE_CUDNN_CHECK(where_, workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &conv_ws_));
  }
  d.choice = choice_;
  d.ws = conv_ws_;
  d.ready = true;
}

void ConvKernel::run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) {
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

size_t ConvKernel::workspace_size() const {
  if (own_kernel(choice_.form)) return 0;
  if (choice_.form == ConvForm::kGemm) return LtGemm::kWorkspaceBytes;
  return staging_bytes(geom_.x_shape[0], choice_.layout) + conv_ws_;
}

std::string ConvKernel::precision() const {
  if (half_) return "fp16";
  if (own_kernel(choice_.form)) return "fp32";  // plain FP32 arithmetic, no tensor cores
  return math_ == Fp32Math::kTF32 ? "tf32" : "fp32";
}

// One filter per channel and one output channel per input channel.
bool ConvKernel::is_depthwise(const ConvGeometry& geom, const Shape& w) {
  return geom.group > 1 && w.size() >= 2 && w[1] == 1 && w[0] == geom.group && geom.x_shape.size() >= 2 &&
         geom.x_shape[1] == geom.group;
}

// Tap-major copy of the constant weights ([kH*kW][C]) for the direct depthwise kernel.
void ConvKernel::prepare_depthwise(const Node& node, const Graph& g) {
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

// NHWC copy of the constant weights (filter K x C/g x kH x kW).
void ConvKernel::prepare_nhwc(const Node& node, CudaInitContext& ctx) {
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

SmallConvShape ConvKernel::small_shape(int64_t batch) const {
  const Shape x = geom_.cudnn_x_shape(batch), y = geom_.cudnn_y_shape(batch);
  SmallConvShape s;
  s.batch = batch;
  s.c = int(x[1]), s.h = int(x[2]), s.w = int(x[3]), s.k = int(y[1]), s.oh = int(y[2]), s.ow = int(y[3]);
  s.kh = geom_.kernel[0], s.kw = geom_.kernel[1], s.sh = geom_.stride[0], s.sw = geom_.stride[1];
  s.ph = geom_.pad_begin[0], s.pw = geom_.pad_begin[1], s.dh = geom_.dilation[0], s.dw = geom_.dilation[1];
  return s;
}

// Ungrouped 2-D convolutions with constant weights, symmetric pads and a short reduction, every tensor below 2^31
// elements (the kernel's offsets are 32-bit).
bool ConvKernel::small_possible(const Node& node, const Graph& g) const {
  if (geom_.group != 1 || geom_.spatial != 2 || geom_.cudnn_rank != 4 || geom_.explicit_pad) return false;
  if (!g.value(node.inputs[1]).constant) return false;
  const int64_t big = std::max(numel(geom_.x_shape), numel(geom_.y_shape) / channels_ * out_pitch_);
  return big < int64_t(INT32_MAX) && small_conv_possible(small_shape(geom_.x_shape[0]));
}

// [kh][kw][C][K] float32 copy of the constant weights ([K][C][kh][kw], float32 or float16).
void ConvKernel::prepare_small(const Node& node, const Graph& g) {
  const Shape w = w_shape_;
  const int64_t k = w[0], c = w[1], kh = w[2], kw = w[3];
  const Tensor& src = *g.value(node.inputs[1]).constant;
  if (src.bytes.size() != size_t(k * c * kh * kw) * elem_)
    fail(ErrorKind::kRuntime, where_, ": weights hold ", src.bytes.size(), " bytes, expected ", k * c * kh * kw * elem_);
  std::vector<float> dst(size_t(k * c * kh * kw));
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          const size_t from = size_t(((o * c + i) * kh + a) * kw + b);
          const float v = half_ ? half_to_float(src.data<uint16_t>()[from]) : src.data<float>()[from];
          dst[size_t(((a * kw + b) * c + i) * k + o)] = v;
        }
  w_small_ = upload_floats(dst, where_ + " (short-reduction weights)");
}

DirectConvIo ConvKernel::direct_io(const ConvArgs& a) const {
  DirectConvIo io;
  io.x = a.x;
  io.bias = has_bias_ ? a.bias : nullptr;
  io.z = a.z;
  io.y = a.y;
  io.x_layout = x_layout_;
  io.y_layout = y_layout_;
  io.z_layout = z_layout_;
  io.y_channel_pitch = out_pitch_;
  return io;
}

void ConvKernel::launch_small(const ConvArgs& a, cudaStream_t stream) {
  SmallConvArgs s;
  static_cast<DirectConvIo&>(s) = direct_io(a);
  s.w = w_small_.as<float>();
  launch_small_conv(small_shape(a.batch), s, act_, half_, stream, where_);
}

bool ConvKernel::depthwise_pixel_possible() const {
  if (!depthwise_ || !half_ || geom_.spatial != 2 || channels_ % 8 != 0 || out_pitch_ % 8 != 0) return false;
  if (x_layout_ != Layout::kNHWC || y_layout_ != Layout::kNHWC || (has_residual_ && z_layout_ != Layout::kNHWC))
    return false;
  const int64_t k = geom_.kernel[0], s = geom_.stride[0];
  return k == geom_.kernel[1] && (k == 3 || k == 5) && s == geom_.stride[1] && (s == 1 || s == 2) &&
         geom_.dilation[0] == 1 && geom_.dilation[1] == 1;
}

void ConvKernel::launch_direct(const ConvArgs& a, cudaStream_t stream, DepthwiseTile tile) {
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
  static_cast<DirectConvIo&>(d) = direct_io(a);
  d.w = w_dw_.get();
  d.tile = tile;
  launch_depthwise(s, d, act_, half_, stream, where_);
}

ConvKernel::BatchDescs& ConvKernel::descs_for(int64_t batch) {
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
TensorDesc ConvKernel::make_strided_desc(const Shape& s, Layout layout) const {
  const int64_t c = out_pitch_, h = s[2], w = s[3];
  const bool nhwc = layout == Layout::kNHWC;
  TensorDesc t(where_);
  TRTCORE_CUDNN_CHECK(where_, cudnnSetTensor4dDescriptorEx(t.get(), dt_, int(s[0]), int(s[1]), int(h), int(w),
                                                           int(c * h * w), nhwc ? 1 : int(h * w),
                                                           nhwc ? int(w * c) : int(w), nhwc ? int(c) : 1));
  return t;
}

TensorDesc ConvKernel::make_nhwc_desc(const Shape& s) const {
  TensorDesc t(where_);
  TRTCORE_CUDNN_CHECK(where_, cudnnSetTensor4dDescriptor(t.get(), CUDNN_TENSOR_NHWC, dt_, int(s[0]), int(s[1]),
                                                         int(s[2]), int(s[3])));
  return t;
}

// Bytes ahead of the algorithm's scratch: the explicit-pad copy, then NHWC copies of the NCHW-stored operands.
size_t ConvKernel::staging_bytes(int64_t batch, ConvLayout layout) const {
  size_t b = geom_.padded_bytes(batch, elem_);
  if (layout != ConvLayout::kNhwc) return b;
  const size_t yb = align256(size_t(numel(geom_.cudnn_y_shape(batch))) * elem_);
  if (x_layout_ == Layout::kNCHW) b += align256(size_t(numel(geom_.cudnn_x_shape(batch))) * elem_);
  if (y_layout_ == Layout::kNCHW) b += yb;
  if (has_residual_ && z_layout_ == Layout::kNCHW) b += yb;
  return b;
}

cudnnStatus_t ConvKernel::workspace_for(cudnnHandle_t h, const BatchDescs& d, ConvLayout layout,
                                        cudnnConvolutionFwdAlgo_t algo, size_t* bytes) const {
  const bool nhwc = layout == ConvLayout::kNhwc;
  return cudnnGetConvolutionForwardWorkspaceSize(h, nhwc ? d.xh.get() : d.x.get(),
                                                 nhwc ? filter_nhwc_.get() : filter_.get(), conv_.get(),
                                                 nhwc ? d.yh.get() : d.y.get(), algo, bytes);
}

// cuDNN's heuristic ranking (no timing) for the descriptors of one layout.
std::vector<cudnnConvolutionFwdAlgoPerf_t> ConvKernel::heuristic_algos(cudnnHandle_t h, const BatchDescs& d,
                                                                       bool nhwc) const {
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

bool ConvKernel::set_math(cudnnMathType_t m) {
  if (!math_allowed(m)) return false;
  return cudnnSetConvolutionMathType(conv_.get(), m) == CUDNN_STATUS_SUCCESS;
}

template <class T>
void ConvKernel::launch_epilogue(void* y, const void* bias, const void* z, int64_t n, int64_t spatial, int64_t pitch,
                                 bool nhwc, cudaStream_t stream) {
  conv_epilogue_kernel<T><<<grid_for(n), kBlockSize, 0, stream>>>(
      static_cast<T*>(y), has_bias_ ? static_cast<const T*>(bias) : nullptr, static_cast<const T*>(z), n,
      channels_, spatial, pitch, nhwc, DeviceActivation::from(act_));
  TRTCORE_CUDA_LAUNCH_CHECK(where_, conv_epilogue_kernel<T>);
}

// One forward pass in the given form; returns the first failing cuDNN status (unsupported forms are reported,
// not thrown, so tuning can skip them).
cudnnStatus_t ConvKernel::enqueue(const ConvChoice& c, const BatchDescs& d, const ConvArgs& a, cudnnHandle_t h,
                                  cudaStream_t stream) {
  if (c.form == ConvForm::kDepthwise) {
    launch_direct(a, stream, c.dw_tile);
    return CUDNN_STATUS_SUCCESS;
  }
  if (c.form == ConvForm::kSmall) {
    launch_small(a, stream);
    return CUDNN_STATUS_SUCCESS;
  }
  if (c.form == ConvForm::kGemm) {
    gemm_->run(a.lt, stream, gemm_shape(a.batch), gemm_args(a), a.ws, a.ws_bytes);
    return CUDNN_STATUS_SUCCESS;
  }
  if (c.form == ConvForm::kGraph) return enqueue_graph(d, a, h);
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
void ConvKernel::finish_descs(const CudaRunContext& ctx, BatchDescs& d, int64_t batch) {
  if (own_kernel(choice_.form) || choice_.form == ConvForm::kGemm) {  // any batch
    d.choice = choice_;
    d.ws = 0;
    d.ready = true;
    return;
  }
  const size_t staged = staging_bytes(batch, choice_.layout);
  const size_t avail = ctx.workspace_bytes > staged ? ctx.workspace_bytes - staged : 0;
  if (choice_.form == ConvForm::kGraph) {  // the same engine configuration planned for this batch size
    std::string why;
    GraphPlan* p = graph_plan(ctx.cudnn, batch, choice_.graph, &why);
    if (p && p->workspace() <= avail) {
      d.choice = choice_;
      d.graph = p;
      d.ws = p->workspace();
      d.ready = true;
      return;
    }
  }
  size_t bytes = 0;
  if (choice_.form != ConvForm::kGraph &&
      workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &bytes) == CUDNN_STATUS_SUCCESS &&
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

}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(Conv, trtcore::cuda::ConvKernel)
