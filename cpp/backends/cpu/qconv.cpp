// QConv reference: int8 x int8 -> int32 convolution (ops/qconv.cpp's inputs), then per output channel
// y = (acc - zero-point correction) * x_scale * w_scale[m] + bias, the fused residual and activation in float, and
// requantization to int8/uint8 when an output scale is given. Columns are gathered into u8 panels right before the
// int8 GEMM (igemm.h) uses them; work is cut into (image, group, pixel block, row chunk) tasks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backends/cpu/igemm.h"
#include "backends/cpu/qconv_depthwise.h"
#include "backends/cpu/qconv_direct.h"
#include "backends/cpu/qconv_epilogue.h"
#include "backends/cpu/strided.h"
#include "backends/cpu/thread_pool.h"
#include "ops/window.h"

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

float scalar_of(const TensorView& t) { return t.as<float>()[0]; }

int32_t int_of(const TensorView& t) {
  if (!t.data) return 0;
  return t.dtype == DType::kUInt8 ? int32_t(t.as<uint8_t>()[0]) : int32_t(t.as<int8_t>()[0]);
}

class QConvKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph& g) override {
    node_ = node;
    act_ = FusedActivation::from(node.attrs);
    group_ = node.attrs.get_int("group", 1);
    const Value& w = g.value(node.inputs[3]);
    if (!w.constant) fail(ErrorKind::kUnsupported, node.describe(), ": quantized weights must be constant");
    if (node.inputs.size() > 5 && node.inputs[5] >= 0) {
      const Value& zp = g.value(node.inputs[5]);
      if (!zp.constant) fail(ErrorKind::kUnsupported, node.describe(), ": weight zero point must be constant");
      for (int64_t v : zp.constant->as_int64())
        if (v != 0) fail(ErrorKind::kUnsupported, node.describe(), ": weights must be symmetric (zero point 0)");
    }
    // the bias is added in float: another dtype would be read as floats past its buffer
    if (node.inputs.size() > 8 && node.inputs[8] >= 0 && g.value(node.inputs[8]).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the bias must be float32, got ",
           dtype_name(g.value(node.inputs[8]).dtype));
    kernel_ = spatial_of(w.shape);
    m_ = w.shape[0];
    mg_ = m_ / group_;
    kg_ = numel(w.shape) / m_;
    const int64_t c = g.value(node.inputs[0]).shape.size() == 4 ? g.value(node.inputs[0]).shape[1] : 0;
    if (qconv_depthwise_suits(group_, c, w.shape)) {
      depthwise_ = pack_qconv_depthwise(w.constant->data<int8_t>(), m_, kg_);
      return;
    }
    const int64_t cg = w.shape[1], taps = kg_ / std::max<int64_t>(cg, 1);
    direct_ = qconv_direct_suits(kernel_, read_window_attrs(node, kernel_, true).stride, group_, cg);
    for (int64_t gi = 0; gi < group_; ++gi) {
      const int8_t* wg = w.constant->data<int8_t>() + gi * mg_ * kg_;
      packed_.push_back(direct_ ? pack_qconv_direct(wg, mg_, cg, taps) : pack_i8_weights(wg, mg_, kg_));
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    const auto has = [&](size_t i) { return in.size() > i && in[i].data; };
    const TensorView& x = in[0];
    const Window win = resolve_window(node_, kernel_, spatial_of(x.shape), OutputRounding::kFloor, true);
    const int64_t batch = x.shape[0], c = x.shape[1], oh = win.out[0], ow = win.out[1];
    const int64_t pixels = oh * ow, cg = c / group_;
    const bool x_signed = x.dtype == DType::kInt8;
    // activations enter the u8 x s8 kernel as x + 128 (int8) or x (uint8); padding holds the zero point
    const int32_t x_zp = has(2) ? int_of(in[2]) : 0;
    const int32_t offset = (x_signed ? 128 : 0) + x_zp;
    const uint8_t pad = uint8_t((x_signed ? 128 : 0) + x_zp);
    QConvEpilogue ep;
    ep.mult.resize(size_t(m_));
    const float xs = scalar_of(in[1]);
    const float* ws = in[4].as<float>();
    const bool per_tensor = in[4].numel() == 1;  // (numel is a loop: not once per channel)
    for (int64_t mi = 0; mi < m_; ++mi) ep.mult[size_t(mi)] = xs * ws[per_tensor ? 0 : mi];
    ep.bias = has(8) ? in[8].as<float>() : nullptr;
    // the residual: float, or 8-bit with its scale (input 10) and zero point (input 11), dequantized as it is added
    ep.residual = has(9) && in[9].dtype == DType::kFloat32 ? in[9].as<float>() : nullptr;
    ep.residual_q = has(9) && !ep.residual ? in[9].data : nullptr;
    ep.residual_signed = has(9) && in[9].dtype == DType::kInt8;
    ep.r_scale = has(10) ? scalar_of(in[10]) : 1.f;
    ep.r_zp = has(11) ? int_of(in[11]) : 0;
    ep.quantized_out = has(6);
    ep.y_scale = ep.quantized_out ? scalar_of(in[6]) : 1.f;
    ep.y_zp = ep.quantized_out ? int_of(in[7]) : 0;
    ep.y_signed = out[0].dtype == DType::kInt8;
    ep.out = out[0].data;
    ep.m = m_;
    ep.pixels = pixels;
    ep.act = act_;
    if (!depthwise_.empty()) {
      qconv_depthwise(Geometry3(win), batch, c, m_ / c, x.data, x_signed, x_zp, depthwise_, ep, ctx.threads);
      return;
    }
    // below this many products a second thread costs more than it saves, as for the float convolutions
    const int threads = batch * m_ * pixels * kg_ < kMinParallelMacs ? 1 : ctx.threads;
    if (direct_) {
      qconv_direct(win, batch, group_, cg, QConvDirectInput{x.data, x_signed, pad, offset}, packed_, ep, threads);
      return;
    }

    // small pointwise planes: one panel holds the whole planes of several images (alone, a 4x4 plane would fill a
    // quarter of it)
    const int64_t per_panel = pointwise(win) && group_ == 1 && 2 * pixels <= kI8Nr ? kI8Nr / pixels : 1;
    const int64_t image_blocks = (batch + per_panel - 1) / per_panel;
    const int64_t blocks = per_panel > 1 ? 1 : (pixels + kI8Nr - 1) / kI8Nr;
    // rows split further when there are fewer (images, group, block) tasks than threads
    const int64_t base_tasks = image_blocks * group_ * blocks;
    int64_t chunks = 1;
    // (each chunk gathers its own copy of the panel: one thread keeps one chunk)
    while (threads > 1 && base_tasks * chunks < 2 * threads && (mg_ / kI8Mr) >= 2 * chunks * 2) chunks *= 2;
    const int64_t rows_per_chunk = ((mg_ + chunks - 1) / chunks + kI8Mr - 1) / kI8Mr * kI8Mr;
    const int64_t k4 = packed_[0].k4;

    parallel_tasks(threads, base_tasks * chunks, [&](int64_t t) {
      const int64_t chunk = t % chunks, blk = (t / chunks) % blocks, gi = (t / chunks / blocks) % group_;
      const int64_t n = t / chunks / blocks / group_ * per_panel, images = std::min(per_panel, batch - n);
      const int64_t j0 = blk * kI8Nr, nr = per_panel > 1 ? images * pixels : std::min(kI8Nr, pixels - j0);
      const int64_t r0 = chunk * rows_per_chunk, r1 = std::min(mg_, r0 + rows_per_chunk);
      if (r0 >= r1) return;
      thread_local std::vector<uint8_t> panel;
      thread_local std::vector<int32_t> acc;
      panel.resize(size_t(k4 * kI8Nr * 4));
      acc.resize(size_t(kI8Mr * kI8Nr));
      const uint8_t* xg = static_cast<const uint8_t*>(x.data) + (n * c + gi * cg) * win.in[0] * win.in[1];
      if (per_panel > 1)
        gather_images(cg, xg, c * pixels, images, pixels, x_signed ? 0x80 : 0, panel.data());
      else
        gather_panel(win, cg, xg, x_signed, pad, j0, nr, panel.data());
      const PackedI8Weights& pw = packed_[size_t(gi)];
      float y[kI8Mr * kI8Nr];  // [rows][nr], or [rows][kI8Nr] from igemm_rows_float
      float corr[kI8Mr];
      for (int64_t r = r0; r < r1; r += kI8Mr) {
        const int64_t rows = std::min(kI8Mr, r1 - r);
        if (per_panel == 1 && nr >= 16) {  // the sums arrive as floats, offset taken out, in rows of kI8Nr
          for (int64_t rr = 0; rr < rows; ++rr) corr[rr] = float(offset * pw.row_sums[size_t(r + rr)]);
          igemm_rows_float(pw, r, rows, nr, panel.data(), corr, y);
          ep.finish(n, gi * mg_ + r, rows, j0, y, kI8Nr, nr);
          continue;
        }
        igemm_rows(pw, r, rows, nr, panel.data(), acc.data());
        for (int64_t rr = 0; rr < rows; ++rr) {
          const float off = float(offset * pw.row_sums[size_t(r + rr)]);
          const int32_t* a = acc.data() + rr * kI8Nr;
          for (int64_t j = 0; j < nr; ++j) y[rr * nr + j] = float(a[j]) - off;
        }
        if (per_panel == 1) ep.finish(n, gi * mg_ + r, rows, j0, y, nr, nr);  // rows shorter than a vector, packed
        for (int64_t i = 0; per_panel > 1 && i < images; ++i) ep.finish(n + i, r, rows, 0, y + i * pixels, nr, pixels);
      }
    });
  }

