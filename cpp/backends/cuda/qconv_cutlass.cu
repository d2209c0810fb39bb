// The QConv kernel's CUTLASS forms (see qconv_kernel.h): the cases the cuBLASLt int8 GEMM takes on CUTLASS's Hopper
// int8 GEMMs (cutlass_gemm.h), and the graph form's convolutions with the same epilogue on its implicit-GEMM
// convolutions (cutlass_conv.h). Their configurations are timed at build and checked against the direct form.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "backends/cuda/qconv_kernel.h"

namespace trtcore::cuda {
namespace {


constexpr float kNone = std::numeric_limits<float>::infinity();

}  // namespace

// Clip(0, b) is eligible only where saturation is the upper clip, so every activation here is a ReLU.
float QConvKernel::cutlass_lower() const {
  return epi_.act.kind == Activation::kNone ? std::numeric_limits<float>::lowest() : 0.f;
}

// Runs `config` on the check's operands and compares with the direct form (matches_reference's rule).
bool QConvKernel::cutlass_form_matches(const CutlassForm& form, int config, CudaInitContext& ctx) {
  const std::string where = where_ + " (CUTLASS check)";
  if (!check_ref_.get()) make_check_reference(ctx);
  const int64_t y_n = int64_t(max_batch_) * geom_.k * geom_.oh * geom_.ow;
  DeviceBuffer y_got(size_t(y_n), where);
  DeviceBuffer ws(form.workspace(config), where);
  if (!form.run(config, check_x_.get(), check_r_.get(), y_got.get(), ws.get(), ctx.stream).empty()) {
    static_cast<void>(cudaGetLastError());
    return false;
  }
  return matches_reference(y_got, ctx.stream, where);
}

float QConvKernel::tune_cutlass_form(const CutlassForm& form, CudaInitContext& ctx,
                                     const std::vector<TensorView>& ins, const std::vector<TensorView>& outs,
                                     int* chosen) {
  const void* r = has_residual_ ? ins[9].data : nullptr;
  std::vector<std::pair<float, int>> timed;
  for (int config = 0; config < form.count; ++config) {
    const std::string refused = form.prepare(config);
    if (!refused.empty()) {  // a configuration that does not take this layer
      ctx.record(form.tactic(config), kNone, "refused: " + refused);
      continue;
    }
    const size_t ws_bytes = form.workspace(config);
    if (ws_bytes > ctx.workspace_limit) {
      ctx.record(form.tactic(config), kNone, "refused: scratch over the workspace limit");
      continue;
    }
    DeviceBuffer ws(ws_bytes, where_ + " (CUTLASS workspace)");
    const auto enqueue = [&] { return form.run(config, ins[0].data, r, outs[0].data, ws.get(), ctx.stream); };
    const std::string failed = enqueue();
    if (!failed.empty() || cudaStreamSynchronize(ctx.stream) != cudaSuccess) {
      static_cast<void>(cudaGetLastError());
      ctx.record(form.tactic(config), kNone, "failed: " + (failed.empty() ? std::string("launch") : failed));
      continue;
    }
    timed.emplace_back(time_ms([&] { static_cast<void>(enqueue()); }, ctx.stream), config);
  }
  // the fastest configuration whose output agrees with the direct form's (one check for a correct kernel)
  std::sort(timed.begin(), timed.end());
  float best = kNone;
  for (const auto& [ms, config] : timed) {
    if (best == kNone && cutlass_form_matches(form, config, ctx)) {
      *chosen = config;
      best = ms;
      ctx.record(form.tactic(config), ms);
    } else {
      ctx.record(form.tactic(config), ms, best == kNone ? "output differs from the direct form's" : "");
    }
  }
  return best;
}

// ---- the int8 GEMM: 1x1, stride-1 convolutions ----

// The int8 GEMM cases (see lt_eligible) whose rows are whole 16-byte units, written densely, on an SM 9.0 device.
bool QConvKernel::cutlass_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const {
  if (cutlass_int8_config_count() == 0 || ctx.sm_major != 9 || ctx.out_slice(0) != 0) return false;
  return cutlass_int8_shape_ok(geom_.k, geom_.c) && lt_eligible(node, g, ctx);
}

CutlassInt8Gemm QConvKernel::cutlass_problem(const void* x, const void* r, void* y, int64_t batch) const {
  CutlassInt8Gemm p;
  p.m = batch * int64_t(geom_.h) * geom_.w;  // pixels
  p.n = geom_.k;
  p.k = geom_.c;
  p.a = x;
  p.b = lt_weights_;
  p.c = has_residual_ ? r : nullptr;
  p.d = y;
  p.alpha = lt_alpha_.as<float>();
  p.bias = lt_bias_.as<float>();
  p.beta = has_residual_ ? lt_beta_ : 0.f;
  p.lower = cutlass_lower();
  p.sm_count = sm_count_;
  return p;
}

// The GEMM's configurations at `batch`; run() takes its operands, the others look at the shape only.
QConvKernel::CutlassForm QConvKernel::cutlass_gemm_form(int64_t batch) const {
  const CutlassInt8Gemm shape = cutlass_problem(lt_weights_, has_residual_ ? lt_weights_ : nullptr,
                                                const_cast<void*>(lt_weights_), batch);
  CutlassForm f;
  f.count = cutlass_int8_config_count();
  f.tactic = [](int config) { return "i8-cutlass:" + cutlass_int8_config_name(config); };
  f.prepare = [shape](int config) { return cutlass_int8_prepare(config, shape); };
  f.workspace = [shape](int config) { return cutlass_int8_workspace(config, shape); };
  f.run = [this, batch](int config, const void* x, const void* r, void* y, void* ws, cudaStream_t stream) {
    return cutlass_int8_run(config, cutlass_problem(x, r, y, batch), ws, stream);
  };
  return f;
}

float QConvKernel::tune_cutlass(const Node& node, const Graph& g, CudaInitContext& ctx,
                                const std::vector<TensorView>& ins, const std::vector<TensorView>& outs) {
  if (!cutlass_eligible(node, g, ctx)) return kNone;
  prepare_gemm_epilogue(node, g, ctx);
  TRTCORE_CUDA_CHECK(where_, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ctx.device));
  const CutlassForm form = cutlass_gemm_form(max_batch_);
  const float ms = tune_cutlass_form(form, ctx, ins, outs, &cutlass_config_);
  if (ms < kNone) cutlass_ws_ = form.workspace(cutlass_config_);
  return ms;
}

