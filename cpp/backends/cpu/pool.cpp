// MaxPool/AveragePool over 1-3 spatial axes (padding, dilation, ceil_mode, count_include_pad) and the global
// pools; parallel over batch x channels (chunks of planes as pool tasks). MaxPool also takes int8/uint8 tensors.
#include <algorithm>
#include <limits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_ps(), which -Wmaybe-uninitialized reports
// as a false positive at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/sgemm.h"
#include "backends/cpu/thread_pool.h"

TRTCORE_CPU_NAMESPACE_BEGIN

enum class PoolKind { kMax, kAverage };
enum class PadCounting { kExclude, kInclude };

class WindowPoolKernel : public CpuKernel {
 public:
  explicit WindowPoolKernel(PoolKind kind) : kind_(kind) {}

  void init(const Node& node, const Graph& g) override {
    node_ = node;
    kernel_ = node.attrs.get_ints("kernel_shape");
    rounding_ = node.attrs.get_int("ceil_mode", 0) ? OutputRounding::kCeil : OutputRounding::kFloor;
    counting_ = node.attrs.get_int("count_include_pad", 0) ? PadCounting::kInclude : PadCounting::kExclude;
    const DType t = g.value(node.inputs[0]).dtype;
    if (t != DType::kFloat32 && !(kind_ == PoolKind::kMax && is_8bit(t)))
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend pools float32 (and max-pools int8/uint8) only");
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    if (kind_ == PoolKind::kMax && is_8bit(in[0].dtype) && out[0].dtype == in[0].dtype) {
      if (in[0].dtype == DType::kInt8) return run_8bit<int8_t>(in[0], out[0], ctx);
      return run_8bit<uint8_t>(in[0], out[0], ctx);
    }
    if (in[0].dtype != DType::kFloat32 || out[0].dtype != DType::kFloat32)  // read as float32 below
      fail(ErrorKind::kUnsupported, node_.describe(), ": the cpu backend runs pools on float32 only, got ",
           dtype_name(in[0].dtype));
    const TensorView& x = in[0];
    const Window win = resolve_window(node_, kernel_, spatial_of(x.shape), rounding_, true);
    const Geometry3 g(win);
    // padded extent per axis (pad_end of the 3-d view), for count_include_pad
    int64_t lim[3];
    const size_t lead = 3 - win.rank();
    for (size_t i = 0; i < 3; ++i) lim[i] = g.in[i] + (i >= lead ? win.pad_end[i - lead] : 0);
    const int64_t planes = x.shape[0] * x.shape[1], isz = g.in_size(), osz = g.out_size();
    const float* src = x.as<float>();
    float* dst = out[0].as<float>();
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    const bool parallel = nt > 1 && planes * osz * g.k_size() >= 65536;
    const int64_t tasks = parallel ? std::min<int64_t>(planes, 8 * nt) : 1;
#if TRTCORE_CPU_AVX512
    if (kind_ == PoolKind::kMax && g.in[0] == 1 && g.k[0] == 1 && (g.s[2] == 1 || g.s[2] == 2)) {
      parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
        for (int64_t pl = planes * t / tasks; pl < planes * (t + 1) / tasks; ++pl)
          max_plane_2d(g, src + pl * isz, dst + pl * osz);
      });
      return;
    }
#endif
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      for (int64_t pl = planes * t / tasks; pl < planes * (t + 1) / tasks; ++pl)
        plane_generic(g, lim, src + pl * isz, dst + pl * osz);
    });
  }

 private:
