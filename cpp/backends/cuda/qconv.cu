// QConv (ops/qconv.cpp's inputs): int8 x int8 -> int32 convolution, then per output channel
// y = acc' * x_scale * w_scale[m] + bias, the residual and activation in float, and requantization to int8/uint8
// (or a float output), as the cpu reference (backends/cpu/qconv.cpp) computes it. Tactics (see qconv_kernel.h):
// the direct dp4a kernel and the cuBLASLt int8 GEMM here, the cuDNN graph-API form in qconv_graph.cu, the CUTLASS
// GEMM and convolution forms in qconv_cutlass.cu.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cuda/qconv_kernel.h"
#include "ops/window.h"

namespace trtcore::cuda {
namespace {

template <class X>
__device__ __forceinline__ int32_t signed_byte(X v, bool flip) {
  return flip ? int32_t(uint8_t(v)) - 128 : int32_t(int8_t(v));
}

template <class T> __device__ __forceinline__ T store_out(float v, const QConvEpilogue& e);
template <> __device__ __forceinline__ float store_out<float>(float v, const QConvEpilogue&) { return v; }
template <> __device__ __forceinline__ __half store_out<__half>(float v, const QConvEpilogue&) {
  return __float2half_rn(v);
}
template <> __device__ __forceinline__ int8_t store_out<int8_t>(float v, const QConvEpilogue& e) {
  return int8_t(fminf(fmaxf(rintf(quotient_for_rint(v, e.ys, e.ys_inv)) + e.y_zp, e.lo), e.hi));
}
template <> __device__ __forceinline__ uint8_t store_out<uint8_t>(float v, const QConvEpilogue& e) {
  return uint8_t(fminf(fmaxf(rintf(quotient_for_rint(v, e.ys, e.ys_inv)) + e.y_zp, e.lo), e.hi));
}

// A residual element in the epilogue's units: float as stored, 8-bit dequantized with its scale and zero point.
__device__ __forceinline__ float residual_value(float v, const QConvEpilogue&) { return v; }
__device__ __forceinline__ float residual_value(__half v, const QConvEpilogue&) { return __half2float(v); }
__device__ __forceinline__ float residual_value(int8_t v, const QConvEpilogue& e) {
  return (float(v) - e.r_zp) * e.r_scale;
}
__device__ __forceinline__ float residual_value(uint8_t v, const QConvEpilogue& e) {
  return (float(v) - e.r_zp) * e.r_scale;
}

// Output elements in (n, oh, ow, k) order, so neighbouring threads share their input pixels. Only taps inside the
// image count: padding is the zero point, whose dequantized value is zero.
template <class X, class Y, class R>
__global__ void qconv_direct_kernel(const X* __restrict__ x, const int8_t* __restrict__ w, const R* __restrict__ res,
                                    Y* __restrict__ y, QConvGeom g, QConvEpilogue e, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t k = int32_t(i % g.k);
    int64_t t = i / g.k;
    const int32_t ox = int32_t(t % g.ow);
    t /= g.ow;
    const int32_t oy = int32_t(t % g.oh);
    const int64_t n = t / g.oh;
    const int32_t c0 = (k / g.kg) * g.cg;
    const int8_t* wk = w + int64_t(k) * g.kh * g.kw * g.cg;  // weights packed [K][kh][kw][cg]
    int32_t acc = 0, wsum = 0;
    for (int32_t a = 0; a < g.kh; ++a) {
      const int32_t iy = oy * g.sh - g.ph + a * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (int32_t b = 0; b < g.kw; ++b) {
        const int32_t ix = ox * g.sw - g.pw + b * g.dw;
        if (ix < 0 || ix >= g.w) continue;
        const X* xp = x + n * g.xs.n + int64_t(iy) * g.xs.h + int64_t(ix) * g.xs.w + int64_t(c0) * g.xs.c;
        const int8_t* wt = wk + (a * g.kw + b) * g.cg;
        if (g.vec4) {
          const int32_t* x4 = reinterpret_cast<const int32_t*>(xp);
          const int32_t* w4 = reinterpret_cast<const int32_t*>(wt);
          for (int32_t q = 0; q < g.cg / 4; ++q) {
            const int32_t xv = e.flip ? int32_t(uint32_t(x4[q]) ^ 0x80808080u) : x4[q];
            acc = __dp4a(xv, w4[q], acc);
            wsum = __dp4a(0x01010101, w4[q], wsum);
          }
        } else {
          for (int32_t c = 0; c < g.cg; ++c) {
            const int32_t wv = wt[c];
            acc += signed_byte(xp[int64_t(c) * g.xs.c], e.flip) * wv;
            wsum += wv;
          }
        }
      }
    }
    float v = float(acc - e.x_zp * wsum) * e.mult[k] + (e.bias ? e.bias[k] : 0.f);
    if (res) v += residual_value(res[n * g.rs.n + int64_t(oy) * g.rs.h + int64_t(ox) * g.rs.w + int64_t(k) * g.rs.c], e);
    v = apply_activation(e.act, v);
    y[n * g.ys.n + int64_t(oy) * g.ys.h + int64_t(ox) * g.ys.w + int64_t(k) * g.ys.c] = store_out<Y>(v, e);
  }
}

// Host value of a constant scalar or vector input as floats.
std::vector<float> floats_of(const Graph& g, const Node& n, size_t k) { return g.value(n.inputs[k]).constant->as_float(); }

int32_t int_of(const Graph& g, const Node& n, size_t k) {
  if (!qconv::present(n, k)) return 0;
  const Tensor& t = *g.value(n.inputs[k]).constant;
  return t.dtype == DType::kUInt8 ? int32_t(t.data<uint8_t>()[0]) : int32_t(t.data<int8_t>()[0]);
}

}  // namespace