 private:
  // panel[k4][kI8Nr][4] for output pixels [j0, j0 + nr) of one image's group: k = (channel, kh, kw). Each k's
  // row of pixels is gathered contiguously first (runs of one output row are strided copies), then four rows at a
  // time are interleaved into the quads the kernel consumes.
  static void gather_panel(const Window& win, int64_t channels, const uint8_t* x, bool flip, uint8_t pad, int64_t j0,
                           int64_t nr, uint8_t* panel) {
    const int64_t ih = win.in[0], iw = win.in[1], ow = win.out[1];
    const int64_t kh = win.kernel[0], kw = win.kernel[1], sx = win.stride[1];
    const uint8_t sign = flip ? 0x80 : 0;
    if (pointwise(win)) {
      gather_pointwise(channels, x, ih * iw, sign, j0, nr, panel);
      return;
    }
    struct Run {
      int64_t j, len, oy, ox;
    };
    Run runs[kI8Nr];
    int nruns = 0;
    for (int64_t j = 0; j < nr;) {
      const int64_t p = j0 + j, oy = p / ow, ox = p % ow, len = std::min(ow - ox, nr - j);
      runs[nruns++] = {j, len, oy, ox};
      j += len;
    }
    alignas(64) uint8_t rows[4][kI8Nr];
    const int64_t k_total = channels * kh * kw;
    int64_t k = 0;
    for (int64_t ch = 0; ch < channels; ++ch)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b, ++k) {
          uint8_t* row = rows[k % 4];
          std::memset(row, pad, kI8Nr);
          const uint8_t* plane = x + ch * ih * iw;
          for (int r = 0; r < nruns; ++r) {
            const Run& run = runs[r];
            const int64_t y = run.oy * win.stride[0] - win.pad_begin[0] + a * win.dilation[0];
            if (y < 0 || y >= ih) continue;
            const int64_t x0 = run.ox * sx - win.pad_begin[1] + b * win.dilation[1];
            // the run's pixels whose input column lies inside the row: [lo, hi) (no divisions for stride 1: they
            // cost more than the copy)
            const int64_t lo = x0 >= 0 ? 0 : sx == 1 ? -x0 : (-x0 + sx - 1) / sx;
            const int64_t hi = std::min(run.len, x0 >= iw ? 0 : sx == 1 ? iw - x0 : (iw - 1 - x0) / sx + 1);
            const uint8_t* src = plane + y * iw + x0;
            uint8_t* dst = row + run.j;
            if (sx == 1)  // contiguous: a loop the compiler vectorizes
              for (int64_t t = lo; t < hi; ++t) dst[t] = uint8_t(src[t] ^ sign);
            else
              for (int64_t t = lo; t < hi; ++t) dst[t] = uint8_t(src[t * sx] ^ sign);
          }
          if (k % 4 == 3 || k == k_total - 1) {
            for (int64_t t = k % 4 + 1; t < 4; ++t) std::memset(rows[t], 0, kI8Nr);  // the last quad's padding
            interleave4(rows, panel + (k / 4) * kI8Nr * 4);
          }
        }
  }

  // A 1x1 window of stride 1 without padding: output pixel j reads input pixel j of every channel.
  static bool pointwise(const Window& win) {
    for (size_t i = 0; i < win.rank(); ++i)
      if (win.kernel[i] != 1 || win.stride[i] != 1 || win.pad_begin[i] != 0 || win.in[i] != win.out[i]) return false;
    return true;
  }

  // The channels' rows in quads, interleaved for the int8 GEMM: fill(k, row) writes channel k's kI8Nr bytes; the
  // last quad's missing channels are zero.
  template <class Fill>
  static void gather_quads(int64_t channels, uint8_t* panel, Fill fill) {
    alignas(64) uint8_t rows[4][kI8Nr];
    for (int64_t k0 = 0; k0 < channels; k0 += 4) {
      for (int64_t t = 0; t < 4; ++t) {
        if (k0 + t < channels) fill(k0 + t, rows[t]);
        else std::memset(rows[t], 0, kI8Nr);
      }
      interleave4(rows, panel + (k0 / 4) * kI8Nr * 4);
    }
  }

  // gather_panel for pointwise windows: k is the channel, and each k's row of pixels is one contiguous run of its
  // plane (the general gather's per-tap bookkeeping cost more than the products for small planes).
  static void gather_pointwise(int64_t channels, const uint8_t* x, int64_t plane, uint8_t sign, int64_t j0,
                               int64_t nr, uint8_t* panel) {
    gather_quads(channels, panel, [&](int64_t k, uint8_t* row) {
      const uint8_t* src = x + k * plane + j0;
#if TRTCORE_CPU_AVX512
      const __mmask64 mask = nr >= 64 ? ~__mmask64(0) : (__mmask64(1) << nr) - 1;
      _mm512_store_si512(row, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, src), _mm512_set1_epi8(char(sign))));
#else
      for (int64_t j = 0; j < nr; ++j) row[j] = uint8_t(src[j] ^ sign);
      std::memset(row + nr, 0, size_t(kI8Nr - nr));
#endif
    });
  }

  // gather_pointwise for whole planes of `images` images (`stride` bytes apart) side by side in one panel.
  static void gather_images(int64_t channels, const uint8_t* x, int64_t stride, int64_t images, int64_t plane,
                            uint8_t sign, uint8_t* panel) {
    gather_quads(channels, panel, [&](int64_t k, uint8_t* row) {
      std::memset(row, 0, kI8Nr);  // columns past the images
      for (int64_t i = 0; i < images; ++i) {
        const uint8_t* src = x + i * stride + k * plane;
        for (int64_t j = 0; j < plane; ++j) row[i * plane + j] = uint8_t(src[j] ^ sign);
      }
    });
  }

  Node node_;
  FusedActivation act_;
  int64_t group_ = 1, m_ = 0, mg_ = 0, kg_ = 0;
  std::vector<int64_t> kernel_;
  std::vector<PackedI8Weights> packed_;
  std::vector<float> depthwise_;  // filters for qconv_depthwise, when it runs this node
  bool direct_ = false;            // qconv_direct runs this node (packed_ in its k order)
};

}  // namespace