// The recorded configuration, where this build has it and the layer still qualifies (else the direct form runs).
bool QConvKernel::reuse_cutlass(const Node& node, const Graph& g, CudaInitContext& ctx, const std::string& config) {
  if (!cutlass_eligible(node, g, ctx)) return false;
  int found = -1;
  for (int c = 0; c < cutlass_int8_config_count(); ++c)
    if (cutlass_int8_config_name(c) == config) found = c;
  if (found < 0) return false;
  prepare_gemm_epilogue(node, g, ctx);
  TRTCORE_CUDA_CHECK(where_, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ctx.device));
  const CutlassForm form = cutlass_gemm_form(max_batch_);
  if (!form.prepare(found).empty()) return false;
  cutlass_config_ = found;
  cutlass_ws_ = form.workspace(found);
  return true;
}

void QConvKernel::run_cutlass(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                              size_t ws_bytes, cudaStream_t stream) {
  const void* r = has_residual_ ? in[9].data : nullptr;
  const CutlassInt8Gemm p = cutlass_problem(in[0].data, r, out[0].data, in[0].shape[0]);
  // TMA reads and writes whole 16-byte units: an operand placed otherwise (never by the activation arena) and
  // scratch smaller than this batch's run the direct form
  if (!aligned(p.a, 16) || !aligned(p.d, 16) || (r && !aligned(r, 16)) ||
      cutlass_int8_workspace(cutlass_config_, p) > ws_bytes) {
    launch_direct(in, out, stream);
    return;
  }
  const std::string why = cutlass_int8_run(cutlass_config_, p, ws, stream);
  if (!why.empty())
    fail(ErrorKind::kRuntime, where_, ": CUTLASS int8 GEMM ", cutlass_int8_config_name(cutlass_config_), ": ", why);
}

// ---- the implicit-GEMM convolution: the graph form's ungrouped convolutions ----

// Ungrouped convolutions with the int8 GEMM's epilogue cases and channels in whole 16-byte units, written densely,
// on an SM 9.0 device; CUTLASS's can_implement (cutlass_conv_prepare) judges paddings and filter extents.
bool QConvKernel::cutlass_conv_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const {
  if (cutlass_conv_config_count() == 0 || ctx.sm_major != 9 || ctx.out_slice(0) != 0) return false;
  if (geom_.cg != geom_.c || geom_.kg != geom_.k || !cutlass_conv_channels_ok(geom_.c, geom_.k)) return false;
  return int8_epilogue_eligible(node, g, ctx);
}

