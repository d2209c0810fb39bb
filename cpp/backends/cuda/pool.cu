// MaxPool / AveragePool (1-3 spatial axes, pads incl. asymmetric, ceil_mode via the inferred output shape,
// dilations, count_include_pad) and GlobalAveragePool / GlobalMaxPool: own kernels, exact for every variant.
// 2-D float16 pools also read (and MaxPool/AveragePool write) NHWC-stored activations. MaxPool also pools the int8/
// uint8 tensors of INT8 plans (the INT8 policy moves a quantizer in front of it): values round-trip through float.
#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <type_traits>

#include "backends/cuda/device_math.cuh"

namespace trtcore::cuda {
namespace {

enum class PoolKind { kMax, kAverage };

struct PoolArgs {
  int spatial = 2;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int kernel[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  int pad_begin[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};
  bool count_include_pad = false;
  Layout layout = Layout::kNCHW;  // of both input and output
  int64_t channels = 1;           // read in NHWC only
};

template <PoolKind K, class T>
__global__ void pool_kernel(const T* x, T* y, int64_t n, PoolArgs a) {
  int64_t in_plane = 1, out_plane = 1;
  for (int d = 0; d < a.spatial; ++d) {
    in_plane *= a.in[d];
    out_plane *= a.out[d];
  }
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    // NHWC: channel fastest, so neighbouring threads read neighbouring elements; `step` is the pixel stride.
    const bool nhwc = a.layout == Layout::kNHWC;
    const int64_t step = nhwc ? a.channels : 1;
    const int64_t pix = nhwc ? i / a.channels : i;
    const int64_t plane = pix / out_plane;
    int64_t rem = pix % out_plane;
    int64_t o[3] = {0, 0, 0};
    for (int d = a.spatial - 1; d >= 0; --d) {
      o[d] = rem % a.out[d];
      rem /= a.out[d];
    }
    const T* src = nhwc ? x + (plane * in_plane) * a.channels + i % a.channels : x + plane * in_plane;
    float acc = K == PoolKind::kMax ? -FLT_MAX : 0.f;
    int64_t valid = 0, padded = 0;
    const int k0 = a.kernel[0], k1 = a.spatial > 1 ? a.kernel[1] : 1, k2 = a.spatial > 2 ? a.kernel[2] : 1;
    for (int i0 = 0; i0 < k0; ++i0)
      for (int i1 = 0; i1 < k1; ++i1)
        for (int i2 = 0; i2 < k2; ++i2) {
          const int kk[3] = {i0, i1, i2};
          bool inside = true, in_padded = true;
          int64_t off = 0;
          for (int d = 0; d < a.spatial; ++d) {
            const int64_t p = o[d] * a.stride[d] - a.pad_begin[d] + int64_t(kk[d]) * a.dilation[d];
            if (p < 0 || p >= a.in[d]) inside = false;
            if (p < -a.pad_begin[d] || p >= a.in[d] + a.pad_end[d]) in_padded = false;
            off = off * a.in[d] + p;
          }
          if (in_padded) ++padded;
          if (!inside) continue;
          ++valid;
          const float v = load_float(src[off * step]);
          if (K == PoolKind::kMax) acc = fmaxf(acc, v);
          else acc += v;
        }
    if (K == PoolKind::kAverage) {
      const int64_t div = a.count_include_pad ? padded : valid;
      acc = div > 0 ? acc / float(div) : 0.f;
    }
    y[i] = store_as<T>(acc);
  }
}

// The common case, 2-D pools whose tensors fit 32-bit offsets: 32-bit index arithmetic (64-bit division is many
// instructions per use), output enumerated in storage order so stores coalesce. Same results as pool_kernel.
struct Pool2d {
  int c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, pe_h, pe_w;
  bool count_include_pad;
};

// Elements of a pooled tensor as float lanes: one per float/__half, two per __half2 (two NHWC channels at once).
template <class E>
struct Lanes {
  static constexpr int kCount = 1;
  __device__ static void load(E v, float* out) { out[0] = load_float(v); }
  __device__ static E store(const float* in) { return store_as<E>(in[0]); }
};
template <>
struct Lanes<__half2> {
  static constexpr int kCount = 2;
  __device__ static void load(__half2 v, float* out) {
    const float2 f = __half22float2(v);
    out[0] = f.x;
    out[1] = f.y;
  }
  __device__ static __half2 store(const float* in) { return __floats2half2_rn(in[0], in[1]); }
};

// Eight 8-bit NHWC channels at once (one 8-byte access): int8 max pooling is bound by memory, and one byte per
// thread leaves most of each transaction unused.
template <class T>
struct alignas(8) Byte8 {
  T v[8];
};
template <class T>
struct Lanes<Byte8<T>> {
  static constexpr int kCount = 8;
  __device__ static void load(const Byte8<T>& b, float* out) {
#pragma unroll
    for (int l = 0; l < 8; ++l) out[l] = float(b.v[l]);
  }
  __device__ static Byte8<T> store(const float* in) {  // maxima of 8-bit values: exact (clamped for empty windows)
    constexpr float lo = std::is_signed_v<T> ? -128.f : 0.f, hi = std::is_signed_v<T> ? 127.f : 255.f;
    Byte8<T> b;
#pragma unroll
    for (int l = 0; l < 8; ++l) b.v[l] = T(fminf(fmaxf(in[l], lo), hi));
    return b;
  }
};

// Eight float16 NHWC channels at once (one 16-byte access), for the same reason: a stem's pool reads the largest
// activation of the network.
struct alignas(16) Half8 {
  __half2 v[4];
};
template <>
struct Lanes<Half8> {
  static constexpr int kCount = 8;
  __device__ static void load(const Half8& h, float* out) {
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      const float2 f = __half22float2(h.v[l]);
      out[2 * l] = f.x;
      out[2 * l + 1] = f.y;
    }
  }
  __device__ static Half8 store(const float* in) {
    Half8 h;
#pragma unroll
    for (int l = 0; l < 4; ++l) h.v[l] = __floats2half2_rn(in[2 * l], in[2 * l + 1]);
    return h;
  }
};

// `p.c` counts elements of E per pixel (channels / lanes).
template <PoolKind K, class E, bool Nhwc>
__global__ void pool2d_kernel(const E* __restrict__ x, E* __restrict__ y, int n, Pool2d p) {
  constexpr int L = Lanes<E>::kCount;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    int t = i, c, ox, oy;
    if (Nhwc) {
      c = t % p.c; t /= p.c;
      ox = t % p.ow; t /= p.ow;
      oy = t % p.oh; t /= p.oh;
    } else {
      ox = t % p.ow; t /= p.ow;
      oy = t % p.oh; t /= p.oh;
      c = t % p.c; t /= p.c;
    }
    const int b = t;
    const E* src = Nhwc ? x + b * (p.h * p.w * p.c) + c : x + (b * p.c + c) * (p.h * p.w);
    const int step = Nhwc ? p.c : 1;
    const int y0 = oy * p.sh - p.ph, x0 = ox * p.sw - p.pw;
    float acc[L];
#pragma unroll
    for (int l = 0; l < L; ++l) acc[l] = K == PoolKind::kMax ? -FLT_MAX : 0.f;
    int valid = 0, padded = 0;
    for (int a = 0; a < p.kh; ++a) {
      const int yy = y0 + a * p.dh;
      const bool row_in = yy >= 0 && yy < p.h;
      const bool row_padded = yy >= -p.ph && yy < p.h + p.pe_h;
      for (int e = 0; e < p.kw; ++e) {
        const int xx = x0 + e * p.dw;
        if (row_padded && xx >= -p.pw && xx < p.w + p.pe_w) ++padded;
        if (!row_in || xx < 0 || xx >= p.w) continue;
        ++valid;
        float v[L];
        Lanes<E>::load(src[(yy * p.w + xx) * step], v);
#pragma unroll
        for (int l = 0; l < L; ++l) acc[l] = K == PoolKind::kMax ? fmaxf(acc[l], v[l]) : acc[l] + v[l];
      }
    }
    if (K == PoolKind::kAverage) {
      const int div = p.count_include_pad ? padded : valid;
#pragma unroll
      for (int l = 0; l < L; ++l) acc[l] = div > 0 ? acc[l] / float(div) : 0.f;
    }
    y[i] = Lanes<E>::store(acc);
  }
}

