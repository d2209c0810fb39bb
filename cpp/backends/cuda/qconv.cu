// QConv (ops/qconv.cpp's inputs): int8 x int8 -> int32 convolution, then per output channel
// y = acc' * x_scale * w_scale[m] + bias, the residual and activation in float, and requantization to int8/uint8
// (or a float output), as the cpu reference (backends/cpu/qconv.cpp) computes it. Tactics, timed at build:
//   "i8-direct"  one thread per output element, dp4a over 4 channels where the layout allows; any shape/layout;
//   "i8-lt:h<i>" a 1x1, stride-1, dense convolution between NHWC int8 tensors as one cuBLASLt int8 GEMM (tensor
//                cores) with the per-channel scale as its alpha vector and bias/ReLU in the epilogue.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cuda/cuda_kernel.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/layout_strides.h"
#include "backends/cuda/lt_gemm.h"
#include "ops/window.h"

namespace trtcore::cuda {
namespace {

struct QConvGeom {
  int32_t c = 0, h = 0, w = 0;  // input channels and size
  int32_t k = 0, oh = 0, ow = 0;
  int32_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int32_t cg = 0, kg = 0;  // input and output channels per group
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
  DeviceActivation act;
};

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
  return int8_t(fminf(fmaxf(rintf(__fdiv_rn(v, e.ys)) + e.y_zp, e.lo), e.hi));
}
template <> __device__ __forceinline__ uint8_t store_out<uint8_t>(float v, const QConvEpilogue& e) {
  return uint8_t(fminf(fmaxf(rintf(__fdiv_rn(v, e.ys)) + e.y_zp, e.lo), e.hi));
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
    if (res) v += load_float(res[n * g.rs.n + int64_t(oy) * g.rs.h + int64_t(ox) * g.rs.w + int64_t(k) * g.rs.c]);
    v = apply_activation(e.act, v);
    y[n * g.ys.n + int64_t(oy) * g.ys.h + int64_t(ox) * g.ys.w + int64_t(k) * g.ys.c] = store_out<Y>(v, e);
  }
}

bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }
bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

bool present(const Node& n, size_t k) { return k < n.inputs.size() && n.inputs[k] >= 0; }

// Host value of a constant scalar or vector input as floats.
std::vector<float> floats_of(const Graph& g, const Node& n, size_t k) { return g.value(n.inputs[k]).constant->as_float(); }

int32_t int_of(const Graph& g, const Node& n, size_t k) {
  if (!present(n, k)) return 0;
  const Tensor& t = *g.value(n.inputs[k]).constant;
  return t.dtype == DType::kUInt8 ? int32_t(t.data<uint8_t>()[0]) : int32_t(t.data<int8_t>()[0]);
}

enum class QConvTactic { kDirect, kLt };

class QConvKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    if (!is_8bit(g.value(node.inputs[0]).dtype)) return "input is not int8/uint8";
    for (size_t k : {1, 2, 3, 4, 5, 6, 7, 8})
      if (present(node, k) && !g.value(node.inputs[k]).constant)
        return "input " + std::to_string(k) + " ('" + g.value(node.inputs[k]).name + "') is not a constant";
    for (size_t k : {1, 4, 6, 8})
      if (present(node, k) && !is_float(g.value(node.inputs[k]).dtype)) return "scales and bias must be float";
    if (present(node, 9) && !is_float(g.value(node.inputs[9]).dtype)) return "the residual must be float";
    const DType out = g.value(node.outputs[0]).dtype;
    if (!is_8bit(out) && !is_float(out)) return std::string("output dtype ") + dtype_name(out);
    return "";
  }

  LayoutRule layout_rule(const Node&, const Graph&) const override { return LayoutRule::kAnyLayout; }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override;
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override;

  size_t workspace_size() const override { return tactic_ == QConvTactic::kLt ? LtGemm::kWorkspaceBytes : 0; }
  size_t weights_bytes() const override {
    return packed_.bytes() + mult_.bytes() + bias_.bytes() + lt_alpha_.bytes() + lt_bias_.bytes();
  }
  std::string tactic() const override { return tactic_ == QConvTactic::kLt ? "i8-lt:" + lt_.tactic() : "i8-direct"; }
  std::string precision() const override { return "int8"; }

 private:
  bool lt_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const;
  void launch_direct(const std::vector<TensorView>& in, const std::vector<TensorView>& out, cudaStream_t stream);
  void run_lt(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws, size_t ws_bytes,
              cublasLtHandle_t h, cudaStream_t stream);
  float time_ms(const std::function<void()>& enqueue, cudaStream_t stream);

  std::string where_;
  QConvGeom geom_;
  QConvEpilogue epi_;
  Layout x_layout_ = Layout::kNCHW, y_layout_ = Layout::kNCHW, r_layout_ = Layout::kNCHW;
  DType x_type_ = DType::kInt8, y_type_ = DType::kInt8, r_type_ = DType::kFloat32;
  DeviceBuffer packed_, mult_, bias_;
  QConvTactic tactic_ = QConvTactic::kDirect;
  LtGemm lt_;
  DeviceBuffer lt_alpha_, lt_bias_;  // x_scale * w_scale[k] / y_scale and bias[k] / y_scale
  const void* lt_weights_ = nullptr;  // the int8 [K, C] constant as uploaded
};

