#include "backends/cpu/qconv_depthwise.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/cpu/depthwise.h"
#include "backends/cpu/depthwise_rows.h"
#include "backends/cpu/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

float* aligned_floats(std::vector<float>& buf, int64_t floats) {
  if (buf.size() < size_t(floats + 16)) buf.resize(size_t(floats + 16));
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) / 64 * 64);
}

#if TRTCORE_CPU_AVX512
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // the intrinsics' undefined-vector idiom (depthwise.cpp)

// 16 (or cnt) bytes of one plane as floats x - zp.
inline __m512 load_centered(const void* p, __mmask16 mask, bool x_signed, __m512i zp) {
  const __m128i b = _mm_maskz_loadu_epi8(mask, p);
  const __m512i v = x_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
  return _mm512_cvtepi32_ps(_mm512_sub_epi32(v, zp));
}

// Output rows [oh0, oh1) of one image's 16-channel block, as depthwise.cpp's float block(): the input rows read ->
// zero-bordered channel-interleaved floats (x - zp) -> exact sums (interleaved) -> one row of sums per channel ->
// the epilogue.
void block(const Geometry3& g, int64_t c, int64_t mult, int64_t n, int64_t blk, int64_t oh0, int64_t oh1,
           const void* x, bool x_signed, int32_t x_zp, const float* packed, const QConvEpilogue& ep) {
  const int64_t m = c * mult, oc0 = blk * 16, lanes = std::min<int64_t>(16, m - oc0);
  const int64_t H = g.in[1], W = g.in[2], OW = g.out[2], pw = g.p[2], sh = g.s[1], taps = g.k[1] * g.k[2];
  const int64_t rows = (oh1 - 1 - oh0) * sh + (g.k[1] - 1) * g.d[1] + 1, ih0 = oh0 * sh - g.p[1];
  const int64_t Wp = padded_width(g), band = (oh1 - oh0) * OW, band16 = (band + 15) / 16 * 16;
  thread_local std::vector<float> scratch;
  float* buf = aligned_floats(scratch, (rows * Wp + 2 * band16) * 16);
  float* obuf = buf + rows * Wp * 16;
  float* sums = obuf + band16 * 16;  // [16][band]: the sums of each channel, pixel after pixel
  const __m512 zero = _mm512_setzero_ps();
  const int64_t h_lo = std::max<int64_t>(0, ih0), h_hi = std::min(H, ih0 + rows);
  zero_border(buf, rows, ih0, h_lo, h_hi, Wp, pw, W);
  const uint8_t* planes[16];
  for (int64_t l = 0; l < 16; ++l)
    planes[l] = l < lanes ? static_cast<const uint8_t*>(x) + (n * c + (oc0 + l) / mult) * H * W : nullptr;
  const __m512i zp = _mm512_set1_epi32(x_zp);
  __m512 r[16];
  int64_t h = h_lo - ih0, w = 0;
  for (int64_t p0 = h_lo * W, pend = h_hi * W; p0 < pend; p0 += 16) {
    const int64_t cnt = std::min<int64_t>(16, pend - p0);
    const __mmask16 mask = __mmask16((1u << cnt) - 1u);
    for (int l = 0; l < 16; ++l) r[l] = planes[l] ? load_centered(planes[l] + p0, mask, x_signed, zp) : zero;
    transpose16(r);
    store_pixels(buf, r, cnt, Wp, pw, W, h, w);
  }
  const float* wt = packed + blk * taps * 16;
  output_rows(buf, wt, g, Wp, zero, oh0, oh1, obuf);
  for (int64_t q0 = 0; q0 < band; q0 += 16) {
    const int64_t cnt = std::min<int64_t>(16, band - q0);
    const __mmask16 mask = __mmask16((1u << cnt) - 1u);
    for (int64_t j = 0; j < 16; ++j) r[j] = j < cnt ? _mm512_load_ps(obuf + (q0 + j) * 16) : zero;
    transpose16(r);
    for (int64_t l = 0; l < lanes; ++l) _mm512_mask_storeu_ps(sums + l * band + q0, mask, r[l]);
  }
  ep.finish(n, oc0, lanes, oh0 * OW, sums, band, band);
}

