// The Conv kernel's tactics (see conv_kernel.h): the tactic text written to and read from the plan, the choice
// without timing (a stored tactic, else cuDNN's heuristic) and the candidate forms the tuner times.
#include <algorithm>

#include "backends/cuda/conv_kernel.h"

namespace trtcore::cuda {

std::string ConvKernel::tactic_of(const ConvChoice& c) const {
  const std::string slice = out_pitch_ != channels_ ? "+slice" : "";
  if (c.form == ConvForm::kDepthwise) {
    const DepthwiseTile t = c.dw_tile;
    const std::string tile = t == DepthwiseTile::kTiled   ? ":tile8"
                             : t == DepthwiseTile::kPairs ? ":half2"
                             : t == DepthwiseTile::kPixel ? ":pixel8"
                                                          : "";
    return "dw-direct" + tile + slice;
  }
  if (c.form == ConvForm::kSmall) return "small-direct" + slice;
  if (c.form == ConvForm::kGemm) return "gemm:" + gemm_->tactic();
  if (c.form == ConvForm::kGraph) return "graph:" + c.graph.text();
  const bool tc = c.math == CUDNN_TENSOR_OP_MATH || c.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  std::string t = c.layout == ConvLayout::kNhwc ? "nhwc-" : "";
  t += c.form == ConvForm::kFused ? "fused:" : "conv:";
  t += fwd_algo_name(c.algo);
  if (tc) t += "+tc";
  if (c.form == ConvForm::kSplit && needs_epilogue()) t += "+epi";
  return t + slice;
}

std::string ConvKernel::tactic() const { return tactic_of(choice_); }

bool ConvKernel::parse_tactic(const std::string& t) {
  if (t.substr(0, t.find('+')) == "small-direct") {
    if (!small_) return false;
    choice_ = ConvChoice{};
    choice_.form = ConvForm::kSmall;
    return true;
  }
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
  if (form == "graph") {  // "graph:heuristic" fixes the form, the first configuration cuDNN proposes that builds
    if (!graph_possible()) return false;
    if (rest != "heuristic" && !EngineConfig::parse(rest, &choice_.graph)) return false;
    choice_.form = ConvForm::kGraph;
    choice_.layout = ConvLayout::kNhwc;
    choice_.math = base_math();
    return true;
  }
  if (form == "dw") {
    if (rest.substr(0, rest.find('+')) != "direct" || !depthwise_) return false;
    choice_.form = ConvForm::kDepthwise;
    return true;
  }
  if (form == "dw-direct") {  // a fixed variant; plain "dw-direct" has no colon and is chosen again by heuristic
    const std::string tile = rest.substr(0, rest.find('+'));
    if (!depthwise_ || (tile != "tile8" && tile != "half2" && tile != "pixel8")) return false;
    choice_.dw_tile = tile == "tile8"    ? DepthwiseTile::kTiled
                      : tile == "pixel8" ? DepthwiseTile::kPixel
                                         : DepthwiseTile::kPairs;
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

// The tactic: the stored one (load), timed candidates (build) or cuDNN's heuristic; false when no algorithm can
// run with the current descriptors (e.g. a strided slice output cuDNN does not support).
bool ConvKernel::select(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
  lt_ = ctx.cublaslt;
  if (ctx.mode == TacticMode::kReuse && parse_tactic(ctx.tactic)) {
    if (own_kernel(choice_.form) || choice_.form == ConvForm::kGemm) return true;
    if (choice_.form == ConvForm::kGraph) {
      // The stored engine configuration is rebuilt; when this cuDNN no longer offers it, cuDNN's heuristic
      // choice of the legacy algorithms runs instead (the layer's tactic then says so).
      prepare_nhwc(node, ctx);
      d.graph = graph_reuse(ctx);
      if (d.graph) return true;
      choose_heuristic(ctx, d);
      return choice_valid(ctx, d);
    }
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

bool ConvKernel::choice_valid(CudaInitContext& ctx, const BatchDescs& d) {
  if (own_kernel(choice_.form) || choice_.form == ConvForm::kGemm) return true;
  if (choice_.form == ConvForm::kGraph) return d.graph != nullptr;
  size_t bytes = 0;
  return set_math(choice_.math) &&
         workspace_for(ctx.cudnn, d, choice_.layout, choice_.algo, &bytes) == CUDNN_STATUS_SUCCESS;
}

void ConvKernel::choose_heuristic(CudaInitContext& ctx, BatchDescs& d) {
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

// 1x1, stride 1, no padding, ungrouped, ReLU or no activation, every activation operand NHWC and dense, tensor-core
// math: y[N*H*W, K] = x[N*H*W, C] * W[K, C]^T (+ bias, + residual as cuBLASLt's C, then ReLU).
bool ConvKernel::gemm_possible() const {
  if (geom_.cudnn_rank != 4 || geom_.spatial != 2 || geom_.group != 1 || geom_.explicit_pad) return false;
  for (int d = 0; d < 2; ++d)
    if (geom_.kernel[d] != 1 || geom_.stride[d] != 1 || geom_.pad_begin[d] != 0 || geom_.pad_end[d] != 0)
      return false;
  if (x_layout_ != Layout::kNHWC || y_layout_ != Layout::kNHWC || (has_residual_ && z_layout_ != Layout::kNHWC))
    return false;
  return fusable_ && weights_constant_ && tensor_ops_allowed() && out_pitch_ == channels_;
}

GemmShape ConvKernel::gemm_shape(int64_t batch) const {
  GemmShape s;
  const Shape ys = geom_.cudnn_y_shape(batch);
  s.m = ys[0] * ys[2] * ys[3];
  s.n = channels_;
  s.k = geom_.x_shape[1];
  return s;
}

// x * W^T + bias, plus the residual as cuBLASLt's C.
GemmArgs ConvKernel::gemm_args(const ConvArgs& a) {
  GemmArgs g;
  g.a = a.x;
  g.b = a.w;
  g.d = a.y;
  g.bias = a.bias;
  g.c = a.z;
  g.beta = a.z ? 1.f : 0.f;
  return g;
}

void ConvKernel::make_gemm() {
  if (gemm_) return;
  gemm_ = std::make_unique<LtGemm>();
  const bool relu = act_.kind == Activation::kRelu;
  // The zero bias stands in for a missing one, so the bias epilogue always applies.
  gemm_->configure(where_, Transpose::kNo, Transpose::kYes, relu ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias,
                   math_, half_ ? GemmData::kFloat16 : GemmData::kFloat32);
}

// The fastest few algorithms of one layout as cudnnFind ranks the bare convolution.
std::vector<ConvChoice> ConvKernel::find_candidates(ConvLayout layout, BatchDescs& d, const ConvArgs& a, void* ws,
                                                    size_t limit, CudaInitContext& ctx) {
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

}  // namespace trtcore::cuda
