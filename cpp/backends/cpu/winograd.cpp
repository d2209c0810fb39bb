// Winograd F(2x2, 3x3): U = G g G^T per filter (once), V = B^T d B per 4x4 input tile, M = U . V summed over input
// channels (16 GEMMs, one per tile position), y = A^T M A per 2x2 output tile with bias/residual/activation.
// Tiles are processed in blocks (one pool task each, rows split too when there are few blocks) so a block's
// transformed input and products stay in cache between the three steps.
#include "backends/cpu/winograd.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backends/cpu/thread_pool.h"
#include "backends/cpu/vec_math.h"

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// 64-byte aligned per-thread scratch (the micro-kernel loads B panels aligned).
float* scratch(int which, int64_t floats) {
  thread_local std::unique_ptr<float, AlignedFree> bufs[2];
  thread_local int64_t caps[2] = {0, 0};
  if (caps[which] < floats) {
    const size_t bytes = (size_t(floats) * sizeof(float) + 63) / 64 * 64;
    bufs[which].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    caps[which] = floats;
  }
  return bufs[which].get();
}

inline float activate(const FusedActivation& act, float v) {
  switch (act.kind) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v < 0.f ? 0.f : v;  // NaN propagates
    case Activation::kSigmoid: return sigmoid_fast(v);
    case Activation::kTanh: return tanh_fast(v);
    case Activation::kSiLU: return v * sigmoid_fast(v);
    case Activation::kClip: {  // inline (apply() is an out-of-line call per element)
      const float y = v < act.alpha ? act.alpha : v;
      return y > act.beta ? act.beta : y;
    }
    default: return act.apply(v);
  }
}

// Sizes shared by every task of one run: 2x2 output tiles (TW per row, per_image per image), plane sizes, and the
// K-slices of the packed B panels.
struct Tiling {
  int64_t C, M, H, W, OH, OW, ph, pw;
  int64_t TW, per_image, tiles, isz, osz;
  int64_t nr, slices, ks;
};

// One task's work: tiles [t0, t0 + nb), padded to npad columns, for output channels [m0, m1); vsz floats per
// transformed input matrix.
struct TileBlock {
  int64_t t0, nb, npad, m0, m1, vsz;
};

#if TRTCORE_CPU_AVX512
// 16 tiles at a time: each of the 16 tile elements is one masked gather (zeros in the padding), with offsets and
// masks worked out once per block and reused for every channel
inline void input_gather_table(const Tiling& t, const TileBlock& b, std::vector<int32_t>& gidx,
                               std::vector<__mmask16>& gmask) {
  const int64_t groups = b.npad / 16;
  gidx.assign(size_t(groups * 256), 0);
  gmask.assign(size_t(groups * 16), 0);
  for (int64_t j = 0; j < b.nb; ++j) {
    const int64_t gt = b.t0 + j, n = gt / t.per_image, th = gt % t.per_image / t.TW, tw = gt % t.TW;
    const int64_t ih0 = th * 2 - t.ph, iw0 = tw * 2 - t.pw, gi = j / 16, lane = j % 16;
    for (int e = 0; e < 16; ++e) {
      const int64_t ih = ih0 + e / 4, iw = iw0 + e % 4;
      if (ih < 0 || ih >= t.H || iw < 0 || iw >= t.W) continue;
      gidx[size_t((gi * 16 + e) * 16 + lane)] = int32_t(n * t.C * t.isz + ih * t.W + iw);
      gmask[size_t(gi * 16 + e)] |= __mmask16(1u << lane);
    }
  }
}