#if TRTCORE_CPU_AVX512
  // 2-d max pooling over a plane copied into a -inf bordered buffer: each tap of 16 outputs is one load and max.
  // The operand order of max keeps the reference's NaN behaviour (a NaN input is skipped, as std::max does).
  static void max_plane_2d(const Geometry3& g, const float* p, float* q) {
    const int64_t H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2], sh = g.s[1], sw = g.s[2];
    const int64_t ph = g.p[1], pw = g.p[2];
    const int64_t Hp = std::max(H + ph, (OH - 1) * sh + (g.k[1] - 1) * g.d[1] + 1);
    const int64_t Wp = std::max(W + pw, ((OW + 15) / 16 * 16 - 1) * sw + (g.k[2] - 1) * g.d[2] + 1) + 16;
    thread_local std::vector<float> padded;
    if (padded.size() < size_t(Hp * Wp)) padded.resize(size_t(Hp * Wp));
    float* buf = padded.data();
    std::fill(buf, buf + Hp * Wp, -std::numeric_limits<float>::infinity());
    for (int64_t h = 0; h < H; ++h) std::copy(p + h * W, p + (h + 1) * W, buf + (h + ph) * Wp + pw);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ow += 16) {
        const __mmask16 mask = __mmask16(OW - ow >= 16 ? 0xFFFFu : (1u << (OW - ow)) - 1u);
        __m512 acc = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const float* srow = buf + (oh * sh + kh * g.d[1]) * Wp + ow * sw;
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const float* s0 = srow + kw * g.d[2];
            const __m512 v = sw == 1 ? _mm512_loadu_ps(s0)
                                     : _mm512_permutex2var_ps(_mm512_loadu_ps(s0), even, _mm512_loadu_ps(s0 + 16));
            acc = _mm512_max_ps(v, acc);
          }
        }
        _mm512_mask_storeu_ps(q + oh * OW + ow, mask, acc);
      }
  }
#endif

  void plane_generic(const Geometry3& g, const int64_t* lim, const float* p, float* q) const {
    {
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const int64_t d0 = od * g.s[0] - g.p[0], h0 = oh * g.s[1] - g.p[1], w0 = ow * g.s[2] - g.p[2];
            float mx = -std::numeric_limits<float>::infinity(), sum = 0.f;
            int64_t inside = 0, padded = 0;
            for (int64_t kd = 0; kd < g.k[0]; ++kd) {
              const int64_t id = d0 + kd * g.d[0];
              if (id >= lim[0]) break;
              const bool din = id >= 0 && id < g.in[0];
              for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                const int64_t ih = h0 + kh * g.d[1];
                if (ih >= lim[1]) break;
                const bool hin = din && ih >= 0 && ih < g.in[1];
                // only a row inside the input has an address (an empty input's buffer is null)
                const float* row = hin ? p + (id * g.in[1] + ih) * g.in[2] : nullptr;
                for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                  const int64_t iw = w0 + kw * g.d[2];
                  if (iw >= lim[2]) break;
                  ++padded;
                  if (!hin || iw < 0 || iw >= g.in[2]) continue;
                  const float v = row[iw];
                  mx = std::max(mx, v);
                  sum += v;
                  ++inside;
                }
              }
            }
            float r;
            if (kind_ == PoolKind::kMax) r = mx;
            else r = sum / float(counting_ == PadCounting::kInclude ? padded : std::max<int64_t>(inside, 1));
            q[(od * g.out[1] + oh) * g.out[2] + ow] = r;
          }
    }
  }

  static bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

  // MaxPool of a quantized tensor (the INT8 policy moves a per-tensor QuantizeLinear in front of a MaxPool: the
  // quantizer is monotonic, so the max of quantized values is the quantized max). Padding never wins, as for floats.
  template <class T>
  void run_8bit(const TensorView& x, const TensorView& y, CpuContext& ctx) const {
    const Window win = resolve_window(node_, kernel_, spatial_of(x.shape), rounding_, true);
    const Geometry3 g(win);
    const int64_t planes = x.shape[0] * x.shape[1], isz = g.in_size(), osz = g.out_size();
    const T* src = x.as<T>();
    T* dst = y.as<T>();
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    const bool parallel = nt > 1 && planes * osz * g.k_size() >= 65536;
    const int64_t tasks = parallel ? std::min<int64_t>(planes, 8 * nt) : 1;
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      for (int64_t pl = planes * t / tasks; pl < planes * (t + 1) / tasks; ++pl)
        max_plane_8bit(g, src + pl * isz, dst + pl * osz);
    });
  }

  template <class T>
  static void max_plane_8bit(const Geometry3& g, const T* p, T* q) {
    for (int64_t od = 0; od < g.out[0]; ++od)
      for (int64_t oh = 0; oh < g.out[1]; ++oh)
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          const int64_t d0 = od * g.s[0] - g.p[0], h0 = oh * g.s[1] - g.p[1], w0 = ow * g.s[2] - g.p[2];
          T mx = std::numeric_limits<T>::lowest();
          for (int64_t kd = 0; kd < g.k[0]; ++kd) {
            const int64_t id = d0 + kd * g.d[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t kh = 0; kh < g.k[1]; ++kh) {
              const int64_t ih = h0 + kh * g.d[1];
              if (ih < 0 || ih >= g.in[1]) continue;
              const T* row = p + (id * g.in[1] + ih) * g.in[2];
              for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                const int64_t iw = w0 + kw * g.d[2];
                if (iw >= 0 && iw < g.in[2]) mx = std::max(mx, row[iw]);
              }
            }
          }
          q[(od * g.out[1] + oh) * g.out[2] + ow] = mx;
        }
  }

  PoolKind kind_;
  Node node_;
  std::vector<int64_t> kernel_;
  OutputRounding rounding_ = OutputRounding::kFloor;
  PadCounting counting_ = PadCounting::kExclude;
};