using namespace qconv;

std::string QConvKernel::check(const Node& node, const Graph& g) const {
  if (!is_8bit(g.value(node.inputs[0]).dtype)) return "input is not int8/uint8";
  for (size_t k : {1, 2, 3, 4, 5, 6, 7, 8, 10, 11})
    if (present(node, k) && !g.value(node.inputs[k]).constant)
      return "input " + std::to_string(k) + " ('" + g.value(node.inputs[k]).name + "') is not a constant";
  for (size_t k : {1, 4, 6, 8, 10})
    if (present(node, k) && !is_float(g.value(node.inputs[k]).dtype)) return "scales and bias must be float";
  if (present(node, 9) && !is_float(g.value(node.inputs[9]).dtype) && !is_8bit(g.value(node.inputs[9]).dtype))
    return "the residual must be float, int8 or uint8";
  const DType out = g.value(node.outputs[0]).dtype;
  if (!is_8bit(out) && !is_float(out)) return std::string("output dtype ") + dtype_name(out);
  return "";
}

size_t QConvKernel::workspace_size() const {
  switch (tactic_) {
    case QConvTactic::kLt: return LtGemm::kWorkspaceBytes;
    case QConvTactic::kGraph: return graph_ws_;
    case QConvTactic::kCutlass: return cutlass_ws_;
    case QConvTactic::kCutlassConv: return cutlass_conv_ws_;
    default: return 0;
  }
}

std::string QConvKernel::tactic() const {
  switch (tactic_) {
    case QConvTactic::kLt: return "i8-lt:" + lt_.tactic();
    case QConvTactic::kGraph: return "i8-graph:" + graph_cfg_.text();
    case QConvTactic::kCutlass: return "i8-cutlass:" + cutlass_int8_config_name(cutlass_config_);
    case QConvTactic::kDepthwise:
      return dw_form_ == DwForm::kTile8 ? "i8-dw8" : dw_form_ == DwForm::kPixel8 ? "i8-dw8p" : "i8-dw4";
    case QConvTactic::kCutlassConv: return "i8-cutlass-conv:" + cutlass_conv_config_name(cutlass_conv_config_);
    default: return "i8-direct";
  }
}

// The int8 GEMM form gives int8 out through its saturation only, with ReLU its one activation: a Clip(0, b) fits
// when b quantizes to at least 127 (the saturation is then the clip).
bool QConvKernel::int8_epilogue_eligible(const Node& node, const Graph&, const CudaInitContext& ctx) const {
  if (x_type_ != DType::kInt8 || y_type_ != DType::kInt8 || epi_.x_zp != 0 || epi_.y_zp != 0.f) return false;
  // a residual is the GEMM's C operand: int8 in D's layout and symmetric (beta scales it, nothing shifts it)
  if (has_residual_ && (r_type_ != DType::kInt8 || epi_.r_zp != 0.f || ctx.in_layout(9) != Layout::kNHWC))
    return false;
  if (ctx.in_layout(0) != Layout::kNHWC || ctx.out_layout(0) != Layout::kNHWC) return false;
  const FusedActivation act = FusedActivation::from(node.attrs);
  if (act.kind == Activation::kNone || act.kind == Activation::kRelu) return true;
  return act.kind == Activation::kClip && act.alpha == 0.f && std::rint(act.beta / epi_.ys) >= 127.f;
}

