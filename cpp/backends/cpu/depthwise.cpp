#include "backends/cpu/depthwise.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/depthwise_rows.h"
#include "backends/cpu/sgemm.h"
#include "backends/cpu/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN

std::vector<float> pack_channel_blocks(const float* w, int64_t m, int64_t taps) {
  const int64_t blocks = (m + 15) / 16;
  std::vector<float> out(size_t(blocks * taps * 16), 0.f);
  for (int64_t oc = 0; oc < m; ++oc)
    for (int64_t t = 0; t < taps; ++t) out[size_t(((oc / 16) * taps + t) * 16 + oc % 16)] = w[oc * taps + t];
  return out;
}

#if TRTCORE_CPU_AVX512
// GCC 12 flags the intrinsics' own undefined-vector idiom in unpack*_ps wherever transpose16 is inlined (a false
// positive), so the AVX-512 kernels below are compiled without that warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace {

bool in_register(Activation a) { return activation_in_register(a); }

float* aligned_scratch(int64_t floats) {
  thread_local std::vector<float> buf;
  if (buf.size() < size_t(floats + 16)) buf.resize(size_t(floats + 16));
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) / 64 * 64);
}

// Output rows [oh0, oh1) of one image's 16-channel block: the input rows they read -> zero-bordered
// channel-interleaved copy -> outputs (interleaved) -> planes, with residual and activation applied on the way out.
void block(const Geometry3& g, int64_t c, int64_t mult, int64_t n, int64_t blk, int64_t oh0, int64_t oh1,
           const float* x, const float* packed, const float* bias, const float* residual, const FusedActivation& act,
           float* y) {
  const int64_t m = c * mult, oc0 = blk * 16, lanes = std::min<int64_t>(16, m - oc0);
  const int64_t H = g.in[1], W = g.in[2], OW = g.out[2], pw = g.p[2], sh = g.s[1];
  const int64_t isz = H * W, osz = g.out[1] * OW, taps = g.k[1] * g.k[2];
  const int64_t rows = (oh1 - 1 - oh0) * sh + (g.k[1] - 1) * g.d[1] + 1, ih0 = oh0 * sh - g.p[1];
  const int64_t Wp = padded_width(g);
  const int64_t band = (oh1 - oh0) * OW;
  float* buf = aligned_scratch((rows * Wp + band) * 16);
  float* obuf = buf + rows * Wp * 16;
  const __m512 zero = _mm512_setzero_ps();
  // input rows [h_lo, h_hi) are inside the image; only the border around them is zeroed
  const int64_t h_lo = std::max<int64_t>(0, ih0), h_hi = std::min(H, ih0 + rows);
  zero_border(buf, rows, ih0, h_lo, h_hi, Wp, pw, W);
  const float* planes[16];
  for (int64_t l = 0; l < 16; ++l) planes[l] = l < lanes ? x + (n * c + (oc0 + l) / mult) * isz : nullptr;
  __m512 r[16];
  int64_t h = h_lo - ih0, w = 0;  // buffer row and column of element p0
  for (int64_t p0 = h_lo * W, pend = h_hi * W; p0 < pend; p0 += 16) {
    const int64_t cnt = std::min<int64_t>(16, pend - p0);
    const __mmask16 mask = __mmask16((1u << cnt) - 1u);
    for (int l = 0; l < 16; ++l) r[l] = planes[l] ? _mm512_maskz_loadu_ps(mask, planes[l] + p0) : zero;
    transpose16(r);
    store_pixels(buf, r, cnt, Wp, pw, W, h, w);
  }
  const float* wt = packed + blk * taps * 16;
  const __mmask16 lane_mask = __mmask16((1u << lanes) - 1u);
  const __m512 vb = bias ? _mm512_maskz_loadu_ps(lane_mask, bias + oc0) : zero;
  output_rows(buf, wt, g, Wp, vb, oh0, oh1, obuf);
  const bool fused = in_register(act.kind);
  for (int64_t q0 = 0; q0 < band; q0 += 16) {
    const int64_t cnt = std::min<int64_t>(16, band - q0), p0 = oh0 * OW + q0;
    const __mmask16 mask = __mmask16((1u << cnt) - 1u);
    for (int64_t j = 0; j < 16; ++j) r[j] = j < cnt ? _mm512_load_ps(obuf + (q0 + j) * 16) : zero;
    transpose16(r);
    for (int64_t l = 0; l < lanes; ++l) {
      const int64_t plane = n * m + oc0 + l;
      __m512 v = r[l];
      if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, residual + plane * osz + p0));
      if (fused) v = activate16(act, v);
      _mm512_mask_storeu_ps(y + plane * osz + p0, mask, v);
    }
  }
}