template <ReduceKind K, class T>
__global__ void global_pool_kernel(const T* x, T* y, int64_t plane) {
  const T* src = x + int64_t(blockIdx.x) * plane;
  const float identity = K == ReduceKind::kMax ? -FLT_MAX : 0.f;
  float acc = identity;
  for (int64_t i = threadIdx.x; i < plane; i += blockDim.x) acc = reduce_combine<K>(acc, load_float(src[i]));
  acc = block_reduce<K>(acc, identity);
  if (threadIdx.x == 0) y[blockIdx.x] = store_as<T>(K == ReduceKind::kSum ? acc / float(plane) : acc);
}

// NHWC input [N, H, W, C]: one thread per (n, c), consecutive threads on consecutive channels.
template <ReduceKind K, class T>
__global__ void global_pool_nhwc_kernel(const T* x, T* y, int64_t n, int64_t channels, int64_t plane) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T* src = x + (i / channels) * plane * channels + i % channels;
    float acc = K == ReduceKind::kMax ? -FLT_MAX : 0.f;
    for (int64_t p = 0; p < plane; ++p) acc = reduce_combine<K>(acc, load_float(src[p * channels]));
    y[i] = store_as<T>(K == ReduceKind::kSum ? acc / float(plane) : acc);
  }
}

enum class Int8Input { kRefused, kAccepted };