// V = B^T d B of 16 tiles (one per lane), B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; element xi goes to
// dst + xi * vsz.
inline void input_transform16(const __m512* d, float* dst, int64_t vsz) {
  __m512 t[16];
  for (int q = 0; q < 4; ++q) {
    t[q] = _mm512_sub_ps(d[q], d[8 + q]);
    t[4 + q] = _mm512_add_ps(d[4 + q], d[8 + q]);
    t[8 + q] = _mm512_sub_ps(d[8 + q], d[4 + q]);
    t[12 + q] = _mm512_sub_ps(d[4 + q], d[12 + q]);
  }
  for (int r = 0; r < 4; ++r) {
    const __m512* tr = t + 4 * r;
    _mm512_store_ps(dst + (r * 4 + 0) * vsz, _mm512_sub_ps(tr[0], tr[2]));
    _mm512_store_ps(dst + (r * 4 + 1) * vsz, _mm512_add_ps(tr[1], tr[2]));
    _mm512_store_ps(dst + (r * 4 + 2) * vsz, _mm512_sub_ps(tr[2], tr[1]));
    _mm512_store_ps(dst + (r * 4 + 3) * vsz, _mm512_sub_ps(tr[1], tr[3]));
  }
}

// Transformed input of a block, channel by channel, written in sgemm's packed B layout (16 tiles per gather).
inline void transform_input(const float* x, const Tiling& t, const TileBlock& b, float* v) {
  const int64_t groups = b.npad / 16;
  thread_local std::vector<int32_t> gidx;
  thread_local std::vector<__mmask16> gmask;
  input_gather_table(t, b, gidx, gmask);
  for (int64_t s = 0; s < t.slices; ++s) {
    const int64_t pc = s * t.ks, kc = std::min(t.ks, t.C - pc);
    for (int64_t k = 0; k < kc; ++k) {
      const float* base = x + (pc + k) * t.isz;
      float* vk = v + pc * b.npad + k * t.nr;
      for (int64_t gi = 0; gi < groups; ++gi) {
        __m512 d[16];
        for (int e = 0; e < 16; ++e) {
          const __m512i idx = _mm512_loadu_si512(gidx.data() + (gi * 16 + e) * 16);
          d[e] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), gmask[size_t(gi * 16 + e)], idx, base, 4);
        }
        input_transform16(d, vk + gi * 16 / t.nr * t.nr * kc + gi * 16 % t.nr, b.vsz);
      }
    }
  }
}

// Scatter offsets and masks of a block's 2x2 output tiles, 16 tiles at a time (the 4 elements of each tile).
inline void output_scatter_table(const Tiling& t, const TileBlock& b, std::vector<int32_t>& oidx,
                                 std::vector<__mmask16>& omask) {
  const int64_t groups = b.npad / 16;
  oidx.assign(size_t(groups * 64), 0);
  omask.assign(size_t(groups * 4), 0);
  for (int64_t j = 0; j < b.nb; ++j) {
    const int64_t gt = b.t0 + j, n = gt / t.per_image, th = gt % t.per_image / t.TW, tw = gt % t.TW, gi = j / 16;
    for (int e = 0; e < 4; ++e) {
      const int64_t oh = th * 2 + e / 2, ow = tw * 2 + e % 2;
      if (oh >= t.OH || ow >= t.OW) continue;
      oidx[size_t((gi * 4 + e) * 16 + j % 16)] = int32_t(n * t.M * t.osz + oh * t.OW + ow);
      omask[size_t(gi * 4 + e)] |= __mmask16(1u << (j % 16));
    }
  }
}

// y = A^T M A of 16 tiles (one per lane), A^T = [1 1 1 0; 0 1 -1 -1]; the 16 elements of M are xi * psz apart.
inline void output_transform16(const float* mo, int64_t psz, __m512* r) {
  __m512 e[16];
  for (int xi = 0; xi < 16; ++xi) e[xi] = _mm512_load_ps(mo + xi * psz);
  __m512 t0v[4], t1v[4];
  for (int q = 0; q < 4; ++q) {
    t0v[q] = _mm512_add_ps(_mm512_add_ps(e[q], e[4 + q]), e[8 + q]);
    t1v[q] = _mm512_sub_ps(_mm512_sub_ps(e[4 + q], e[8 + q]), e[12 + q]);
  }
  r[0] = _mm512_add_ps(_mm512_add_ps(t0v[0], t0v[1]), t0v[2]);
  r[1] = _mm512_sub_ps(_mm512_sub_ps(t0v[1], t0v[2]), t0v[3]);
  r[2] = _mm512_add_ps(_mm512_add_ps(t1v[0], t1v[1]), t1v[2]);
  r[3] = _mm512_sub_ps(_mm512_sub_ps(t1v[1], t1v[2]), t1v[3]);
}