// 1x1, stride-1, ungrouped convolutions are one GEMM over the pixels.
bool QConvKernel::lt_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const {
  const Value& w = g.value(node.inputs[3]);
  const bool pointwise = w.shape[2] == 1 && w.shape[3] == 1 && geom_.sh == 1 && geom_.sw == 1 && geom_.ph == 0 &&
                         geom_.pw == 0 && geom_.cg == geom_.c && geom_.oh == geom_.h && geom_.ow == geom_.w;
  if (!pointwise || geom_.c % 4 != 0 || geom_.k % 4 != 0) return false;
  return int8_epilogue_eligible(node, g, ctx);
}

void QConvKernel::init(const Node& node, const Graph& g, CudaInitContext& ctx) {
  where_ = node.describe();
  const Value& x = g.value(node.inputs[0]);
  const Value& w = g.value(node.inputs[3]);
  const Value& y = g.value(node.outputs[0]);
  x_type_ = x.dtype;
  y_type_ = y.dtype;
  x_layout_ = ctx.in_layout(0);
  y_layout_ = ctx.out_layout(0);
  max_batch_ = x.shape[0];
  const int64_t group = node.attrs.get_int("group", 1);
  const Window win = resolve_window(node, spatial_of(w.shape), spatial_of(x.shape), OutputRounding::kFloor, true);
  QConvGeom& gm = geom_;
  gm.c = int32_t(x.shape[1]), gm.h = int32_t(x.shape[2]), gm.w = int32_t(x.shape[3]);
  gm.k = int32_t(w.shape[0]), gm.oh = int32_t(win.out[0]), gm.ow = int32_t(win.out[1]);
  gm.kh = int32_t(win.kernel[0]), gm.kw = int32_t(win.kernel[1]);
  gm.sh = int32_t(win.stride[0]), gm.sw = int32_t(win.stride[1]);
  gm.ph = int32_t(win.pad_begin[0]), gm.pw = int32_t(win.pad_begin[1]);
  gm.pe_h = int32_t(win.pad_end[0]), gm.pe_w = int32_t(win.pad_end[1]);
  gm.dh = int32_t(win.dilation[0]), gm.dw = int32_t(win.dilation[1]);
  gm.cg = int32_t(x.shape[1] / group), gm.kg = int32_t(w.shape[0] / group);
  gm.xs = strides_of(x_layout_, gm.c, gm.h, gm.w);
  gm.ys = strides_of(y_layout_, gm.k, gm.oh, gm.ow);
  gm.vec4 = x_layout_ == Layout::kNHWC && gm.cg % 4 == 0 && gm.c % 4 == 0;
  has_residual_ = present(node, 9);
  if (has_residual_) {
    r_type_ = g.value(node.inputs[9]).dtype;
    r_layout_ = ctx.in_layout(9);
    gm.rs = strides_of(r_layout_, gm.k, gm.oh, gm.ow);
  }

  // Weights [K][cg][kh][kw] -> [K][kh][kw][cg], so a tap's channels are contiguous.
  const int8_t* wsrc = w.constant->data<int8_t>();
  const int64_t taps = int64_t(gm.kh) * gm.kw;
  std::vector<int8_t> packed(size_t(int64_t(gm.k) * taps * gm.cg));
  for (int64_t k = 0; k < gm.k; ++k)
    for (int64_t c = 0; c < gm.cg; ++c)
      for (int64_t t = 0; t < taps; ++t) packed[size_t((k * taps + t) * gm.cg + c)] = wsrc[(k * gm.cg + c) * taps + t];
  packed_ = upload(packed.data(), packed.size(), where_ + " (packed weights)");

  epi_.flip = x_type_ == DType::kUInt8;
  epi_.x_zp = int_of(g, node, 2) - (epi_.flip ? 128 : 0);
  epi_.act = DeviceActivation::from(FusedActivation::from(node.attrs));
  epi_.quantized = present(node, 6);
  if (epi_.quantized) {
    epi_.ys = floats_of(g, node, 6)[0];
    epi_.ys_inv = 1.f / epi_.ys;
    epi_.y_zp = float(int_of(g, node, 7));
    epi_.lo = y_type_ == DType::kInt8 ? -128.f : 0.f;
    epi_.hi = y_type_ == DType::kInt8 ? 127.f : 255.f;
  }
  if (has_residual_ && is_8bit(r_type_)) {
    epi_.r_scale = floats_of(g, node, 10)[0];
    epi_.r_zp = float(int_of(g, node, 11));
  }
  {
    std::vector<float> mult, bias;
    scaled_epilogue(node, g, 1.f, &mult, &bias);  // the direct form divides by the output scale itself
    mult_ = upload_floats(mult, where_ + " (scales)");
    if (present(node, 8)) bias_ = upload_floats(bias, where_ + " (bias)");
    epi_.mult = mult_.as<float>();
    epi_.bias = present(node, 8) ? bias_.as<float>() : nullptr;
  }

  if (ctx.mode == TacticMode::kReuse) {
    if (ctx.tactic.rfind("i8-graph:", 0) == 0 && reuse_graph(node, g, ctx, ctx.tactic.substr(9))) {
      tactic_ = QConvTactic::kGraph;
    } else if (ctx.tactic.rfind("i8-lt:", 0) == 0 && lt_eligible(node, g, ctx)) {
      prepare_lt(node, g, ctx);
      lt_.reuse(ctx.cublaslt, GemmShape{x.shape[0] * int64_t(gm.h) * gm.w, gm.k, gm.c}, ctx.tactic.substr(6));
      tactic_ = QConvTactic::kLt;
    } else if (ctx.tactic.rfind("i8-cutlass:", 0) == 0 && reuse_cutlass(node, g, ctx, ctx.tactic.substr(11))) {
      tactic_ = QConvTactic::kCutlass;
    } else if ((ctx.tactic == "i8-dw4" && dw_eligible(ctx)) ||
               ((ctx.tactic == "i8-dw8" || ctx.tactic == "i8-dw8p") && dw8_eligible(ctx))) {
      prepare_dw(node, g);
      dw_form_ = ctx.tactic == "i8-dw8" ? DwForm::kTile8 : ctx.tactic == "i8-dw8p" ? DwForm::kPixel8 : DwForm::kQuad;
      tactic_ = QConvTactic::kDepthwise;
    } else if (ctx.tactic.rfind("i8-cutlass-conv:", 0) == 0 &&
               reuse_cutlass_conv(node, g, ctx, ctx.tactic.substr(16))) {
      tactic_ = QConvTactic::kCutlassConv;
    }
    return;
  }
  // Build: every form on operands of the maximum batch, the fastest kept.
  DeviceBuffer xb(size_t(x.shape[0]) * gm.c * gm.h * gm.w, where_ + " (tuning input)");
  DeviceBuffer yb(size_t(x.shape[0]) * gm.k * gm.oh * gm.ow * dtype_size(y.dtype), where_ + " (tuning output)");
  TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(xb.get(), 0, xb.bytes(), ctx.stream));
  std::vector<TensorView> ins(node.inputs.size());
  ins[0] = TensorView{x.dtype, x.shape, xb.get()};
  DeviceBuffer rb;
  if (present(node, 9)) {
    const Value& r = g.value(node.inputs[9]);
    rb = DeviceBuffer(size_t(numel(r.shape)) * dtype_size(r.dtype), where_ + " (tuning residual)");
    TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(rb.get(), 0, rb.bytes(), ctx.stream));
    ins[9] = TensorView{r.dtype, r.shape, rb.get()};
  }
  const std::vector<TensorView> outs{TensorView{y.dtype, y.shape, yb.get()}};
  float best = time_ms([&] { launch_direct(ins, outs, ctx.stream); }, ctx.stream);
  ctx.record("i8-direct", best);
  if (dw_eligible(ctx)) {
    prepare_dw(node, g);
    DwForm fastest = DwForm::kQuad;
    dw_form_ = DwForm::kQuad;
    float dw = time_ms([&] { launch_dw(ins, outs, ctx.stream); }, ctx.stream);
    ctx.record("i8-dw4", dw);
    if (dw8_eligible(ctx))
      for (DwForm form : {DwForm::kTile8, DwForm::kPixel8}) {
        dw_form_ = form;
        const float ms = time_ms([&] { launch_dw(ins, outs, ctx.stream); }, ctx.stream);
        ctx.record(form == DwForm::kTile8 ? "i8-dw8" : "i8-dw8p", ms);
        if (ms < dw) dw = ms, fastest = form;
      }
    dw_form_ = fastest;
    if (dw < best) best = dw, tactic_ = QConvTactic::kDepthwise;
    else dw_weights_.reset();
  }
  if (lt_eligible(node, g, ctx)) {
    prepare_lt(node, g, ctx);
    const GemmArgs args = lt_args(xb.get(), rb.get(), yb.get());
    bool tuned = true;
    try {
      lt_.tune(ctx.cublaslt, ctx.stream, GemmShape{x.shape[0] * int64_t(gm.h) * gm.w, gm.k, gm.c}, args);
    } catch (const Error&) {
      static_cast<void>(cudaGetLastError());
      tuned = false;  // no int8 GEMM for this shape on this GPU
    }
    if (tuned) {
      DeviceBuffer wsb(LtGemm::kWorkspaceBytes, where_ + " (tuning workspace)");
      const float gemm =
          time_ms([&] { run_lt(ins, outs, wsb.get(), wsb.bytes(), ctx.cublaslt, ctx.stream); }, ctx.stream);
      ctx.record("i8-lt:" + lt_.tactic(), gemm);
      if (gemm < best) best = gemm, tactic_ = QConvTactic::kLt;
    }
  }
  const float cutlass = tune_cutlass(node, g, ctx, ins, outs);
  if (cutlass < best) best = cutlass, tactic_ = QConvTactic::kCutlass;
  const float cutlass_conv = tune_cutlass_conv(node, g, ctx, ins, outs);
  if (cutlass_conv < best) best = cutlass_conv, tactic_ = QConvTactic::kCutlassConv;
  const float graph = tune_graph(node, g, ctx);
  drop_check_reference();  // the direct form's output the CUTLASS and graph forms were checked against
  if (graph < best) best = graph, tactic_ = QConvTactic::kGraph;
  if (tactic_ != QConvTactic::kGraph) {  // the graph form's plans and buffers are not kept
    graph_.reset();
    graph_by_batch_.clear();
    graph_scale_.reset();
    graph_bias_.reset();
    graph_ws_ = 0;
  }
}