// float32 in and out, or float16 in and out (accumulated in float); MaxPool also int8/uint8 (exact in float).
std::string check_pool_dtype(const Node& node, const Graph& g, Int8Input int8 = Int8Input::kRefused) {
  const DType t = g.value(node.inputs.at(0)).dtype;
  const bool eight_bit = t == DType::kInt8 || t == DType::kUInt8;
  if (t != DType::kFloat32 && t != DType::kFloat16 && !(eight_bit && int8 == Int8Input::kAccepted))
    return std::string("input dtype ") + dtype_name(t);
  if (g.value(node.outputs.at(0)).dtype != t) return "output dtype differs from the input's";
  return "";
}

template <PoolKind K>
class PoolKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string r = check_pool_dtype(node, g, K == PoolKind::kMax ? Int8Input::kAccepted : Int8Input::kRefused);
    if (!r.empty()) return r;
    if (node.outputs.size() > 1 && node.outputs[1] >= 0) return "the Indices output of MaxPool is not supported";
    const size_t rank = g.value(node.inputs[0]).shape.size();
    if (rank < 3 || rank > 5) return "only 1-3 spatial axes are supported";
    return "";
  }

  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    if (!check(node, g).empty() || g.value(node.inputs[0]).shape.size() != 4) return LayoutRule::kNchwOnly;
    return LayoutRule::kSameLayout;
  }

  void init(const Node& node, const Graph& g, CudaInitContext& ctx) override {
    where_ = node.describe();
    const Shape& xs = g.value(node.inputs[0]).shape;
    const Shape& ys = g.value(node.outputs[0]).shape;
    a_.spatial = int(xs.size()) - 2;
    a_.layout = ctx.in_layout(0);
    a_.channels = xs[1];
    if (ctx.out_layout(0) != a_.layout)
      fail(ErrorKind::kRuntime, where_, ": input and output were planned in different layouts");
    const size_t sp = size_t(a_.spatial);
    const std::vector<int64_t> ks = node.attrs.get_ints("kernel_shape");
    const std::vector<int64_t> strides = node.attrs.get_ints("strides", std::vector<int64_t>(sp, 1));
    const std::vector<int64_t> dil = node.attrs.get_ints("dilations", std::vector<int64_t>(sp, 1));
    std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * sp, 0));
    if (ks.size() != sp || strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp)
      fail(ErrorKind::kInvalidArgument, where_, ": kernel_shape/strides/dilations/pads do not match the input rank");
    const std::string auto_pad = node.attrs.get_string("auto_pad", "NOTSET");
    for (size_t d = 0; d < sp; ++d) {
      a_.in[d] = xs[2 + d];
      a_.out[d] = ys[2 + d];
      a_.kernel[d] = int(ks[d]);
      a_.stride[d] = int(strides[d]);
      a_.dilation[d] = int(dil[d]);
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        const int64_t total = std::max<int64_t>(0, (a_.out[d] - 1) * a_.stride[d] +
                                                       (int64_t(a_.kernel[d]) - 1) * a_.dilation[d] + 1 - a_.in[d]);
        pads[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads[d + sp] = total - pads[d];
      } else if (auto_pad == "VALID") {
        pads[d] = pads[d + sp] = 0;
      }
      a_.pad_begin[d] = int(pads[d]);
      a_.pad_end[d] = int(pads[d + sp]);
    }
    a_.count_include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const int64_t n = out[0].numel();
    if (n == 0) return;
    if constexpr (K == PoolKind::kMax) {  // the quantized tensor of an INT8 plan
      if (in[0].dtype == DType::kInt8) return run_as<int8_t>(in[0], out[0], n, ctx.stream);
      if (in[0].dtype == DType::kUInt8) return run_as<uint8_t>(in[0], out[0], n, ctx.stream);
    }
    if (in[0].dtype == DType::kFloat16) return run_as<__half>(in[0], out[0], n, ctx.stream);
    run_as<float>(in[0], out[0], n, ctx.stream);
  }

 private:
  template <class T>
  void run_as(const TensorView& x, const TensorView& y, int64_t n, cudaStream_t stream) {
    if (a_.spatial == 2 && std::max(n, x.numel()) < int64_t(INT32_MAX)) return launch_2d<T>(x, y, n, stream);
    pool_kernel<K, T><<<grid_for(n), kBlockSize, 0, stream>>>(static_cast<const T*>(x.data), static_cast<T*>(y.data),
                                                               n, a_);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (pool_kernel<K, T>));
  }

  template <class T>
  void launch_2d(const TensorView& x, const TensorView& y, int64_t n, cudaStream_t stream) {
    Pool2d p{};
    p.c = int(a_.channels);
    p.h = int(a_.in[0]);
    p.w = int(a_.in[1]);
    p.oh = int(a_.out[0]);
    p.ow = int(a_.out[1]);
    p.kh = a_.kernel[0];
    p.kw = a_.kernel[1];
    p.sh = a_.stride[0];
    p.sw = a_.stride[1];
    p.ph = a_.pad_begin[0];
    p.pw = a_.pad_begin[1];
    p.pe_h = a_.pad_end[0];
    p.pe_w = a_.pad_end[1];
    p.dh = a_.dilation[0];
    p.dw = a_.dilation[1];
    p.count_include_pad = a_.count_include_pad;
    const bool aligned = (reinterpret_cast<uintptr_t>(x.data) & 3) == 0 && (reinterpret_cast<uintptr_t>(y.data) & 3) == 0;
    if constexpr (std::is_same_v<T, __half>) {
      const bool aligned16 =
          (reinterpret_cast<uintptr_t>(x.data) & 15) == 0 && (reinterpret_cast<uintptr_t>(y.data) & 15) == 0;
      if (a_.layout == Layout::kNHWC && p.c % 8 == 0 && aligned16) {  // eight channels per thread
        p.c /= 8;
        return launch_2d_as<Half8, true>(x, y, n / 8, p, stream);
      }
      if (a_.layout == Layout::kNHWC && p.c % 2 == 0 && aligned) {  // two channels per thread
        p.c /= 2;
        return launch_2d_as<__half2, true>(x, y, n / 2, p, stream);
      }
    }
    if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
      const bool aligned8 =
          (reinterpret_cast<uintptr_t>(x.data) & 7) == 0 && (reinterpret_cast<uintptr_t>(y.data) & 7) == 0;
      if (K == PoolKind::kMax && a_.layout == Layout::kNHWC && p.c % 8 == 0 && aligned8) {
        p.c /= 8;
        return launch_2d_as<Byte8<T>, true>(x, y, n / 8, p, stream);
      }
    }
    if (a_.layout == Layout::kNHWC) return launch_2d_as<T, true>(x, y, n, p, stream);
    launch_2d_as<T, false>(x, y, n, p, stream);
  }

  template <class E, bool Nhwc>
  void launch_2d_as(const TensorView& x, const TensorView& y, int64_t n, const Pool2d& p, cudaStream_t stream) {
    pool2d_kernel<K, E, Nhwc><<<grid_for(n), kBlockSize, 0, stream>>>(static_cast<const E*>(x.data),
                                                                       static_cast<E*>(y.data), int(n), p);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (pool2d_kernel<K, E, Nhwc>));
  }

  std::string where_;
  PoolArgs a_;
};