// Output rows [oh0, oh1) of image n for a dense conv with few taps per output: 16 pixels x 16 channels per step,
// each tap one filter vector times a broadcast input element, from a zero-bordered copy of the rows read.
template <int S>
void small_taps_band(const Geometry3& g, int64_t c, int64_t m, int64_t n, int64_t oh0, int64_t oh1, const float* x,
                     const float* packed, const float* bias, const float* residual, const FusedActivation& act,
                     float* y) {
  const int64_t H = g.in[1], W = g.in[2], OW = g.out[2], sh = g.s[1], sw = S > 0 ? S : g.s[2];
  const int64_t kh_n = g.k[1], kw_n = g.k[2], taps = c * kh_n * kw_n, osz = g.out[1] * OW;
  const int64_t rows = (oh1 - 1 - oh0) * sh + (kh_n - 1) * g.d[1] + 1, ih0 = oh0 * sh - g.p[1];
  const int64_t chunks = (OW + 15) / 16;
  const int64_t Wp = std::max(W + g.p[2], (chunks * 16 - 1) * sw + (kw_n - 1) * g.d[2] + 1);
  float* buf = aligned_scratch(c * rows * Wp);
  for (int64_t ic = 0; ic < c; ++ic)
    for (int64_t r = 0; r < rows; ++r) {
      float* row = buf + (ic * rows + r) * Wp;
      const int64_t ih = ih0 + r;
      if (ih < 0 || ih >= H) {
        std::fill(row, row + Wp, 0.f);
        continue;
      }
      std::fill(row, row + g.p[2], 0.f);
      std::copy(x + ((n * c + ic) * H + ih) * W, x + ((n * c + ic) * H + ih + 1) * W, row + g.p[2]);
      std::fill(row + g.p[2] + W, row + Wp, 0.f);
    }
  int64_t off[kSmallTapsMax];
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t kw = t % kw_n, kh = (t / kw_n) % kh_n, ic = t / (kw_n * kh_n);
    off[t] = (ic * rows + kh * g.d[1]) * Wp + kw * g.d[2];
  }
  const bool fused = in_register(act.kind);
  __m512 acc[16];
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const float* base = buf + (oh - oh0) * sh * Wp;
    for (int64_t ow0 = 0; ow0 < OW; ow0 += 16) {
      const int64_t cnt = std::min<int64_t>(16, OW - ow0);
      const __mmask16 mask = __mmask16((1u << cnt) - 1u);
      const float* src = base + ow0 * sw;
      for (int64_t oc0 = 0; oc0 < m; oc0 += 16) {
        const int64_t lanes = std::min<int64_t>(16, m - oc0);
        const __m512 vb = bias ? _mm512_maskz_loadu_ps(__mmask16((1u << lanes) - 1u), bias + oc0)
                               : _mm512_setzero_ps();
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j) acc[j] = vb;
        const float* wt = packed + oc0 * taps;
        for (int64_t t = 0; t < taps; ++t, wt += 16) {
          const __m512 wv = _mm512_loadu_ps(wt);
          const float* s = src + off[t];
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_set1_ps(s[j * sw]), acc[j]);
        }
        transpose16(acc);
        for (int64_t l = 0; l < lanes; ++l) {
          const int64_t at = (n * m + oc0 + l) * osz + oh * OW + ow0;
          __m512 v = acc[l];
          if (residual) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, residual + at));
          if (fused) v = activate16(act, v);
          _mm512_mask_storeu_ps(y + at, mask, v);
        }
      }
    }
  }
}

}  // namespace