// The epilogue's per-channel scale (x_scale * w_scale[k]) and bias, divided by `divisor` (the output scale, for the
// forms that saturate their own float result to int8).
void QConvKernel::scaled_epilogue(const Node& node, const Graph& g, float divisor, std::vector<float>* scale,
                                  std::vector<float>* bias) const {
  const std::vector<float> ws = floats_of(g, node, 4);
  const float xs = floats_of(g, node, 1)[0];
  scale->assign(size_t(geom_.k), 0.f);
  bias->assign(size_t(geom_.k), 0.f);
  if (present(node, 8)) *bias = floats_of(g, node, 8);
  for (int32_t k = 0; k < geom_.k; ++k) {
    (*scale)[size_t(k)] = xs * ws[ws.size() == 1 ? 0 : size_t(k)] / divisor;
    (*bias)[size_t(k)] /= divisor;
  }
}

// The GEMM forms' alpha vector and bias, and the weights as the graph holds them.
void QConvKernel::prepare_gemm_epilogue(const Node& node, const Graph& g, CudaInitContext& ctx) {
  if (lt_alpha_.get()) return;
  std::vector<float> alpha, lt_bias;
  scaled_epilogue(node, g, epi_.ys, &alpha, &lt_bias);
  lt_alpha_ = upload_floats(alpha, where_ + " (int8 GEMM scales)");
  lt_bias_ = upload_floats(lt_bias, where_ + " (int8 GEMM bias)");
  lt_weights_ = ctx.device_constant(node.inputs[3]);
  lt_beta_ = has_residual_ ? epi_.r_scale / epi_.ys : 0.f;
}