// Relu and Clip as plain min/max loops the compiler vectorizes; the others through the scalar definition.
static void apply_activation(const FusedActivation& act, float* y, int64_t n) {
  if (act.kind == Activation::kNone) return;
  if (act.kind == Activation::kRelu) {
    for (int64_t j = 0; j < n; ++j) y[j] = std::max(y[j], 0.f);
  } else if (act.kind == Activation::kClip) {
    for (int64_t j = 0; j < n; ++j) y[j] = std::min(std::max(y[j], act.alpha), act.beta);
  } else {
    for (int64_t j = 0; j < n; ++j) y[j] = act.apply(y[j]);
  }
}

// DequantizeLinear's (r - zero point) * scale, as the float residual a Q/DQ graph adds.
template <class T>
static void add_dequantized(const T* r, int64_t n, float scale, int32_t zp, float* y) {
  for (int64_t j = 0; j < n; ++j) y[j] += float(int32_t(r[j]) - zp) * scale;
}

// QuantizeLinear's x / scale, not x * (1 / scale): the reciprocal moves values across a rounding tie, and one
// flipped step early in a deep network can change its output by percents.
template <class T>
static void requantize(const float* y, int64_t n, float scale, int32_t zp, float lo, float hi, T* dst) {
  for (int64_t j = 0; j < n; ++j)
    dst[j] = T(std::min(std::max(std::nearbyint(y[j] / scale) + float(zp), lo), hi));
}