CutlassInt8Conv QConvKernel::cutlass_conv_problem(const void* x, const void* r, void* y, int64_t batch) const {
  CutlassInt8Conv p;
  p.n = int32_t(batch);
  p.h = geom_.h, p.w = geom_.w, p.c = geom_.c;
  p.k = geom_.k, p.r = geom_.kh, p.s = geom_.kw;
  p.p = geom_.oh, p.q = geom_.ow;
  p.stride_h = geom_.sh, p.stride_w = geom_.sw;
  p.dilation_h = geom_.dh, p.dilation_w = geom_.dw;
  p.pad_top = geom_.ph, p.pad_left = geom_.pw, p.pad_bottom = geom_.pe_h, p.pad_right = geom_.pe_w;
  p.x = x;
  p.weights = packed_.get();  // KRSC
  p.z = has_residual_ ? r : nullptr;
  p.y = y;
  p.alpha = lt_alpha_.as<float>();
  p.bias = lt_bias_.as<float>();
  p.beta = has_residual_ ? lt_beta_ : 0.f;
  p.lower = cutlass_lower();
  p.sm_count = sm_count_;
  return p;
}

// The convolution's configurations at `batch`; run() takes its operands, the others look at the shape only.
QConvKernel::CutlassForm QConvKernel::cutlass_conv_form(int64_t batch) const {
  const void* stand_in = packed_.get();
  const CutlassInt8Conv shape =
      cutlass_conv_problem(stand_in, has_residual_ ? stand_in : nullptr, const_cast<void*>(stand_in), batch);
  CutlassForm f;
  f.count = cutlass_conv_config_count();
  f.tactic = [](int config) { return "i8-cutlass-conv:" + cutlass_conv_config_name(config); };
  f.prepare = [shape](int config) { return cutlass_conv_prepare(config, shape); };
  f.workspace = [shape](int config) { return cutlass_conv_workspace(config, shape); };
  f.run = [this, batch](int config, const void* x, const void* r, void* y, void* ws, cudaStream_t stream) {
    return cutlass_conv_run(config, cutlass_conv_problem(x, r, y, batch), ws, stream);
  };
  return f;
}

float QConvKernel::tune_cutlass_conv(const Node& node, const Graph& g, CudaInitContext& ctx,
                                     const std::vector<TensorView>& ins, const std::vector<TensorView>& outs) {
  if (!cutlass_conv_eligible(node, g, ctx)) {
    if (cutlass_conv_config_count() > 0 && ctx.sm_major == 9)
      ctx.record("i8-cutlass-conv", kNone, "refused: needs ungrouped int8 NHWC in and out, channels in sixteens");
    return kNone;
  }
  prepare_gemm_epilogue(node, g, ctx);
  TRTCORE_CUDA_CHECK(where_, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ctx.device));
  const CutlassForm form = cutlass_conv_form(max_batch_);
  const float ms = tune_cutlass_form(form, ctx, ins, outs, &cutlass_conv_config_);
  if (ms < kNone) cutlass_conv_ws_ = form.workspace(cutlass_conv_config_);
  return ms;
}

// The recorded configuration, where this build has it and the layer still qualifies (else the direct form runs).
bool QConvKernel::reuse_cutlass_conv(const Node& node, const Graph& g, CudaInitContext& ctx,
                                     const std::string& config) {
  if (!cutlass_conv_eligible(node, g, ctx)) return false;
  int found = -1;
  for (int c = 0; c < cutlass_conv_config_count(); ++c)
    if (cutlass_conv_config_name(c) == config) found = c;
  if (found < 0) return false;
  prepare_gemm_epilogue(node, g, ctx);
  TRTCORE_CUDA_CHECK(where_, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ctx.device));
  const CutlassForm form = cutlass_conv_form(max_batch_);
  if (!form.prepare(found).empty()) return false;
  cutlass_conv_config_ = found;
  cutlass_conv_ws_ = form.workspace(found);
  return true;
}

void QConvKernel::run_cutlass_conv(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                                   size_t ws_bytes, cudaStream_t stream) {
  const void* r = has_residual_ ? in[9].data : nullptr;
  const CutlassInt8Conv p = cutlass_conv_problem(in[0].data, r, out[0].data, in[0].shape[0]);
  // as run_cutlass: operands TMA cannot address and too little scratch run the direct form
  if (!aligned(p.x, 16) || !aligned(p.y, 16) || (r && !aligned(r, 16)) ||
      cutlass_conv_workspace(cutlass_conv_config_, p) > ws_bytes) {
    launch_direct(in, out, stream);
    return;
  }
  const std::string why = cutlass_conv_run(cutlass_conv_config_, p, ws, stream);
  if (!why.empty())
    fail(ErrorKind::kRuntime, where_, ": CUTLASS int8 convolution ", cutlass_conv_config_name(cutlass_conv_config_),
         ": ", why);
}

}  // namespace trtcore::cuda
