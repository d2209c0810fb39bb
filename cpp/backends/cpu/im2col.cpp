#include "backends/cpu/im2col.h"

#include <algorithm>
#include <cstring>

namespace trtcore::cpu {

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
#pragma omp parallel for num_threads(nt) if (nt > 1 && rows * osz > 32768) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
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
}

void col2im_add(const Geometry3& g, int64_t channels, const float* col, float* y, int threads) {
  const int64_t kn = g.k_size(), isz = g.in_size(), osz = g.out_size();
  const int nt = threads > 1 ? threads : 1;
  // one channel per iteration: each writes only its own output plane
#pragma omp parallel for num_threads(nt) if (nt > 1 && channels > 1) schedule(static)
  for (int64_t c = 0; c < channels; ++c) {
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
}

}  // namespace trtcore::cpu