void run_blocked(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const void* x, bool x_signed,
                 int32_t x_zp, const float* packed, const QConvEpilogue& ep, int threads) {
  const int64_t m = c * mult, blocks = (m + 15) / 16, OH = g.out[1], OW = g.out[2];
  // bands of output rows whose interleaved copies and sums stay in L2, as for the float kernel
  const int64_t per_row = (g.s[1] * padded_width(g) + 2 * OW) * 16 * int64_t(sizeof(float)), budget = 192 * 1024;
  const int64_t rows = std::max<int64_t>(1, std::min(OH, budget / per_row));
  const int64_t bands = (OH + rows - 1) / rows, tasks = batch * blocks * bands;
  const int nt = threads > 1 ? threads : 1;
  const bool parallel = nt > 1 && tasks > 1 && batch * m * g.out_size() * g.k_size() >= kMinParallelWindowMacs;
  parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
    const int64_t band = t % bands, u = t / bands, oh0 = band * OH / bands, oh1 = (band + 1) * OH / bands;
    block(g, c, mult, u / blocks, u % blocks, oh0, oh1, x, x_signed, x_zp, packed, ep);
  });
}
#pragma GCC diagnostic pop
#else
// One output plane (image n, channel nm % m): a zero-bordered float copy of its input plane (x - zp), then each
// output row as a sum of shifted input rows, a loop the compiler vectorizes for strides 1 and 2.
template <int S>
void plane(const Geometry3& g, int64_t c, int64_t mult, int64_t nm, const void* x, bool x_signed, int32_t x_zp,
           const float* w, const QConvEpilogue& ep) {
  const int64_t m = c * mult, n = nm / m, oc = nm % m, H = g.in[1], W = g.in[2], OH = g.out[1], OW = g.out[2];
  const int64_t sw = S > 0 ? S : g.s[2], Wp = padded_width(g), taps = g.k[1] * g.k[2];
  const int64_t Hp = std::max(H + g.p[1], (OH - 1) * g.s[1] + (g.k[1] - 1) * g.d[1] + 1);
  thread_local std::vector<float> scratch;
  float* buf = aligned_floats(scratch, Hp * Wp + OH * OW);
  float* sums = buf + Hp * Wp;
  std::fill(buf, buf + Hp * Wp, 0.f);
  const int64_t at = (n * c + oc / mult) * H * W;
  for (int64_t ih = 0; ih < H; ++ih) {
    float* row = buf + (ih + g.p[1]) * Wp + g.p[2];
    if (x_signed) {
      const int8_t* src = static_cast<const int8_t*>(x) + at + ih * W;
      for (int64_t iw = 0; iw < W; ++iw) row[iw] = float(int32_t(src[iw]) - x_zp);
    } else {
      const uint8_t* src = static_cast<const uint8_t*>(x) + at + ih * W;
      for (int64_t iw = 0; iw < W; ++iw) row[iw] = float(int32_t(src[iw]) - x_zp);
    }
  }
  const float* wk = w + oc * taps;
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* acc = sums + oh * OW;
    std::fill(acc, acc + OW, 0.f);
    for (int64_t kh = 0; kh < g.k[1]; ++kh)
      for (int64_t kw = 0; kw < g.k[2]; ++kw) {
        const float wv = wk[kh * g.k[2] + kw];
        const float* src = buf + (oh * g.s[1] + kh * g.d[1]) * Wp + kw * g.d[2];
#pragma omp simd
        for (int64_t ow = 0; ow < OW; ++ow) acc[ow] += wv * src[ow * sw];
      }
  }
  ep.finish(n, oc, 1, 0, sums, OH * OW, OH * OW);
}

void run_planes(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const void* x, bool x_signed,
                int32_t x_zp, const float* w, const QConvEpilogue& ep, int threads) {
  const int64_t planes = batch * c * mult;
  const int nt = threads > 1 ? threads : 1;
  const bool parallel = nt > 1 && planes * g.out_size() * g.k_size() >= kMinParallelWindowMacs;
  const int64_t tasks = parallel ? std::min<int64_t>(planes, 8 * nt) : 1;
  parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
    for (int64_t nm = planes * t / tasks; nm < planes * (t + 1) / tasks; ++nm) {
      if (g.s[2] == 1)
        plane<1>(g, c, mult, nm, x, x_signed, x_zp, w, ep);
      else if (g.s[2] == 2)
        plane<2>(g, c, mult, nm, x, x_signed, x_zp, w, ep);
      else
        plane<0>(g, c, mult, nm, x, x_signed, x_zp, w, ep);
    }
  });
}
#endif

}  // namespace

std::vector<float> pack_qconv_depthwise(const int8_t* w, int64_t m, int64_t taps) {
  std::vector<float> f(size_t(m * taps));
  for (size_t i = 0; i < f.size(); ++i) f[i] = float(w[i]);
#if TRTCORE_CPU_AVX512
  return pack_channel_blocks(f.data(), m, taps);
#else
  return f;
#endif
}

void qconv_depthwise(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const void* x, bool x_signed,
                     int32_t x_zp, const std::vector<float>& packed, const QConvEpilogue& ep, int threads) {
#if TRTCORE_CPU_AVX512
  run_blocked(g, batch, c, mult, x, x_signed, x_zp, packed.data(), ep, threads);
#else
  run_planes(g, batch, c, mult, x, x_signed, x_zp, packed.data(), ep, threads);
#endif
}

TRTCORE_CPU_NAMESPACE_END