template <ReduceKind K>
class GlobalPoolKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override { return check_pool_dtype(node, g); }
  // The [N, C, 1, 1] output is the same bytes in either layout; the input may be NHWC.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    if (!check(node, g).empty() || g.value(node.inputs[0]).shape.size() != 4) return LayoutRule::kNchwOnly;
    return LayoutRule::kAnyLayout;
  }
  void init(const Node& node, const Graph&, CudaInitContext& ctx) override {
    where_ = node.describe();
    layout_ = ctx.in_layout(0);
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const Shape& s = in[0].shape;
    if (s.size() < 2) fail(ErrorKind::kInvalidArgument, where_, ": input rank ", s.size(), " (expected >= 2)");
    const int64_t planes = s[0] * s[1];
    if (planes == 0) return;
    const int64_t plane = in[0].numel() / planes;
    if (layout_ == Layout::kNHWC) {
      if (in[0].dtype == DType::kFloat16) launch_nhwc<__half>(in[0], out[0], planes, s[1], plane, ctx.stream);
      else launch_nhwc<float>(in[0], out[0], planes, s[1], plane, ctx.stream);
      return;
    }
    if (planes > int64_t(INT32_MAX)) fail(ErrorKind::kUnsupported, where_, ": too many channels");
    if (in[0].dtype == DType::kFloat16) {
      global_pool_kernel<K, __half><<<unsigned(planes), kBlockSize, 0, ctx.stream>>>(in[0].as<__half>(),
                                                                                     out[0].as<__half>(), plane);
      TRTCORE_CUDA_LAUNCH_CHECK(where_, (global_pool_kernel<K, __half>));
      return;
    }
    global_pool_kernel<K, float><<<unsigned(planes), kBlockSize, 0, ctx.stream>>>(in[0].as<float>(),
                                                                                   out[0].as<float>(), plane);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (global_pool_kernel<K, float>));
  }

 private:
  template <class T>
  void launch_nhwc(const TensorView& x, const TensorView& y, int64_t n, int64_t channels, int64_t plane,
                   cudaStream_t stream) {
    global_pool_nhwc_kernel<K, T><<<grid_for(n), kBlockSize, 0, stream>>>(x.as<T>(), y.as<T>(), n, channels, plane);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, (global_pool_nhwc_kernel<K, T>));
  }

  std::string where_;
  Layout layout_ = Layout::kNCHW;  // of the input
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(MaxPool, trtcore::cuda::PoolKernel<trtcore::cuda::PoolKind::kMax>)
TRTCORE_CUDA_KERNEL_FACTORY(AveragePool, trtcore::cuda::PoolKernel<trtcore::cuda::PoolKind::kAverage>)
TRTCORE_CUDA_KERNEL_FACTORY(GlobalAveragePool, trtcore::cuda::GlobalPoolKernel<trtcore::cuda::ReduceKind::kSum>)
TRTCORE_CUDA_KERNEL_FACTORY(GlobalMaxPool, trtcore::cuda::GlobalPoolKernel<trtcore::cuda::ReduceKind::kMax>)
