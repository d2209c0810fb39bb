#include "backends/cpu/im2col.h"
#include "backends/cpu/strided.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN

Geometry3::Geometry3(const Window& w) {
  const size_t n = w.rank(), lead = 3 - n;
  for (size_t i = 0; i < 3; ++i) {
    const bool real = i >= lead;
    const size_t j = i - lead;
    in[i] = real ? w.in[j] : 1;
    out[i] = real ? w.out[j] : 1;
    k[i] = real ? w.kernel[j] : 1;
    s[i] = real ? w.stride[j] : 1;
    d[i] = real ? w.dilation[j] : 1;
    p[i] = real ? w.pad_begin[j] : 0;
  }
}

void im2col(const Geometry3& g, int64_t channels, const float* x, float* col, int threads) {
  const int64_t rows = channels * g.k_size(), osz = g.out_size();
  const int nt = threads > 1 ? threads : 1;
  parallel_items(nt, rows, osz, [&](int64_t from, int64_t to) {
    for (int64_t r = from; r < to; ++r) {
      int64_t t = r;
      const int64_t kw = t % g.k[2];
      t /= g.k[2];
      const int64_t kh = t % g.k[1];
      t /= g.k[1];
      const int64_t kd = t % g.k[0];
      const int64_t c = t / g.k[0];
      float* dst = col + r * osz;
      const float* plane = x + c * g.in_size();
      // valid output columns for this kw: 0 <= ow*s - p + kw*d < in
      const int64_t off_w = kw * g.d[2] - g.p[2];
      int64_t lo = off_w >= 0 ? 0 : (-off_w + g.s[2] - 1) / g.s[2];
      int64_t hi = g.in[2] - off_w <= 0 ? 0 : (g.in[2] - off_w + g.s[2] - 1) / g.s[2];
      lo = std::min(lo, g.out[2]);
      hi = std::max(lo, std::min(hi, g.out[2]));
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
        for (int64_t oh = 0; oh < g.out[1]; ++oh, dst += g.out[2]) {
          const int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
          if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
            std::memset(dst, 0, sizeof(float) * size_t(g.out[2]));
            continue;
          }
          const float* src = plane + (id * g.in[1] + ih) * g.in[2] + off_w;
          for (int64_t ow = 0; ow < lo; ++ow) dst[ow] = 0.f;
          if (g.s[2] == 1) {
            std::memcpy(dst + lo, src + lo, sizeof(float) * size_t(hi - lo));
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.s[2]];
          }
          for (int64_t ow = hi; ow < g.out[2]; ++ow) dst[ow] = 0.f;
        }
      }
    }
  });
}

