// The cuda QConv kernel (ops/qconv.cpp's inputs: x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero, bias,
// residual [, r_scale, r_zero]; the residual float or 8-bit). Tactics, timed at build and recorded in the plan:
//   "i8-direct"          one thread per output element, dp4a over 4 channels where the layout allows; any shape;
//   "i8-lt:h<i>"         a 1x1, stride-1, dense convolution between NHWC int8 tensors as one cuBLASLt int8 GEMM
//                        (tensor cores) with the per-channel scale as its alpha vector, an int8 residual as its C
//                        operand (beta = r_scale / y_scale) and bias/ReLU in the epilogue;
//   "i8-graph:<config>"  an ungrouped convolution on cuDNN's graph API: int8 NHWC x and KRSC weights, INT32
//                        accumulation, per-channel scale, bias, residual and activation in float, int8 (or float)
//                        NHWC y (qconv_graph.cu). Its engines are checked against the direct form at build.
//   "i8-cutlass:<config>" the i8-lt cases with N and K multiples of 16, on SM 9.0: a CUTLASS Hopper int8 GEMM
//                        (wgmma, TMA) of the tile/cluster configuration named, the same epilogue in its visitor
//                        tree (qconv_cutlass.cu, cutlass_gemm.h); checked against the direct form at build.
//   "i8-cutlass-conv:<config>" the graph form's convolutions (any filter size, stride, padding, dilation) with the
//                        i8-cutlass epilogue's constraints and channels in multiples of 16, on SM 9.0: a CUTLASS Hopper
//                        int8 implicit-GEMM convolution (TMA im2col, wgmma) with the same epilogue tree
//                        (qconv_cutlass.cu, cutlass_conv.h); checked against the direct form at build.
// qconv.cu holds the direct and cuBLASLt forms, qconv_graph.cu the graph form, qconv_cutlass.cu the CUTLASS forms.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "backends/cuda/cudnn_graph.h"
#include "backends/cuda/cutlass_conv.h"
#include "backends/cuda/cutlass_gemm.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/layout_strides.h"
#include "backends/cuda/lt_gemm.h"

namespace trtcore::cuda {

struct QConvGeom {
  int32_t c = 0, h = 0, w = 0;  // input channels and size
  int32_t k = 0, oh = 0, ow = 0;
  int32_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int32_t pe_h = 0, pe_w = 0;  // end paddings
  int32_t cg = 0, kg = 0;      // input and output channels per group
  Strides4 xs, ys, rs;
  bool vec4 = false;  // x is NHWC with 4-aligned group channels: dp4a on 32-bit loads
};

struct QConvEpilogue {
  const float* mult = nullptr;  // [K] x_scale * w_scale[k]
  const float* bias = nullptr;  // [K] or null
  int32_t x_zp = 0;             // the zero point in the signed form the kernel computes with
  bool flip = false;            // uint8 data: x ^ 0x80 is its signed form (x - 128)
  bool quantized = false;
  float ys = 1.f, y_zp = 0.f, lo = 0.f, hi = 0.f;  // output scale (divided by, as QuantizeLinear does)
  float ys_inv = 1.f;  // 1 / ys, for quotient_for_rint
  float r_scale = 1.f, r_zp = 0.f;  // an 8-bit residual's scale and zero point (a float one is added as stored)
  DeviceActivation act;
};

namespace qconv {
inline bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }
inline bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }
inline bool present(const Node& n, size_t k) { return k < n.inputs.size() && n.inputs[k] >= 0; }
}  // namespace qconv

// The depthwise tactic's kernels: four channels a thread (i8-dw4), eight channels by four outputs (i8-dw8), or eight
// channels of one output (i8-dw8p).
enum class DwForm { kQuad, kTile8, kPixel8 };

enum class QConvTactic { kDirect, kLt, kGraph, kCutlass, kDepthwise, kCutlassConv };

class QConvKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override;
  LayoutRule layout_rule(const Node&, const Graph&) const override { return LayoutRule::kAnyLayout; }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override;
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override;

  size_t workspace_size() const override;
  size_t weights_bytes() const override {
    return packed_.bytes() + mult_.bytes() + bias_.bytes() + lt_alpha_.bytes() + lt_bias_.bytes() +
           graph_scale_.bytes() + graph_bias_.bytes() + dw_weights_.bytes();
  }
  std::string tactic() const override;
  std::string precision() const override { return "int8"; }

 private:
  // ---- qconv.cu: the direct and GEMM forms ----
  void scaled_epilogue(const Node& node, const Graph& g, float divisor, std::vector<float>* scale,
                       std::vector<float>* bias) const;
  bool lt_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const;
  // The int8 GEMM epilogue's cases (int8 NHWC in and out, zero points 0, an int8 residual, a ReLU at most).
  bool int8_epilogue_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const;
  void prepare_gemm_epilogue(const Node& node, const Graph& g, CudaInitContext& ctx);
  void prepare_lt(const Node& node, const Graph& g, CudaInitContext& ctx);
  GemmArgs lt_args(const void* x, const void* r, void* y) const;
  void launch_direct(const std::vector<TensorView>& in, const std::vector<TensorView>& out, cudaStream_t stream);
  void run_lt(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws, size_t ws_bytes,
              cublasLtHandle_t h, cudaStream_t stream);
  float time_ms(const std::function<void()>& enqueue, cudaStream_t stream);

  // ---- qconv_cutlass.cu: the CUTLASS forms (GEMM and implicit-GEMM convolution) ----
  // A form's configurations as the tuner sees them, on the tuning or the check's operands.
  struct CutlassForm {
    int count = 0;
    std::function<std::string(int config)> tactic;   // the tactic text of a configuration
    std::function<std::string(int config)> prepare;  // "" when the configuration takes the layer
    std::function<size_t(int config)> workspace;
    std::function<std::string(int config, const void* x, const void* r, void* y, void* ws, cudaStream_t)> run;
  };
  // Times every configuration of `form` that takes the layer on the tuning operands and keeps the fastest whose
  // output matches the direct form's: its time (infinity when none) and *chosen.
  float tune_cutlass_form(const CutlassForm& form, CudaInitContext& ctx, const std::vector<TensorView>& ins,
                          const std::vector<TensorView>& outs, int* chosen);
  bool cutlass_form_matches(const CutlassForm& form, int config, CudaInitContext& ctx);
  float cutlass_lower() const;  // the epilogue clamp's lower bound

  bool cutlass_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const;
  // Build: times every configuration on the tuning operands, keeps the fastest whose output matches the direct
  // form's; returns its time (infinity when none). Load: prepares the recorded configuration.
  float tune_cutlass(const Node& node, const Graph& g, CudaInitContext& ctx, const std::vector<TensorView>& ins,
                     const std::vector<TensorView>& outs);
  bool reuse_cutlass(const Node& node, const Graph& g, CudaInitContext& ctx, const std::string& config);
  CutlassInt8Gemm cutlass_problem(const void* x, const void* r, void* y, int64_t batch) const;
  CutlassForm cutlass_gemm_form(int64_t batch) const;
  void run_cutlass(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws, size_t ws_bytes,
                   cudaStream_t stream);

  // ---- qconv_depthwise.cu: the depthwise form ----
  bool dw_eligible(const CudaInitContext& ctx) const;
  bool dw8_eligible(const CudaInitContext& ctx) const;
  void prepare_dw(const Node& node, const Graph& g);
  void launch_dw(const std::vector<TensorView>& in, const std::vector<TensorView>& out, cudaStream_t stream);
  bool cutlass_conv_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const;
  float tune_cutlass_conv(const Node& node, const Graph& g, CudaInitContext& ctx, const std::vector<TensorView>& ins,
                          const std::vector<TensorView>& outs);
  bool reuse_cutlass_conv(const Node& node, const Graph& g, CudaInitContext& ctx, const std::string& config);
  CutlassInt8Conv cutlass_conv_problem(const void* x, const void* r, void* y, int64_t batch) const;
  CutlassForm cutlass_conv_form(int64_t batch) const;
  void run_cutlass_conv(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                        size_t ws_bytes, cudaStream_t stream);

  // ---- qconv_graph.cu: the graph-API form ----
  bool graph_spec(const Node& node, const Graph& g, const CudaInitContext& ctx, GraphConvSpec* spec) const;
  // Build: times the configurations cuDNN proposes whose output matches the direct form's; returns the fastest
  // time (infinity when none) and keeps its plan. Load: rebuilds the recorded configuration.
  float tune_graph(const Node& node, const Graph& g, CudaInitContext& ctx);
  bool reuse_graph(const Node& node, const Graph& g, CudaInitContext& ctx, const std::string& config);
  bool graph_matches(GraphPlan* plan, CudaInitContext& ctx);
  // The check's operands (check_x_, check_r_) and the direct form's output on them (check_ref_), and whether an
  // output `y_got` computed from those operands agrees with it.
  void make_check_reference(CudaInitContext& ctx);
  bool matches_reference(const DeviceBuffer& y_got, cudaStream_t stream, const std::string& where);
  void drop_check_reference();
  GraphPlan* graph_plan_at(cudnnHandle_t h, int64_t batch);
  void run_graph(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx);
  GraphConvPtrs graph_ptrs(const void* x, const void* z, void* y, void* ws) const;

  std::string where_;
  QConvGeom geom_;
  QConvEpilogue epi_;
  Layout x_layout_ = Layout::kNCHW, y_layout_ = Layout::kNCHW, r_layout_ = Layout::kNCHW;
  DType x_type_ = DType::kInt8, y_type_ = DType::kInt8, r_type_ = DType::kFloat32;
  int64_t max_batch_ = 0;
  bool has_residual_ = false;
  DeviceBuffer packed_, mult_, bias_;  // packed_: [K][kh][kw][cg] (KRSC when ungrouped)
  QConvTactic tactic_ = QConvTactic::kDirect;
  LtGemm lt_;
  DeviceBuffer lt_alpha_, lt_bias_;  // x_scale * w_scale[k] / y_scale and bias[k] / y_scale
  const void* lt_weights_ = nullptr;  // the int8 [K, C] constant as uploaded
  float lt_beta_ = 0.f;               // r_scale / y_scale: the int8 residual's weight as the GEMM's C
  std::unique_ptr<GraphConvPlans> graph_;
  DeviceBuffer check_x_, check_r_, check_ref_;  // graph engine check: operands and the direct form's output
  EngineConfig graph_cfg_;
  std::map<int64_t, GraphPlan*> graph_by_batch_;  // plans of graph_cfg_ (null: this batch runs the direct form)
  DeviceBuffer graph_scale_, graph_bias_;          // the epilogue's scale and bias, divided by y_scale if quantized
  size_t graph_ws_ = 0;
  int cutlass_config_ = -1;   // index into cutlass_gemm.h's configurations
  int sm_count_ = 0;
  size_t cutlass_ws_ = 0;     // the chosen configuration's scratch at the maximum batch
  DeviceBuffer dw_weights_;   // the depthwise forms' weights, [taps][K], then the pixel form's dp4a words
  DwForm dw_form_ = DwForm::kQuad;
  int cutlass_conv_config_ = -1;  // index into cutlass_conv.h's configurations
  size_t cutlass_conv_ws_ = 0;
};

}  // namespace trtcore::cuda