// Output transform of a block's products, with bias/residual/activation, scattered into the image.
inline void transform_output(const float* prod, const float* bias, const float* residual, const FusedActivation& act,
                             const Tiling& t, const TileBlock& b, float* y) {
  const int64_t psz = t.M * b.npad, groups = b.npad / 16;
  thread_local std::vector<int32_t> oidx;
  thread_local std::vector<__mmask16> omask;
  output_scatter_table(t, b, oidx, omask);
  for (int64_t o = b.m0; o < b.m1; ++o) {
    const __m512 vbias = _mm512_set1_ps(bias ? bias[o] : 0.f);
    const float* mo = prod + o * b.npad;
    float* out = y + o * t.osz;
    const float* res = residual ? residual + o * t.osz : nullptr;
    for (int64_t gi = 0; gi < groups && gi * 16 < b.nb; ++gi) {
      __m512 r[4];
      output_transform16(mo + gi * 16, psz, r);
      for (int q = 0; q < 4; ++q) {
        const __mmask16 mk = omask[size_t(gi * 4 + q)];
        const __m512i idx = _mm512_loadu_si512(oidx.data() + (gi * 4 + q) * 16);
        // same order as apply_epilogue: c + (bias + residual), then the activation
        __m512 add = vbias;
        if (res) add = _mm512_add_ps(add, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, idx, res, 4));
        __m512 val = _mm512_add_ps(r[q], add);
        if (act.kind == Activation::kRelu) {
          val = _mm512_max_ps(_mm512_setzero_ps(), val);  // val second: NaN passes through
        } else if (act.kind != Activation::kNone) {
          alignas(64) float tmp[16];
          _mm512_store_ps(tmp, val);
          for (float& f : tmp) f = activate(act, f);
          val = _mm512_load_ps(tmp);
        }
        _mm512_mask_i32scatter_ps(out, mk, idx, val, 4);
      }
    }
  }
}
#else
// The 4x4 input tile of tile j of the block, zeros outside the image.
inline void load_tile(const float* x, const Tiling& t, const TileBlock& b, const std::vector<int64_t>& origin,
                      const std::vector<unsigned char>& inside, int64_t j, int64_t coff, float (&d)[4][4]) {
  if (inside[size_t(j)]) {
    const float* src = x + origin[size_t(j)] + coff;
    for (int r = 0; r < 4; ++r)
      for (int q = 0; q < 4; ++q) d[r][q] = src[r * t.W + q];
    return;
  }
  const int64_t gt = b.t0 + j, n = gt / t.per_image, th = gt % t.per_image / t.TW, tw = gt % t.TW;
  const int64_t ih0 = th * 2 - t.ph, iw0 = tw * 2 - t.pw;
  const float* plane = x + n * t.C * t.isz + coff;
  for (int r = 0; r < 4; ++r)
    for (int q = 0; q < 4; ++q) {
      const int64_t ih = ih0 + r, iw = iw0 + q;
      d[r][q] = ih >= 0 && ih < t.H && iw >= 0 && iw < t.W ? plane[ih * t.W + iw] : 0.f;
    }
}

// V = B^T d B of one tile, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; element xi goes to dst[xi * vsz].
inline void input_transform(const float (&d)[4][4], float* dst, int64_t vsz) {
  float t[4][4];
  for (int q = 0; q < 4; ++q) {
    t[0][q] = d[0][q] - d[2][q];
    t[1][q] = d[1][q] + d[2][q];
    t[2][q] = d[2][q] - d[1][q];
    t[3][q] = d[1][q] - d[3][q];
  }
  for (int r = 0; r < 4; ++r) {
    dst[(r * 4 + 0) * vsz] = t[r][0] - t[r][2];
    dst[(r * 4 + 1) * vsz] = t[r][1] + t[r][2];
    dst[(r * 4 + 2) * vsz] = t[r][2] - t[r][1];
    dst[(r * 4 + 3) * vsz] = t[r][1] - t[r][3];
  }
}