class GlobalPoolKernel : public CpuKernel {
 public:
  explicit GlobalPoolKernel(PoolKind kind) : kind_(kind) {}
  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const TensorView& x = in[0];
    // a float16/int8 input read as float32 would run past its buffer
    if (x.dtype != DType::kFloat32 || out[0].dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, "the cpu backend runs global pools on float32 only, got ", dtype_name(x.dtype));
    const int64_t planes = x.shape[0] * x.shape[1], plane = planes ? x.numel() / planes : 0;
    const float* src = x.as<float>();
    float* dst = out[0].as<float>();
    const int nt = ctx.threads > 1 ? ctx.threads : 1;
    const bool parallel = nt > 1 && planes * plane >= 262144;
    const int64_t tasks = parallel ? std::min<int64_t>(planes, 4 * nt) : 1;
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      for (int64_t pl = planes * t / tasks; pl < planes * (t + 1) / tasks; ++pl) {
        const float* p = src + pl * plane;
        if (kind_ == PoolKind::kMax) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < plane; ++i) m = std::max(m, p[i]);
          dst[pl] = m;
        } else {
          float s = 0.f;
#pragma omp simd reduction(+ : s)
          for (int64_t i = 0; i < plane; ++i) s += p[i];
          dst[pl] = s / float(plane);
        }
      }
    });
  }

 private:
  PoolKind kind_;
};

struct MaxPoolKernel : WindowPoolKernel {
  MaxPoolKernel() : WindowPoolKernel(PoolKind::kMax) {}
};
struct AveragePoolKernel : WindowPoolKernel {
  AveragePoolKernel() : WindowPoolKernel(PoolKind::kAverage) {}
};
struct GlobalMaxPoolKernel : GlobalPoolKernel {
  GlobalMaxPoolKernel() : GlobalPoolKernel(PoolKind::kMax) {}
};
struct GlobalAveragePoolKernel : GlobalPoolKernel {
  GlobalAveragePoolKernel() : GlobalPoolKernel(PoolKind::kAverage) {}
};

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(MaxPool, trtcore::cpu::MaxPoolKernel)
TRTCORE_CPU_KERNEL_FACTORY(AveragePool, trtcore::cpu::AveragePoolKernel)
TRTCORE_CPU_KERNEL_FACTORY(GlobalMaxPool, trtcore::cpu::GlobalMaxPoolKernel)
TRTCORE_CPU_KERNEL_FACTORY(GlobalAveragePool, trtcore::cpu::GlobalAveragePoolKernel)