// The int8 GEMM form gives int8 out through its saturation only, with ReLU its one activation: a Clip(0, b) fits
// when b quantizes to at least 127 (the saturation is then the clip).
bool QConvKernel::lt_eligible(const Node& node, const Graph& g, const CudaInitContext& ctx) const {
  const Value& w = g.value(node.inputs[3]);
  const bool pointwise = w.shape[2] == 1 && w.shape[3] == 1 && geom_.sh == 1 && geom_.sw == 1 && geom_.ph == 0 &&
                         geom_.pw == 0 && geom_.cg == geom_.c && geom_.oh == geom_.h && geom_.ow == geom_.w;
  if (!pointwise || geom_.c % 4 != 0 || geom_.k % 4 != 0) return false;
  if (x_type_ != DType::kInt8 || y_type_ != DType::kInt8 || epi_.x_zp != 0 || epi_.y_zp != 0.f) return false;
  if (present(node, 9) || ctx.in_layout(0) != Layout::kNHWC || ctx.out_layout(0) != Layout::kNHWC) return false;
  const FusedActivation act = FusedActivation::from(node.attrs);
  if (act.kind == Activation::kNone || act.kind == Activation::kRelu) return true;
  return act.kind == Activation::kClip && act.alpha == 0.f && std::rint(act.beta / epi_.ys) >= 127.f;
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
  const int64_t group = node.attrs.get_int("group", 1);
  const Window win = resolve_window(node, spatial_of(w.shape), spatial_of(x.shape), OutputRounding::kFloor, true);
  QConvGeom& gm = geom_;
  gm.c = int32_t(x.shape[1]), gm.h = int32_t(x.shape[2]), gm.w = int32_t(x.shape[3]);
  gm.k = int32_t(w.shape[0]), gm.oh = int32_t(win.out[0]), gm.ow = int32_t(win.out[1]);
  gm.kh = int32_t(win.kernel[0]), gm.kw = int32_t(win.kernel[1]);
  gm.sh = int32_t(win.stride[0]), gm.sw = int32_t(win.stride[1]);
  gm.ph = int32_t(win.pad_begin[0]), gm.pw = int32_t(win.pad_begin[1]);
  gm.dh = int32_t(win.dilation[0]), gm.dw = int32_t(win.dilation[1]);
  gm.cg = int32_t(x.shape[1] / group), gm.kg = int32_t(w.shape[0] / group);
  gm.xs = strides_of(x_layout_, gm.c, gm.h, gm.w);
  gm.ys = strides_of(y_layout_, gm.k, gm.oh, gm.ow);
  gm.vec4 = x_layout_ == Layout::kNHWC && gm.cg % 4 == 0 && gm.c % 4 == 0;
  if (present(node, 9)) {
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

  const float xs = floats_of(g, node, 1)[0];
  const std::vector<float> ws = floats_of(g, node, 4);
  std::vector<float> mult(size_t(gm.k)), bias(size_t(gm.k), 0.f);
  for (int32_t k = 0; k < gm.k; ++k) mult[size_t(k)] = xs * ws[ws.size() == 1 ? 0 : size_t(k)];
  if (present(node, 8)) bias = floats_of(g, node, 8);
  mult_ = upload_floats(mult, where_ + " (scales)");
  if (present(node, 8)) bias_ = upload_floats(bias, where_ + " (bias)");
  epi_.mult = mult_.as<float>();
  epi_.bias = present(node, 8) ? bias_.as<float>() : nullptr;
  epi_.flip = x_type_ == DType::kUInt8;
  epi_.x_zp = int_of(g, node, 2) - (epi_.flip ? 128 : 0);
  epi_.act = DeviceActivation::from(FusedActivation::from(node.attrs));
  epi_.quantized = present(node, 6);
  if (epi_.quantized) {
    epi_.ys = floats_of(g, node, 6)[0];
    epi_.y_zp = float(int_of(g, node, 7));
    epi_.lo = y_type_ == DType::kInt8 ? -128.f : 0.f;
    epi_.hi = y_type_ == DType::kInt8 ? 127.f : 255.f;
  }

  if (!lt_eligible(node, g, ctx)) return;  // the direct form is the only one
  std::vector<float> alpha(mult), lt_bias(bias);
  for (int32_t k = 0; k < gm.k; ++k) {
    alpha[size_t(k)] /= epi_.ys;
    lt_bias[size_t(k)] /= epi_.ys;
  }
  lt_alpha_ = upload_floats(alpha, where_ + " (int8 GEMM scales)");
  lt_bias_ = upload_floats(lt_bias, where_ + " (int8 GEMM bias)");
  lt_weights_ = ctx.device_constant(node.inputs[3]);
  const bool relu = epi_.act.kind != Activation::kNone;
  lt_.configure(where_, Transpose::kNo, Transpose::kYes, relu ? GemmEpilogue::kBiasRelu : GemmEpilogue::kBias,
                Fp32Math::kStrict, GemmData::kInt8);
  const int64_t pixels = x.shape[0] * int64_t(gm.h) * gm.w;
  const GemmShape shape{pixels, gm.k, gm.c};
  if (ctx.mode == TacticMode::kReuse) {
    if (ctx.tactic.rfind("i8-lt:", 0) == 0) {
      lt_.reuse(ctx.cublaslt, shape, ctx.tactic.substr(6));
      tactic_ = QConvTactic::kLt;
    }
    return;
  }
  // Build: both forms on zeroed operands of the maximum batch, the faster kept.
  DeviceBuffer xb(size_t(x.shape[0]) * gm.c * gm.h * gm.w, where_ + " (tuning input)");
  DeviceBuffer yb(size_t(x.shape[0]) * gm.k * gm.oh * gm.ow, where_ + " (tuning output)");
  TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(xb.get(), 0, xb.bytes(), ctx.stream));
  GemmArgs args;
  args.a = xb.get(), args.b = lt_weights_, args.d = yb.get(), args.bias = lt_bias_.get();
  args.alpha_vector = lt_alpha_.as<float>();
  try {
    lt_.tune(ctx.cublaslt, ctx.stream, shape, args);
  } catch (const Error&) {
    static_cast<void>(cudaGetLastError());
    return;  // no int8 GEMM for this shape on this GPU: the direct form stays
  }
  TensorView xv{x.dtype, x.shape, xb.get()}, yv{y.dtype, y.shape, yb.get()};
  DeviceBuffer wsb(LtGemm::kWorkspaceBytes, where_ + " (tuning workspace)");
  const float direct = time_ms([&] { launch_direct({xv}, {yv}, ctx.stream); }, ctx.stream);
  const float gemm = time_ms([&] { run_lt({xv}, {yv}, wsb.get(), wsb.bytes(), ctx.cublaslt, ctx.stream); }, ctx.stream);
  if (gemm < direct) tactic_ = QConvTactic::kLt;
}