// Transformed input of a block, channel by channel: consecutive tiles land in consecutive floats of each panel.
inline void transform_input(const float* x, const Tiling& t, const TileBlock& b, float* v) {
  thread_local std::vector<int64_t> origin;
  thread_local std::vector<unsigned char> inside;
  origin.resize(size_t(b.npad));
  inside.resize(size_t(b.npad));
  for (int64_t j = 0; j < b.nb; ++j) {
    const int64_t gt = b.t0 + j, n = gt / t.per_image, th = gt % t.per_image / t.TW, tw = gt % t.TW;
    const int64_t ih0 = th * 2 - t.ph, iw0 = tw * 2 - t.pw;
    inside[size_t(j)] = ih0 >= 0 && iw0 >= 0 && ih0 + 4 <= t.H && iw0 + 4 <= t.W;
    origin[size_t(j)] = n * t.C * t.isz + ih0 * t.W + iw0;  // may point before the plane for border tiles
  }
  for (int64_t s = 0; s < t.slices; ++s) {
    const int64_t pc = s * t.ks, kc = std::min(t.ks, t.C - pc);
    for (int64_t k = 0; k < kc; ++k) {
      const int64_t coff = (pc + k) * t.isz;
      float* vk = v + pc * b.npad + k * t.nr;
      for (int64_t j = 0; j < b.npad; ++j) {
        float* dst = vk + j / t.nr * t.nr * kc + j % t.nr;
        if (j >= b.nb) {
          for (int xi = 0; xi < 16; ++xi) dst[xi * b.vsz] = 0.f;
          continue;
        }
        float d[4][4];
        load_tile(x, t, b, origin, inside, j, coff, d);
        input_transform(d, dst, b.vsz);
      }
    }
  }
}

// Output transform of a block's products, y = A^T M A with A^T = [1 1 1 0; 0 1 -1 -1], plus bias/residual and the
// activation.
inline void transform_output(const float* prod, const float* bias, const float* residual, const FusedActivation& act,
                             const Tiling& t, const TileBlock& b, float* y) {
  const int64_t psz = t.M * b.npad;
  for (int64_t o = b.m0; o < b.m1; ++o) {
    const float bo = bias ? bias[o] : 0.f;
    const float* mo = prod + o * b.npad;
    for (int64_t j = 0; j < b.nb; ++j) {
      float e[16];
      for (int xi = 0; xi < 16; ++xi) e[xi] = mo[xi * psz + j];
      float tt[2][4];
      for (int q = 0; q < 4; ++q) {
        tt[0][q] = e[q] + e[4 + q] + e[8 + q];
        tt[1][q] = e[4 + q] - e[8 + q] - e[12 + q];
      }
      const float r2[2][2] = {{tt[0][0] + tt[0][1] + tt[0][2], tt[0][1] - tt[0][2] - tt[0][3]},
                              {tt[1][0] + tt[1][1] + tt[1][2], tt[1][1] - tt[1][2] - tt[1][3]}};
      const int64_t gt = b.t0 + j, n = gt / t.per_image, th = gt % t.per_image / t.TW, tw = gt % t.TW;
      float* out = y + (n * t.M + o) * t.osz;
      const float* res = residual ? residual + (n * t.M + o) * t.osz : nullptr;
      for (int r = 0; r < 2; ++r) {
        const int64_t oh = th * 2 + r;
        if (oh >= t.OH) break;
        for (int q = 0; q < 2; ++q) {
          const int64_t ow = tw * 2 + q;
          if (ow >= t.OW) break;
          const int64_t at = oh * t.OW + ow;
          out[at] = activate(act, r2[r][q] + (bo + (res ? res[at] : 0.f)));
        }
      }
    }
  }
}
#endif

}  // namespace