namespace {

// o[t] = row[iw0 + t * stride] where 0 <= iw0 + t * stride < width, else 0, for t < len (stride 1 or 2).
inline void copy_run(const float* row, int64_t iw0, int64_t width, int64_t len, int64_t stride, float* o) {
#if TRTCORE_CPU_AVX512
  // masked loads never touch the padding, so edges need no scalar tail
  for (int64_t t0 = 0; t0 < len; t0 += 16) {
    const int64_t n = std::min<int64_t>(16, len - t0);
    const __mmask16 out_mask = __mmask16((1u << n) - 1u);
    const int64_t base = iw0 + t0 * stride;
    auto span_mask = [&](int64_t first, int64_t count) {  // valid source elements [first, first + count)
      const int64_t lo = std::max<int64_t>(0, -first), hi = std::min<int64_t>(count, width - first);
      if (hi <= lo) return __mmask16(0);
      return __mmask16(((1u << hi) - 1u) & ~((1u << lo) - 1u));
    };
    __m512 v;
    if (stride == 1) {
      v = _mm512_maskz_loadu_ps(__mmask16(span_mask(base, n)), row + base);
    } else {
      const __m512 a = _mm512_maskz_loadu_ps(span_mask(base, 16), row + base);
      const __m512 b = _mm512_maskz_loadu_ps(span_mask(base + 16, 16), row + base + 16);
      const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
      v = _mm512_permutex2var_ps(a, even, b);
    }
    _mm512_mask_storeu_ps(o + t0, out_mask, v);
  }
#else
  for (int64_t t = 0; t < len; ++t) {
    const int64_t iw = iw0 + t * stride;
    o[t] = iw >= 0 && iw < width ? row[iw] : 0.f;
  }
#endif
}

// Runs of columns on one output row read one input row each (contiguously when the stride is 1).
struct Run {
  int64_t col, len, od, oh, ow;
};

#if TRTCORE_CPU_AVX512
// For stride 1 or 2 and panels of at most 32 columns: the source offset and lane masks of every (tap, run) pair
// are worked out once per panel, after which each panel row is one or two masked loads and stores per run (the
// taps of one channel repeat for every channel).
void table_panel(const Geometry3& g, const float* x, const Run* runs, int nruns, int64_t k0, int64_t kc, int64_t nr,
                 int64_t ld, float* dst) {
  struct Entry {
    int64_t off;           // source offset inside a channel's plane
    __mmask16 src[2][2];   // per 16-column chunk: source-element masks of its (up to) two 16-wide loads
  };
  const int64_t isz = g.in_size(), ksz = g.k_size(), sw = g.s[2];
  thread_local std::vector<Entry> table;
  table.resize(size_t(ksz * nruns));
  auto span_mask = [&](int64_t first, int64_t count) {  // valid source elements [first, first + count) of a row
    const int64_t lo = std::max<int64_t>(0, -first), hi = std::min<int64_t>(count, g.in[2] - first);
    if (hi <= lo) return __mmask16(0);
    return __mmask16(((1u << hi) - 1u) & ~((1u << lo) - 1u));
  };
  for (int64_t t = 0; t < ksz; ++t) {
    const int64_t kw = t % g.k[2], kh = (t / g.k[2]) % g.k[1], kd = t / (g.k[2] * g.k[1]);
    for (int r = 0; r < nruns; ++r) {
      const Run& run = runs[r];
      Entry& e = table[size_t(t * nruns + r)];
      const int64_t id = run.od * g.s[0] - g.p[0] + kd * g.d[0], ih = run.oh * g.s[1] - g.p[1] + kh * g.d[1];
      const int64_t iw0 = run.ow * sw - g.p[2] + kw * g.d[2];
      const bool row_ok = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
      e.off = row_ok ? (id * g.in[1] + ih) * g.in[2] + iw0 : 0;
      for (int ch = 0; ch < 2; ++ch) {
        const int64_t n = std::max<int64_t>(0, std::min<int64_t>(16, run.len - 16 * ch));
        const int64_t first = iw0 + 16 * ch * sw;
        // stride 1: lanes [0, n); stride 2: source elements [0, 2n - 1) over two loads
        const int64_t need = sw == 1 ? n : std::max<int64_t>(0, 2 * n - 1);
        e.src[ch][0] = row_ok ? __mmask16(span_mask(first, std::min<int64_t>(16, need))) : __mmask16(0);
        e.src[ch][1] = row_ok && need > 16 ? span_mask(first + 16, need - 16) : __mmask16(0);
      }
    }
  }
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  int64_t t = k0 % ksz, c = k0 / ksz;
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * ld;
    const float* plane = x + c * isz;
    const Entry* row = table.data() + t * nruns;
    for (int r = 0; r < nruns; ++r) {
      const Run& run = runs[r];
      const Entry& e = row[r];
      const float* src = plane + e.off;
      for (int ch = 0; ch * 16 < run.len; ++ch) {
        const int64_t n = std::min<int64_t>(16, run.len - 16 * ch);
        const __mmask16 out = __mmask16((1u << n) - 1u);
        const float* s0 = src + 16 * ch * sw;
        __m512 v;
        if (sw == 1) {
          v = _mm512_maskz_loadu_ps(e.src[ch][0], s0);
        } else {
          v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(e.src[ch][0], s0), even,
                                     _mm512_maskz_loadu_ps(e.src[ch][1], s0 + 16));
        }
        _mm512_mask_storeu_ps(d + run.col + 16 * ch, out, v);
      }
    }
    for (int64_t j = nr; j < ld; ++j) d[j] = 0.f;
    if (++t == ksz) {
      t = 0;
      ++c;
    }
  }
}
#endif

}  // namespace