float QConvKernel::time_ms(const std::function<void()>& enqueue, cudaStream_t stream) {
  constexpr int kReps = 5;
  enqueue();  // warm-up
  gpu::Event start(where_), stop(where_);
  TRTCORE_CUDA_CHECK(where_, cudaEventRecord(start.get(), stream));
  for (int i = 0; i < kReps; ++i) enqueue();
  TRTCORE_CUDA_CHECK(where_, cudaEventRecord(stop.get(), stream));
  TRTCORE_CUDA_CHECK(where_, cudaEventSynchronize(stop.get()));
  return gpu::elapsed_ms(start, stop, where_) / kReps;
}

void QConvKernel::launch_direct(const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                                cudaStream_t stream) {
  const int64_t total = out[0].numel();
  const void* res = in.size() > 9 ? in[9].data : nullptr;
  const auto go = [&](auto xt, auto yt, auto rt) {
    using X = decltype(xt);
    using Y = decltype(yt);
    using R = decltype(rt);
    qconv_direct_kernel<X, Y, R><<<grid_for(total), kBlockSize, 0, stream>>>(
        static_cast<const X*>(in[0].data), packed_.as<int8_t>(), static_cast<const R*>(res),
        static_cast<Y*>(out[0].data), geom_, epi_, total);
  };
  const auto with_r = [&](auto xt, auto yt) {
    if (r_type_ == DType::kFloat16) go(xt, yt, __half{});
    else go(xt, yt, float{});
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

void QConvKernel::run_lt(const std::vector<TensorView>& in, const std::vector<TensorView>& out, void* ws,
                         size_t ws_bytes, cublasLtHandle_t h, cudaStream_t stream) {
  const int64_t pixels = in[0].shape[0] * int64_t(geom_.h) * geom_.w;
  GemmArgs args;
  args.a = in[0].data, args.b = lt_weights_, args.d = out[0].data, args.bias = lt_bias_.get();
  args.alpha_vector = lt_alpha_.as<float>();
  lt_.run(h, stream, GemmShape{pixels, geom_.k, geom_.c}, args, ws, ws_bytes);
}

void QConvKernel::run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) {
  if (tactic_ == QConvTactic::kLt) run_lt(in, out, ctx.workspace, ctx.workspace_bytes, ctx.cublaslt, ctx.stream);
  else launch_direct(in, out, ctx.stream);
}

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(QConv, trtcore::cuda::QConvKernel)
