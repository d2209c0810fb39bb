// The channel-blocked depthwise kernel's register-level pieces (AVX-512 only), shared by the float Conv
// (depthwise.cpp) and the int8 QConv (qconv_depthwise.cpp): a 16x16 float transpose and output rows computed from a
// zero-bordered, channel-interleaved copy of the input ([rows][Wp][16 channels]).
#pragma once
#include "backends/cpu/isa.h"
#include <algorithm>
#include <cstdint>

#include "backends/cpu/im2col.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN

// Columns of the interleaved copy: the padded input width, or what the last output's window reaches.
inline int64_t padded_width(const Geometry3& g) {
  return std::max(g.in[2] + g.p[2], (g.out[2] - 1) * g.s[2] + (g.k[2] - 1) * g.d[2] + 1);
}

#if TRTCORE_CPU_AVX512

// Rows r[0..15] become columns: afterwards r[i] holds element i of every former row.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4q + c] holds, in 128-bit lane k, column 4k + c of rows 4q .. 4q + 3
  __m512 u[16];
  for (int q = 0; q < 4; ++q) {
    const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * q + 1]), d = _mm512_castps_pd(t[4 * q + 3]);
    u[4 * q + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}

// J consecutive outputs of one row (16 channels each): J independent accumulators, every tap one filter vector
// and J loads at fixed offsets. S is the width stride when known at compile time, else 0.
template <int J, int S>
inline void row_chunk(const float* src, const float* wt, int64_t kh_n, int64_t kw_n, int64_t row_step,
                      int64_t col_step, int64_t sw, __m512 vb, float* dst) {
  const int64_t step = (S > 0 ? S : sw) * 16;
  __m512 acc[J];
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) acc[j] = vb;
  for (int64_t kh = 0; kh < kh_n; ++kh) {
    const float* s = src + kh * row_step;
    for (int64_t kw = 0; kw < kw_n; ++kw, s += col_step, wt += 16) {
      const __m512 wv = _mm512_loadu_ps(wt);
#pragma GCC unroll 8
      for (int j = 0; j < J; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_load_ps(s + j * step), acc[j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < J; ++j) _mm512_store_ps(dst + j * 16, acc[j]);
}

template <int S>
inline void output_row(const float* src, const float* wt, const Geometry3& g, int64_t Wp, __m512 vb, float* dst) {
  const int64_t kh_n = g.k[1], kw_n = g.k[2], row_step = g.d[1] * Wp * 16, col_step = g.d[2] * 16, sw = g.s[2];
  const int64_t OW = g.out[2];
  int64_t ow = 0;
  for (; ow + 8 <= OW; ow += 8)
    row_chunk<8, S>(src + ow * sw * 16, wt, kh_n, kw_n, row_step, col_step, sw, vb, dst + ow * 16);
  const float* s = src + ow * sw * 16;
  float* d = dst + ow * 16;
  switch (OW - ow) {
    case 1: row_chunk<1, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 2: row_chunk<2, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 3: row_chunk<3, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 4: row_chunk<4, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 5: row_chunk<5, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 6: row_chunk<6, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    case 7: row_chunk<7, S>(s, wt, kh_n, kw_n, row_step, col_step, sw, vb, d); break;
    default: break;
  }
}

// Zeroes the border of the interleaved copy ([rows][Wp][16]) starting at input row ih0: the rows outside the image's
// [h_lo, h_hi), and the columns left and right of the W image columns, which start at column pw.
inline void zero_border(float* buf, int64_t rows, int64_t ih0, int64_t h_lo, int64_t h_hi, int64_t Wp, int64_t pw,
                        int64_t W) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t ih = ih0 + r;
    float* row = buf + r * Wp * 16;
    if (ih < h_lo || ih >= h_hi) {
      for (int64_t w = 0; w < Wp; ++w) _mm512_store_ps(row + w * 16, zero);
      continue;
    }
    for (int64_t w = 0; w < pw; ++w) _mm512_store_ps(row + w * 16, zero);
    for (int64_t w = pw + W; w < Wp; ++w) _mm512_store_ps(row + w * 16, zero);
  }
}

// Stores the first cnt of r[] (each one pixel's 16 channels, after transpose16) at buffer row h, column w (image
// columns, before the pw offset), moving on to the next row after W columns.
inline void store_pixels(float* buf, const __m512 r[16], int64_t cnt, int64_t Wp, int64_t pw, int64_t W, int64_t& h,
                         int64_t& w) {
  for (int64_t j = 0; j < cnt; ++j) {
    _mm512_store_ps(buf + (h * Wp + w + pw) * 16, r[j]);
    if (++w == W) {
      w = 0;
      ++h;
    }
  }
}

// Output rows [oh0, oh1) of the copy into obuf ([rows][OW][16]), bias vb in every output.
inline void output_rows(const float* buf, const float* wt, const Geometry3& g, int64_t Wp, __m512 vb, int64_t oh0,
                        int64_t oh1, float* obuf) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const float* src = buf + (oh - oh0) * g.s[1] * Wp * 16;
    float* dst = obuf + (oh - oh0) * g.out[2] * 16;
    if (g.s[2] == 1)
      output_row<1>(src, wt, g, Wp, vb, dst);
    else if (g.s[2] == 2)
      output_row<2>(src, wt, g, Wp, vb, dst);
    else
      output_row<0>(src, wt, g, Wp, vb, dst);
  }
}

#endif
TRTCORE_CPU_NAMESPACE_END