void im2col_panel(const Geometry3& g, const float* x, int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t ld,
                  float* dst) {
  const int64_t isz = g.in_size(), ksz = g.k_size();
  // end pads make the output larger than the input even with no begin pads: then it is not a block of the input
  const bool dense = ksz == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 && g.p[0] == 0 && g.p[1] == 0 &&
                     g.p[2] == 0 && g.out[0] == g.in[0] && g.out[1] == g.in[1] && g.out[2] == g.in[2];
  if (dense) {  // 1x1, stride 1, unpadded: the panel is a block of the input itself
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = x + (k0 + k) * isz + j0;
      float* d = dst + k * ld;
      for (int64_t j = 0; j < nr; ++j) d[j] = src[j];
      for (int64_t j = nr; j < ld; ++j) d[j] = 0.f;
    }
    return;
  }
  Run runs[64];
  int nruns = 0;
  for (int64_t j = 0; j < nr && nruns < 64;) {
    const int64_t pos = j0 + j, ow = pos % g.out[2], t = pos / g.out[2];
    const int64_t len = std::min(nr - j, g.out[2] - ow);
    runs[nruns++] = Run{j, len, t / g.out[1], t % g.out[1], ow};
    j += len;
  }
#if TRTCORE_CPU_AVX512
  if ((g.s[2] == 1 || g.s[2] == 2) && ld <= 32) {
    table_panel(g, x, runs, nruns, k0, kc, nr, ld, dst);
    return;
  }
#endif
  int64_t kw = k0 % g.k[2], kh = (k0 / g.k[2]) % g.k[1], kd = (k0 / (g.k[2] * g.k[1])) % g.k[0];
  int64_t c = k0 / ksz;
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * ld;
    const float* plane = x + c * isz;
    for (int r = 0; r < nruns; ++r) {
      const Run& run = runs[r];
      float* o = d + run.col;
      const int64_t id = run.od * g.s[0] - g.p[0] + kd * g.d[0], ih = run.oh * g.s[1] - g.p[1] + kh * g.d[1];
      if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
        for (int64_t t = 0; t < run.len; ++t) o[t] = 0.f;
        continue;
      }
      const float* row = plane + (id * g.in[1] + ih) * g.in[2];
      const int64_t iw0 = run.ow * g.s[2] - g.p[2] + kw * g.d[2];
      if (g.s[2] == 1 || g.s[2] == 2) {
        copy_run(row, iw0, g.in[2], run.len, g.s[2], o);
      } else {
        for (int64_t t = 0; t < run.len; ++t) {
          const int64_t iw = iw0 + t * g.s[2];
          o[t] = iw >= 0 && iw < g.in[2] ? row[iw] : 0.f;
        }
      }
    }
    for (int64_t j = nr; j < ld; ++j) d[j] = 0.f;
    if (++kw == g.k[2]) {
      kw = 0;
      if (++kh == g.k[1]) {
        kh = 0;
        if (++kd == g.k[0]) {
          kd = 0;
          ++c;
        }
      }
    }
  }
}

void col2im_add(const Geometry3& g, int64_t channels, const float* col, float* y, int threads) {
  const int64_t kn = g.k_size(), isz = g.in_size(), osz = g.out_size();
  const int nt = threads > 1 ? threads : 1;
  // one channel per iteration: each writes only its own output plane
  parallel_items(nt, channels, kn * isz, [&](int64_t from, int64_t to) {
    for (int64_t c = from; c < to; ++c) {
      float* plane = y + c * osz;
      for (int64_t kk = 0; kk < kn; ++kk) {
        const int64_t kw = kk % g.k[2], kh = (kk / g.k[2]) % g.k[1], kd = kk / (g.k[2] * g.k[1]);
        const float* src = col + (c * kn + kk) * isz;
        for (int64_t id = 0; id < g.in[0]; ++id) {
          const int64_t od = id * g.s[0] - g.p[0] + kd * g.d[0];
          if (od < 0 || od >= g.out[0]) continue;
          for (int64_t ih = 0; ih < g.in[1]; ++ih) {
            const int64_t oh = ih * g.s[1] - g.p[1] + kh * g.d[1];
            if (oh < 0 || oh >= g.out[1]) continue;
            const float* s = src + (id * g.in[1] + ih) * g.in[2];
            float* dst = plane + (od * g.out[1] + oh) * g.out[2];
            for (int64_t iw = 0; iw < g.in[2]; ++iw) {
              const int64_t ow = iw * g.s[2] - g.p[2] + kw * g.d[2];
              if (ow >= 0 && ow < g.out[2]) dst[ow] += s[iw];
            }
          }
        }
      }
    }
  });
}

TRTCORE_CPU_NAMESPACE_END
