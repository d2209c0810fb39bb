// Conv (1-D/2-D/3-D, groups, dilation, fused bias + optional residual + activation) on cuDNN.
// Asymmetric pads are applied explicitly into the workspace first. At build every candidate form is timed on the
// real shapes with CUDA events and the fastest is stored as the tactic "<form>:<algorithm>[+tc][+epi]":
//   fused       cudnnConvolutionBiasActivationForward (bias, residual and ReLU/identity in one call)
//   conv        cudnnConvolutionForward, then our epilogue kernel when anything is fused ("+epi")
//   nhwc-fused / nhwc-conv   tensor-core math only (float16, or float32 with TF32): the same in NHWC; operands the
//                            executable stores NCHW are converted in the workspace, NHWC-stored ones are used directly
//   dw-direct   depthwise convolutions: our direct kernel with the whole epilogue fused, in any storage layout;
//               "dw-direct:tile8" / "dw-direct:half2" fix its float16 NHWC variant; "dw-direct:pixel8" (one
//               pixel a thread) is timed beside the size-picked one
//   small-direct  ungrouped convolutions with a short reduction (C x kH x kW <= 32: RGB stems): our direct kernel
//               (conv_small.h), the whole epilogue fused, any storage layout
//   gemm:h<i>   1x1, stride-1, unpadded convolutions on NHWC activations: one cuBLASLt GEMM [N*H*W, C] x W^T with
//               bias, residual (as C) and ReLU in its epilogue
//   graph:e<engine>[.k<knob>_<value>]...  ungrouped 2-D convolutions on NHWC activations: one cuDNN graph-API plan
//               (conv, bias, residual and the activation fused) of the engine configuration named; chosen only when
//               its output matched a legacy form's at build. "graph:heuristic" (never chosen by tuning) fixes the form
//               with the first configuration cuDNN proposes
// The class is spread over four files: conv.cu (init, run and the forms themselves), conv_tactics.cu (the tactic
// text, the choice at load or by heuristic, the candidate forms), conv_tune.cu (timing the candidates at build) and
// conv_graph.cu (the graph-API form and the numerical check of its engines).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/conv_common.h"
#include "backends/cuda/cudnn_graph.h"
#include "backends/cuda/cudnn_util.h"
#include "backends/cuda/conv_small.h"
#include "backends/cuda/depthwise_conv.h"
#include "backends/cuda/lt_gemm.h"

namespace trtcore::cuda {

constexpr size_t align256(size_t b) { return (b + 255) / 256 * 256; }

enum class ConvForm { kFused, kSplit, kDepthwise, kGemm, kGraph, kSmall };
// Forms that run our own kernel on the stored operands: no cuDNN descriptors, no scratch, any batch.
inline bool own_kernel(ConvForm f) { return f == ConvForm::kDepthwise || f == ConvForm::kSmall; }
enum class ConvLayout { kNchw, kNhwc };

struct ConvChoice {
  ConvForm form = ConvForm::kSplit;
  ConvLayout layout = ConvLayout::kNchw;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  EngineConfig graph;  // kGraph: the engine configuration
  DepthwiseTile dw_tile = DepthwiseTile::kAuto;  // kDepthwise: the float16 NHWC kernel, when fixed
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

class ConvKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override;
  // 2-D convolutions with constant weights and symmetric pads read and write NHWC activations directly (the
  // executable asks this of tensor-core precisions only). Grouped ones stay NCHW (cuDNN's NHWC grouped kernels are
  // not reliably faster) except depthwise ones, which our direct kernel runs in any layout.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override;
  // 2-D convolutions without a residual input write a Concat's channel slice through strided cuDNN descriptors.
  bool accepts_output_slice(const Node& node, const Graph& g) const override;
  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override;

  // Channels of the Concat buffer this output is written into, or 0 when it is dense (see accepts_output_slice).
  int64_t output_slice() const override { return out_pitch_ != channels_ ? out_pitch_ : 0; }
  // cuBLASLt reads C (the residual) and writes D element by element: D may be C.
  int output_over_input() const override { return choice_.form == ConvForm::kGemm && has_residual_ ? 3 : -1; }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override;

  size_t workspace_size() const override;
  size_t weights_bytes() const override {
    return zero_bias_.bytes() + w_nhwc_.bytes() + w_dw_.bytes() + w_small_.bytes();
  }
  std::string tactic() const override;
  std::string tactic_of(const ConvChoice& c) const;  // the text tactic() gives for choice `c`
  std::string precision() const override;

 private:
  struct BatchDescs {
    TensorDesc x, y;      // NCHW, as the graph stores them
    TensorDesc xh, yh;    // NHWC staging (only when the layout is nhwc)
    ConvChoice choice;
    size_t ws = 0;
    GraphPlan* graph = nullptr;  // kGraph: the plan of this batch size (owned by graph_)
    bool ready = false;
  };

  // Scratch operands of the tuning runs at the maximum batch (contents do not matter for timing).
  struct TuneBuffers {
    size_t limit = 0;  // scratch a candidate may use
    DeviceBuffer x, y, z, b, ws, w_tmp;
    ConvArgs args;
  };
  struct Timed {
    ConvChoice choice;
    float ms;
    size_t scratch;
  };