void QConvKernel::prepare_lt(const Node& node, const Graph& g, CudaInitContext& ctx) {
  prepare_gemm_epilogue(node, g, ctx);
  const bool relu = epi_.act.kind != Activation::kNone;
  lt_.configure(where_, Transpose::kNo, Transpose::kYes, relu ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias,
                Fp32Math::kStrict, GemmData::kInt8);
}

float QConvKernel::time_ms(const std::function<void()>& enqueue, cudaStream_t stream) {
  gpu::Event start(where_), stop(where_);
  const auto timed = [&](int reps) {
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(start.get(), stream));
    for (int i = 0; i < reps; ++i) enqueue();
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(stop.get(), stream));
    TRTCORE_CUDA_CHECK(where_, cudaEventSynchronize(stop.get()));
    return gpu::elapsed_ms(start, stop, where_) / float(reps);
  };
  const float first = timed(1);  // also the warm-up; a form this slow at the largest batch needs no more runs to lose
  const int reps = first > 4.f ? 1 : first > 1.f ? 3 : 5;
  return timed(reps);
}

void QConvKernel::launch_direct(const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                                cudaStream_t stream) {
  const int64_t total = out[0].numel();
  const void* res = has_residual_ && in.size() > 9 ? in[9].data : nullptr;
  const auto go = [&](auto xt, auto yt, auto rt) {
    using X = decltype(xt);
    using Y = decltype(yt);
    using R = decltype(rt);
    qconv_direct_kernel<X, Y, R><<<grid_for(total), kBlockSize, 0, stream>>>(
        static_cast<const X*>(in[0].data), packed_.as<int8_t>(), static_cast<const R*>(res),
        static_cast<Y*>(out[0].data), geom_, epi_, total);
  };
  const auto with_r = [&](auto xt, auto yt) {
    switch (r_type_) {
      case DType::kFloat16: go(xt, yt, __half{}); break;
      case DType::kInt8: go(xt, yt, int8_t{}); break;
      case DType::kUInt8: go(xt, yt, uint8_t{}); break;
      default: go(xt, yt, float{}); break;
    }
  };
  const auto with_y = [&](auto xt) {
    switch (y_type_) {
      case DType::kInt8: with_r(xt, int8_t{}); break;
      case DType::kUInt8: with_r(xt, uint8_t{}); break;
      case DType::kFloat16: with_r(xt, __half{}); break;
      default: with_r(xt, float{}); break;
    }
  };
  if (x_type_ == DType::kUInt8) with_y(uint8_t{});
  else with_y(int8_t{});
  TRTCORE_CUDA_LAUNCH_CHECK(where_, "qconv_direct_kernel");
}