#if TRTCORE_CPU_AVX512
// finish() for the activations min/max express, in one pass of 16-lane vectors (masked at each row's end)
// instead of the scalar code's passes and tails. Each operation and its order is the scalar code's as this level
// compiles it (y * mul + b and the residual's d * scale + y contracted to one fma; std::max(y, lo) as
// max(lo, y), which keeps its answer for -0 and NaN), so outputs are bit-identical.
static void finish_avx512(const QConvEpilogue& ep, int64_t n, int64_t mi, int64_t rows, int64_t j0, const float* y,
                          int64_t ld, int64_t nr) {
  const bool relu = ep.act.kind == Activation::kRelu, clip = ep.act.kind == Activation::kClip;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 alo = _mm512_set1_ps(clip ? ep.act.alpha : 0.f), ahi = _mm512_set1_ps(clip ? ep.act.beta : 0.f);
  const __m512 ys = _mm512_set1_ps(ep.y_scale), yzp = _mm512_set1_ps(float(ep.y_zp)), rs = _mm512_set1_ps(ep.r_scale);
  const __m512 qlo = _mm512_set1_ps(ep.y_signed ? -128.f : 0.f), qhi = _mm512_set1_ps(ep.y_signed ? 127.f : 255.f);
  const __m512i rzp = _mm512_set1_epi32(ep.r_zp);
  // the reciprocal's error bound holds for normal scales (neither it nor 1 / scale near the float range's ends)
  const bool fast = ep.y_scale > 1e-30f && ep.y_scale < 1e30f;
  const __m512 inv = _mm512_set1_ps(fast ? 1.f / ep.y_scale : 0.f), rel = _mm512_set1_ps(0x1p-21f);
  const __m512 half = _mm512_set1_ps(0.5f);
  // one vector of 16 (m: those present) consecutive outputs from flat output index `at`
  const auto vec = [&](const float* src, size_t at, __mmask16 m, __m512 vmul, __m512 vb) {
    __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, src), vmul, vb);
    if (ep.residual) {
      v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, ep.residual + at));
    } else if (ep.residual_q) {
      const __m128i rb = _mm_maskz_loadu_epi8(m, static_cast<const uint8_t*>(ep.residual_q) + at);
      const __m512i ri = ep.residual_signed ? _mm512_cvtepi8_epi32(rb) : _mm512_cvtepu8_epi32(rb);
      v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ri, rzp)), rs, v);
    }
    if (relu) v = _mm512_max_ps(zero, v);
    else if (clip) v = _mm512_min_ps(ahi, _mm512_max_ps(alo, v));
    if (!ep.quantized_out) {
      _mm512_mask_storeu_ps(static_cast<float*>(ep.out) + at, m, v);
      return;
    }
    // nearbyint(v / y_scale) as nearbyint(v * inv), whose argument lies within |q| * 2^-22 of the quotient's: the
    // same integer unless q is that close to a half-integer (or not finite), where the quotient is computed
    const __m512 q0 = _mm512_mul_ps(v, inv);
    __m512 r = _mm512_roundscale_ps(q0, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    const __m512 margin = _mm512_fnmadd_ps(_mm512_abs_ps(q0), rel, half);  // 0.5 - |q| * 2^-21
    if (!fast || _mm512_mask_cmp_ps_mask(m, _mm512_abs_ps(_mm512_sub_ps(q0, r)), margin, _CMP_LT_OQ) != m)
      r = _mm512_roundscale_ps(_mm512_div_ps(v, ys), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    const __m512 q = _mm512_min_ps(qhi, _mm512_max_ps(qlo, _mm512_add_ps(r, yzp)));
    _mm512_mask_cvtepi32_storeu_epi8(static_cast<uint8_t*>(ep.out) + at, m, _mm512_cvttps_epi32(q));
  };
  const int64_t base = (n * ep.m + mi) * ep.pixels + j0;
  if (nr == ep.pixels && ld == nr && nr < 16 && rows <= 16) {
    // rows of fewer than 16 pixels, contiguous in y and in the output: full vectors across rows, each lane with
    // its row's multiplier and bias ((f + 0.5) / nr is never within float error of an integer for these f)
    float mul_rows[16] = {}, b_rows[16] = {};
    for (int64_t r = 0; r < rows; ++r) {
      mul_rows[r] = ep.mult[size_t(mi + r)];
      b_rows[r] = ep.bias ? ep.bias[mi + r] : 0.f;
    }
    const __m512 muls = _mm512_loadu_ps(mul_rows), bs = _mm512_loadu_ps(b_rows);
    const __m512 lane = _mm512_add_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                      _mm512_set1_ps(0.5f));
    const __m512 inv_nr = _mm512_set1_ps(1.f / float(nr));
    for (int64_t f = 0, total = rows * nr; f < total; f += 16) {
      const __mmask16 m = total - f >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (total - f)) - 1u);
      const __m512i row = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_add_ps(lane, _mm512_set1_ps(float(f))), inv_nr));
      vec(y + f, size_t(base + f), m, _mm512_permutexvar_ps(row, muls), _mm512_permutexvar_ps(row, bs));
    }
    return;
  }
  for (int64_t row = 0; row < rows; ++row) {
    const __m512 vmul = _mm512_set1_ps(ep.mult[size_t(mi + row)]);
    const __m512 vb = _mm512_set1_ps(ep.bias ? ep.bias[mi + row] : 0.f);
    for (int64_t j = 0; j < nr; j += 16) {
      const __mmask16 m = nr - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (nr - j)) - 1u);
      vec(y + row * ld + j, size_t(base + row * ep.pixels + j), m, vmul, vb);
    }
  }
}
#endif