bool WinogradConv::suits(const Geometry3& g, int64_t batch, int64_t group, int64_t c, int64_t m) {
  if (group != 1 || c < 16 || m < 16) return false;
  if (g.in[0] != 1 || g.k[0] != 1 || g.k[1] != 3 || g.k[2] != 3) return false;
  if (g.s[1] != 1 || g.s[2] != 1 || g.d[1] != 1 || g.d[2] != 1) return false;
  // gathers and scatters address the batch with 32-bit offsets
  if (batch * std::max(c, m) * std::max(g.in_size(), g.out_size()) >= (int64_t(1) << 31)) return false;
  const int64_t nr = gemm_panel_width();
  const int64_t tiles = batch * ((g.out[1] + 1) / 2) * ((g.out[2] + 1) / 2);
  // multiply count of both paths with columns rounded up to whole panels; the transforms cost extra
  const double wino = 16.0 * double((tiles + nr - 1) / nr * nr);
  const double direct = 9.0 * double(batch * ((g.out_size() + nr - 1) / nr * nr));
  return wino * 1.4 < direct;
}

void WinogradConv::init(const float* w, int64_t m, int64_t c) {
  m_ = m;
  c_ = c;
  std::vector<float> u(size_t(16 * m * c));
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i) {
      const float* g = w + (o * c + i) * 9;
      // t = G g (4x3), then U = t G^T (4x4); G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
      float t[4][3];
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      for (int r = 0; r < 4; ++r) {
        const float v[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]), 0.5f * (t[r][0] - t[r][1] + t[r][2]),
                            t[r][2]};
        for (int q = 0; q < 4; ++q) u[size_t(((r * 4 + q) * m + o) * c + i)] = v[q];
      }
    }
  u_.clear();
  u_.reserve(16);
  for (int xi = 0; xi < 16; ++xi) u_.emplace_back(Transpose::kNo, m, c, u.data() + xi * m * c, c);
}

void WinogradConv::run(const Geometry3& g, int64_t batch, const float* x, const float* bias, const float* residual,
                       const FusedActivation& act, float* y, int threads) const {
  Tiling t;
  t.C = c_, t.M = m_, t.H = g.in[1], t.W = g.in[2], t.OH = g.out[1], t.OW = g.out[2], t.ph = g.p[1], t.pw = g.p[2];
  t.TW = (t.OW + 1) / 2, t.per_image = (t.OH + 1) / 2 * t.TW, t.tiles = batch * t.per_image;
  t.isz = t.H * t.W, t.osz = t.OH * t.OW;
  t.nr = gemm_panel_width();
  // B panels of the GEMMs are written in sgemm's packed layout directly by the input transform
  t.slices = packed_b_slices(t.C), t.ks = (t.C + t.slices - 1) / t.slices;
  const int64_t nr = t.nr, ra = gemm_row_align(), tiles = t.tiles, M = t.M;
  const int nt = threads > 1 ? threads : 1;
  // tile blocks of a few panels: more columns reuse each transformed weight panel more often
  const int64_t tb = std::min<int64_t>((tiles + nr - 1) / nr * nr, 4 * nr);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const int64_t row_panels = (M + ra - 1) / ra;
  const int64_t nrb = nt == 1 ? 1 : std::min(row_panels, std::max<int64_t>(1, (2 * nt + blocks - 1) / blocks));

  parallel_tasks(nt, blocks * nrb, [&](int64_t task) {
    const int64_t blk = task / nrb, rb = task % nrb;
    TileBlock b;
    b.t0 = blk * tb, b.nb = std::min(tb, tiles - b.t0), b.npad = (b.nb + nr - 1) / nr * nr;
    b.m0 = row_panels * rb / nrb * ra, b.m1 = std::min(M, row_panels * (rb + 1) / nrb * ra);
    b.vsz = packed_b_floats(t.C, b.npad);
    float* v = scratch(0, 16 * b.vsz);
    float* prod = scratch(1, 16 * M * b.npad);
    transform_input(x, t, b, v);
    for (int xi = 0; xi < 16; ++xi)
      gemm_prepacked_block(u_[size_t(xi)], v + xi * b.vsz, b.m0, b.m1, 0, b.npad, prod + xi * M * b.npad, b.npad,
                           GemmEpilogue{});
    transform_output(prod, bias, residual, act, t, b, y);
  });
}

TRTCORE_CPU_NAMESPACE_END
