// Patch extraction for convolutions (im2col) and its adjoint (col2im), for 1-, 2- and 3-d windows. Both view every
// window as 3-d (missing leading axes have extent 1), so one code path serves all ranks.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>

#include "ops/window.h"

TRTCORE_CPU_NAMESPACE_BEGIN

// Window geometry padded to 3 spatial axes.
struct Geometry3 {
  int64_t in[3], out[3], k[3], s[3], d[3], p[3];
  explicit Geometry3(const Window& w);
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
};

// col[(c, kd, kh, kw), (od, oh, ow)] = x[c, ...] or 0 in the padding; x holds `channels` planes.
void im2col(const Geometry3& g, int64_t channels, const float* x, float* col, int threads);
// One column panel of the im2col matrix written straight into GEMM panel layout, without materialising col:
// dst[k * ld + j] = col[k0 + k, j0 + j] for k < kc, j < nr, and 0 for nr <= j < ld.
void im2col_panel(const Geometry3& g, const float* x, int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t ld,
                  float* dst);
// y[c, ...] += col[(c, kd, kh, kw), (id, ih, iw)] for the transposed convolution; `g.in` is the col's spatial
// extent (the ConvTranspose input) and `g.out` the image's (its output).
void col2im_add(const Geometry3& g, int64_t channels, const float* col, float* y, int threads);

TRTCORE_CPU_NAMESPACE_END