void QConvEpilogue::finish(int64_t n, int64_t mi, int64_t rows, int64_t j0, float* y, int64_t ld,
                           int64_t nr) const {
#if TRTCORE_CPU_AVX512
  if (act.kind == Activation::kNone || act.kind == Activation::kRelu || act.kind == Activation::kClip) {
    finish_avx512(*this, n, mi, rows, j0, y, ld, nr);
    return;
  }
#endif
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * ld;
    const float mul = mult[size_t(mi + r)], b = bias ? bias[mi + r] : 0.f;
    for (int64_t j = 0; j < nr; ++j) yr[j] = yr[j] * mul + b;
  }
  const size_t base = size_t((n * m + mi) * pixels + j0);
  if (nr == pixels && ld == nr) {
    store(base, y, rows * nr);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) store(base + size_t(r * pixels), y + r * ld, nr);
}

void QConvEpilogue::store(size_t base, float* y, int64_t nr) const {
  if (residual)
    for (int64_t j = 0; j < nr; ++j) y[j] += residual[base + size_t(j)];
  else if (residual_q && residual_signed)
    add_dequantized(static_cast<const int8_t*>(residual_q) + base, nr, r_scale, r_zp, y);
  else if (residual_q)
    add_dequantized(static_cast<const uint8_t*>(residual_q) + base, nr, r_scale, r_zp, y);
  apply_activation(act, y, nr);
  if (!quantized_out) std::copy(y, y + nr, static_cast<float*>(out) + base);
  else if (y_signed) requantize(y, nr, y_scale, y_zp, -128.f, 127.f, static_cast<int8_t*>(out) + base);
  else requantize(y, nr, y_scale, y_zp, 0.f, 255.f, static_cast<uint8_t*>(out) + base);
}

TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(QConv, trtcore::cpu::QConvKernel)
