// The QConv kernel's CUTLASS form (see qconv_kernel.h): the cases the cuBLASLt int8 GEMM takes, on CUTLASS's Hopper
// int8 kernels (cutlass_gemm.h), whose configurations are timed at build and checked against the direct form.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "backends/cuda/qconv_kernel.h"

namespace trtcore::cuda {
namespace {

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace

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
  // Clip(0, b) is eligible only where saturation is the upper clip, so every activation here is a ReLU
  p.lower = epi_.act.kind == Activation::kNone ? std::numeric_limits<float>::lowest() : 0.f;
  p.sm_count = sm_count_;
  return p;
}

// Runs `config` on the check's operands and compares with the direct form (matches_reference's rule).
bool QConvKernel::cutlass_matches(int config, CudaInitContext& ctx) {
  const std::string where = where_ + " (CUTLASS check)";
  if (!check_ref_.get()) make_check_reference(ctx);
  const int64_t y_n = int64_t(max_batch_) * geom_.k * geom_.oh * geom_.ow;
  DeviceBuffer y_got(size_t(y_n), where);
  const CutlassInt8Gemm p = cutlass_problem(check_x_.get(), check_r_.get(), y_got.get(), max_batch_);
  DeviceBuffer ws(cutlass_int8_workspace(config, p), where);
  if (!cutlass_int8_run(config, p, ws.get(), ctx.stream).empty()) {
    static_cast<void>(cudaGetLastError());
    return false;
  }
  return matches_reference(y_got, ctx.stream, where);
}

float QConvKernel::tune_cutlass(const Node& node, const Graph& g, CudaInitContext& ctx,
                                const std::vector<TensorView>& ins, const std::vector<TensorView>& outs) {
  constexpr float kNone = std::numeric_limits<float>::infinity();
  if (!cutlass_eligible(node, g, ctx)) return kNone;
  prepare_gemm_epilogue(node, g, ctx);
  TRTCORE_CUDA_CHECK(where_, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, ctx.device));
  const void* r = has_residual_ ? ins[9].data : nullptr;
  const CutlassInt8Gemm p = cutlass_problem(ins[0].data, r, outs[0].data, max_batch_);
  std::vector<std::pair<float, int>> timed;
  for (int config = 0; config < cutlass_int8_config_count(); ++config) {
    if (!cutlass_int8_prepare(config, p).empty()) continue;  // a configuration that does not take this problem
    const size_t ws_bytes = cutlass_int8_workspace(config, p);
    if (ws_bytes > ctx.workspace_limit) continue;
    DeviceBuffer ws(ws_bytes, where_ + " (CUTLASS workspace)");
    const bool launched = cutlass_int8_run(config, p, ws.get(), ctx.stream).empty();
    if (!launched || cudaStreamSynchronize(ctx.stream) != cudaSuccess) {
      static_cast<void>(cudaGetLastError());
      continue;
    }
    const float ms = time_ms([&] { static_cast<void>(cutlass_int8_run(config, p, ws.get(), ctx.stream)); },
                             ctx.stream);
    timed.emplace_back(ms, config);
  }
  // the fastest configuration whose output agrees with the direct form's (one check for a correct kernel)
  std::sort(timed.begin(), timed.end());
  for (const auto& [ms, config] : timed) {
    if (!cutlass_matches(config, ctx)) continue;
    cutlass_config_ = config;
    cutlass_ws_ = cutlass_int8_workspace(config, p);
    return ms;
  }
  return kNone;
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
  // the problem at the maximum batch, on stand-in addresses: only its shape is looked at
  const CutlassInt8Gemm p = cutlass_problem(lt_weights_, has_residual_ ? lt_weights_ : nullptr,
                                            const_cast<void*>(lt_weights_), max_batch_);
  if (!cutlass_int8_prepare(found, p).empty()) return false;
  cutlass_config_ = found;
  cutlass_ws_ = cutlass_int8_workspace(found, p);
  return true;
}

void QConvKernel::run_cutlass(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                              size_t ws_bytes, cudaStream_t stream) {
  const void* r = has_residual_ ? in[9].data : nullptr;
  const CutlassInt8Gemm p = cutlass_problem(in[0].data, r, out[0].data, in[0].shape[0]);
  // TMA reads and writes whole 16-byte units: an operand placed otherwise (never by the activation arena) and
  // scratch smaller than this batch's run the direct form
  if (!aligned16(p.a) || !aligned16(p.d) || (r && !aligned16(r)) ||
      cutlass_int8_workspace(cutlass_config_, p) > ws_bytes) {
    launch_direct(in, out, stream);
    return;
  }
  const std::string why = cutlass_int8_run(cutlass_config_, p, ws, stream);
  if (!why.empty())
    fail(ErrorKind::kRuntime, where_, ": CUTLASS int8 GEMM ", cutlass_int8_config_name(cutlass_config_), ": ", why);
}

}  // namespace trtcore::cuda