  bool needs_epilogue() const { return has_bias_ || has_residual_ || act_.kind != Activation::kNone; }
  // Float16 data always may use tensor cores (FP32 accumulation); float32 only when TF32 is allowed.
  bool tensor_ops_allowed() const { return half_ || math_ == Fp32Math::kTF32; }
  cudnnMathType_t base_math() const { return half_ ? CUDNN_TENSOR_OP_MATH : cudnn_math(math_); }
  bool math_allowed(cudnnMathType_t m) const {
    return tensor_ops_allowed() || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
  }

  // ---- conv.cu: weights, descriptors and the forms themselves ----
  static bool is_depthwise(const ConvGeometry& geom, const Shape& w);
  void prepare_depthwise(const Node& node, const Graph& g);
  void prepare_nhwc(const Node& node, CudaInitContext& ctx);
  DirectConvIo direct_io(const ConvArgs& a) const;  // the operands our own kernels share
  void launch_direct(const ConvArgs& a, cudaStream_t stream, DepthwiseTile tile);
  // The one-pixel float16 NHWC depthwise kernel's conditions (depthwise_conv.h's kPixel) but alignment.
  bool depthwise_pixel_possible() const;
  // The short-reduction direct form (conv_small.h): its shape, whether it applies, its weights, its launch.
  SmallConvShape small_shape(int64_t batch) const;
  bool small_possible(const Node& node, const Graph& g) const;
  void prepare_small(const Node& node, const Graph& g);
  void launch_small(const ConvArgs& a, cudaStream_t stream);
  BatchDescs& descs_for(int64_t batch);
  TensorDesc make_strided_desc(const Shape& s, Layout layout) const;
  TensorDesc make_nhwc_desc(const Shape& s) const;
  size_t staging_bytes(int64_t batch, ConvLayout layout) const;
  cudnnStatus_t workspace_for(cudnnHandle_t h, const BatchDescs& d, ConvLayout layout, cudnnConvolutionFwdAlgo_t algo,
                              size_t* bytes) const;
  std::vector<cudnnConvolutionFwdAlgoPerf_t> heuristic_algos(cudnnHandle_t h, const BatchDescs& d, bool nhwc) const;
  bool set_math(cudnnMathType_t m);
  cudnnStatus_t enqueue(const ConvChoice& c, const BatchDescs& d, const ConvArgs& a, cudnnHandle_t h,
                        cudaStream_t stream);
  template <class T>
  void launch_epilogue(void* y, const void* bias, const void* z, int64_t n, int64_t spatial, int64_t pitch,
                       bool nhwc, cudaStream_t stream);
  void finish_descs(const CudaRunContext& ctx, BatchDescs& d, int64_t batch);

  // ---- conv_tactics.cu: the tactic text, choosing without timing, the candidate forms ----
  bool gemm_possible() const;
  GemmShape gemm_shape(int64_t batch) const;
  static GemmArgs gemm_args(const ConvArgs& a);
  void make_gemm();
  bool parse_tactic(const std::string& t);
  bool select(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d);
  bool choice_valid(CudaInitContext& ctx, const BatchDescs& d);
  void choose_heuristic(CudaInitContext& ctx, BatchDescs& d);
  std::vector<ConvChoice> find_candidates(ConvLayout layout, BatchDescs& d, const ConvArgs& a, void* ws, size_t limit,
                                          CudaInitContext& ctx);

  // ---- conv_graph.cu: the graph-API form ----
  bool graph_possible() const;
  bool graph_spec(int64_t batch, GraphConvSpec* spec) const;
  GraphConvPlans* graph_forms();
  const GraphConv* graph_conv(cudnnHandle_t h, int64_t batch);
  GraphPlan* graph_plan(cudnnHandle_t h, int64_t batch, const EngineConfig& cfg, std::string* why);
  std::vector<ConvChoice> graph_candidates(CudaInitContext& ctx, size_t limit);
  GraphPlan* graph_reuse(CudaInitContext& ctx);
  cudnnStatus_t enqueue_graph(const BatchDescs& d, const ConvArgs& a, cudnnHandle_t h);
  bool graph_matches(const ConvChoice& graph, const ConvChoice& ref, BatchDescs& d, TuneBuffers& t,
                     CudaInitContext& ctx);
  void keep_graph_plan(int64_t batch, const EngineConfig* cfg);

  // ---- conv_tune.cu: timing the candidates at build ----
  float time_choice(const ConvChoice& c, BatchDescs& d, ConvArgs a, size_t limit, CudaInitContext& ctx,
                    size_t* scratch);
  TuneBuffers tune_buffers(const Node& node, const Graph& g, CudaInitContext& ctx);
  std::vector<Timed> time_candidates(CudaInitContext& ctx, BatchDescs& d, const TuneBuffers& t);
  bool tune(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d);
  bool choose_timed(const std::vector<Timed>& timed);

  std::string where_;
  FusedActivation act_;
  ConvGeometry geom_;
  Shape w_shape_;
  bool has_bias_ = false, has_residual_ = false, fusable_ = false, nhwc_possible_ = false;
  Layout x_layout_ = Layout::kNCHW, y_layout_ = Layout::kNCHW, z_layout_ = Layout::kNCHW;  // as stored
  bool fixed_nhwc_ = false;  // some operand is stored NHWC: the convolution always runs in NHWC
  bool depthwise_ = false;   // the direct depthwise kernel applies
  bool small_ = false;       // the short-reduction direct form applies
  DeviceBuffer w_small_;     // its weights, [taps * C][K] float32
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
  // The graph-API form: operation graphs and finalized plans by batch size (plans by engine configuration text).
  std::unique_ptr<GraphConvPlans> graph_;
};

}  // namespace trtcore::cuda