// The int8 GEMM's operands: x as A, the weights as B, the residual (or none) as C with its beta, y as D.
GemmArgs QConvKernel::lt_args(const void* x, const void* r, void* y) const {
  GemmArgs args;
  args.a = x, args.b = lt_weights_, args.d = y, args.bias = lt_bias_.get();
  args.alpha_vector = lt_alpha_.as<float>();
  if (has_residual_) args.c = r, args.beta = lt_beta_;
  return args;
}

void QConvKernel::run_lt(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                         size_t ws_bytes, cublasLtHandle_t h, cudaStream_t stream) {
  const int64_t pixels = in[0].shape[0] * int64_t(geom_.h) * geom_.w;
  lt_.run(h, stream, GemmShape{pixels, geom_.k, geom_.c}, lt_args(in[0].data, has_residual_ ? in[9].data : nullptr,
                                                                   out[0].data), ws, ws_bytes);
}

void QConvKernel::run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) {
  switch (tactic_) {
    case QConvTactic::kLt: run_lt(in, out, ctx.workspace, ctx.workspace_bytes, ctx.cublaslt, ctx.stream); break;
    case QConvTactic::kGraph: run_graph(in, out, ctx); break;
    case QConvTactic::kCutlass: run_cutlass(in, out, ctx.workspace, ctx.workspace_bytes, ctx.stream); break;
    case QConvTactic::kDepthwise: launch_dw(in, out, ctx.stream); break;
    case QConvTactic::kCutlassConv:
      run_cutlass_conv(in, out, ctx.workspace, ctx.workspace_bytes, ctx.stream);
      break;
    default: launch_direct(in, out, ctx.stream); break;
  }
}

}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(QConv, trtcore::cuda::QConvKernel)