bool depthwise_blocked_suits(const Geometry3& g) {
  return g.in[0] == 1 && g.k[0] == 1;
}

// Not 1x1 windows of four or more channels: the GEMM runs them 3-4x faster (8 -> 48 channels at 32x32, batch 8:
// 0.054 against 0.20 ms), as it does 1x1 convolutions of more channels.
bool small_taps_suits(const Geometry3& g, int64_t group, int64_t c) {
  return group == 1 && g.in[0] == 1 && g.k[0] == 1 && c * g.k_size() <= kSmallTapsMax && (g.k_size() > 1 || c < 4);
}

void small_taps_conv(const Geometry3& g, int64_t batch, int64_t c, int64_t m, const float* x, const float* packed,
                     const float* bias, const float* residual, const FusedActivation& act, float* y, int threads) {
  const int64_t OH = g.out[1], band = 4, bands = (OH + band - 1) / band, tasks = batch * bands;
  const int nt = threads > 1 ? threads : 1;
  const bool parallel = nt > 1 && tasks > 1 && batch * m * g.out_size() * c * g.k_size() >= kMinParallelMacs;
  parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
    const int64_t n = t / bands, oh0 = t % bands * band, oh1 = std::min(OH, oh0 + band);
    if (g.s[2] == 1)
      small_taps_band<1>(g, c, m, n, oh0, oh1, x, packed, bias, residual, act, y);
    else if (g.s[2] == 2)
      small_taps_band<2>(g, c, m, n, oh0, oh1, x, packed, bias, residual, act, y);
    else
      small_taps_band<0>(g, c, m, n, oh0, oh1, x, packed, bias, residual, act, y);
  });
  if (in_register(act.kind)) return;
  GemmEpilogue ep;
  ep.act = act;
  apply_epilogue(ep, 0, 0, batch * m, g.out_size(), y, g.out_size());
}

void depthwise_blocked(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const float* x,
                       const float* packed, const float* bias, const float* residual, const FusedActivation& act, float* y,
                       int threads) {
  const int64_t m = c * mult, blocks = (m + 15) / 16, OH = g.out[1], OW = g.out[2];
  // bands of output rows whose interleaved input and output copies stay in L2 (whole planes up to ~40x40)
  const int64_t Wp = padded_width(g);
  const int64_t per_row = (g.s[1] * Wp + OW) * 16 * int64_t(sizeof(float)), budget = 192 * 1024;
  const int64_t rows = std::max<int64_t>(1, std::min(OH, budget / per_row));
  const int64_t bands = (OH + rows - 1) / rows, tasks = batch * blocks * bands;
  const int nt = threads > 1 ? threads : 1;
  const bool parallel = nt > 1 && tasks > 1 && batch * m * g.out_size() * g.k_size() >= kMinParallelWindowMacs;
  parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
    const int64_t band = t % bands, u = t / bands, oh0 = band * OH / bands, oh1 = (band + 1) * OH / bands;
    block(g, c, mult, u / blocks, u % blocks, oh0, oh1, x, packed, bias, residual, act, y);
  });
  if (in_register(act.kind)) return;
  GemmEpilogue ep;
  ep.act = act;
  apply_epilogue(ep, 0, 0, batch * m, g.out_size(), y, g.out_size());
}
#pragma GCC diagnostic pop
#else
bool depthwise_blocked_suits(const Geometry3&) { return false; }
bool small_taps_suits(const Geometry3&, int64_t, int64_t) { return false; }
void small_taps_conv(const Geometry3&, int64_t, int64_t, int64_t, const float*, const float*, const float*,
                     const float*, const FusedActivation&, float*, int) {}
void depthwise_blocked(const Geometry3&, int64_t, int64_t, int64_t, const float*, const float*, const float*,
                       const float*, const FusedActivation&, float*, int) {}
#endif

TRTCORE_CPU_NAMESPACE_END
