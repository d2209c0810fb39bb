#include "backends/cpu/qconv_direct.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

// The copy of one (image, group): for each stride phase a tap reads, `c4` planes of `plane` pixels x 4 channels.
// Phase (ry, rx) holds padded-input rows ry, ry + sh, ... and columns rx, rx + sw, ...; phase pixel (r, c) sits at
// r * wq + c, so output pixel (oy, ox) reads tap (a, b) at virtual pixel oy * wq + ox plus the tap's offset.
struct Layout {
  int64_t sh = 1, sw = 1, oh = 0, ow = 0, wq = 0, rows = 0, plane = 0, c4 = 0, virt = 0, bytes = 0;
  std::vector<int64_t> slot;          // phase (ry * sw + rx) -> its place in the copy, -1 when no tap reads it
  std::vector<int64_t> quad_offsets;  // byte offset of each k quad (tap, channel quad) from the copy's start

  Layout(const Window& win, int64_t cg) {
    sh = win.stride[0], sw = win.stride[1], oh = win.out[0], ow = win.out[1], c4 = (cg + 3) / 4;
    const int64_t kh = win.kernel[0], kw = win.kernel[1], dh = win.dilation[0], dw = win.dilation[1];
    const int64_t max_dy = (kh - 1) * dh / sh, max_dx = (kw - 1) * dw / sw;
    wq = ow + max_dx;
    rows = oh + max_dy;
    virt = oh * wq;
    // the last block reads up to kI8Nr - 1 virtual pixels past the end, each tap up to its offset further
    plane = (rows * wq + max_dx + kI8Nr + 15) / 16 * 16;
    slot.assign(size_t(sh * sw), -1);
    int64_t slots = 0;
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b) {
        int64_t& s = slot[size_t((a * dh % sh) * sw + b * dw % sw)];
        if (s < 0) s = slots++;
      }
    bytes = slots * c4 * plane * 4;
    for (int64_t a = 0; a < kh; ++a)
      for (int64_t b = 0; b < kw; ++b) {
        const int64_t s = slot[size_t((a * dh % sh) * sw + b * dw % sw)];
        const int64_t shift = (a * dh / sh) * wq + b * dw / sw;
        for (int64_t q = 0; q < c4; ++q) quad_offsets.push_back(((s * c4 + q) * plane + shift) * 4);
      }
  }
  int64_t planes() const { return bytes / (plane * 4); }
};

// n pixels of one phase row from four channel rows (null: a channel past cg, which gets `pad`) read every sw-th
// byte: dst[4 * j + t] = row[t][j * sw] ^ sign.
void copy_row(const uint8_t* const row[4], int64_t sw, int64_t n, uint8_t sign, uint8_t pad, uint8_t* dst) {
#if TRTCORE_CPU_AVX512
  if (sw <= 2) {  // 16 pixels a step: each channel's bytes widened to dwords and shifted into their byte
    uint32_t flip = 0;
    for (int t = 0; t < 4; ++t) flip |= row[t] ? uint32_t(sign) << (8 * t) : 0u;
    for (int64_t j = 0; j < n; j += 16) {
      const int64_t cnt = std::min<int64_t>(16, n - j);
      const __mmask16 m = __mmask16(cnt == 16 ? 0xFFFFu : (1u << cnt) - 1u);
      __m512i v = _mm512_setzero_si512();
      for (int t = 0; t < 4; ++t) {
        __m512i c;
        if (!row[t])
          c = _mm512_set1_epi32(pad);
        else if (sw == 1)
          c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, row[t] + j));
        else  // the even bytes of 2 * cnt - 1 (the last odd byte may lie past the row)
          c = _mm512_and_si512(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi8(
                                   __mmask32((uint64_t(1) << (2 * cnt - 1)) - 1u), row[t] + 2 * j)),
                               _mm512_set1_epi32(0xFF));
        v = _mm512_or_si512(v, _mm512_slli_epi32(c, unsigned(8 * t)));
      }
      _mm512_mask_storeu_epi32(dst + 4 * j, m, _mm512_xor_si512(v, _mm512_set1_epi32(int(flip))));
    }
    return;
  }
#endif
  for (int64_t j = 0; j < n; ++j)
    for (int64_t t = 0; t < 4; ++t) dst[4 * j + t] = row[t] ? uint8_t(row[t][j * sw] ^ sign) : pad;
}

// Copies channel quad q of one (image, group) into its plane of phase `phase` (every pixel, padding included).
void copy_plane(const Window& win, const Layout& L, const uint8_t* x, int64_t cg, const QConvDirectInput& in,
                int64_t phase, int64_t q, uint8_t* dst) {
  const int64_t ih = win.in[0], iw = win.in[1], ry = phase / L.sw, rx = phase % L.sw;
  const int64_t ph = win.pad_begin[0], pw = win.pad_begin[1];
  const uint8_t sign = in.x_signed ? 0x80 : 0;
  std::memset(dst, in.pad, size_t(L.plane * 4));
  const uint8_t* src[4];
  for (int64_t t = 0; t < 4; ++t) src[t] = q * 4 + t < cg ? x + (q * 4 + t) * ih * iw : nullptr;
  // phase columns [c_lo, c_hi) read input columns c * sw + rx - pw inside [0, iw)
  const int64_t c_lo = pw > rx ? (pw - rx + L.sw - 1) / L.sw : 0;
  const int64_t c_hi = std::min(L.wq, iw - 1 + pw - rx < 0 ? 0 : (iw - 1 + pw - rx) / L.sw + 1);
  for (int64_t r = 0; r < L.rows; ++r) {
    const int64_t y = r * L.sh + ry - ph;
    if (y < 0 || y >= ih || c_hi <= c_lo) continue;
    const uint8_t* row[4];
    for (int64_t t = 0; t < 4; ++t) row[t] = src[t] ? src[t] + y * iw + c_lo * L.sw + rx - pw : nullptr;
    copy_row(row, L.sw, c_hi - c_lo, sign, in.pad, dst + (r * L.wq + c_lo) * 4);
  }
}

// Copies every plane of one (image, group).
void copy_all(const Window& win, const Layout& L, const uint8_t* x, int64_t cg, const QConvDirectInput& in,
              uint8_t* dst) {
  for (int64_t phase = 0; phase < L.sh * L.sw; ++phase) {
    const int64_t s = L.slot[size_t(phase)];
    if (s < 0) continue;
    for (int64_t q = 0; q < L.c4; ++q) copy_plane(win, L, x, cg, in, phase, q, dst + (s * L.c4 + q) * L.plane * 4);
  }
}

// Output rows [r0, r1) of one (image, group) at virtual pixels [p0, p0 + kI8Nr): the GEMM on the copy, the extra
// columns dropped, the epilogue.
void block(const Layout& L, const PackedI8Weights& pw, const uint8_t* copy, int32_t offset, int64_t n, int64_t m0,
           int64_t p0, int64_t r0, int64_t r1, const QConvEpilogue& ep) {
  const int64_t cols = std::min(kI8Nr, L.virt - p0);
  // runs of real output pixels among the block's columns: [col, col + len), the first at output pixel j0
  int64_t run_col[kI8Nr], run_len[kI8Nr], runs = 0, nr = 0, j0 = -1;
  for (int64_t v = 0; v < cols;) {
    const int64_t oy = (p0 + v) / L.wq, ox = (p0 + v) % L.wq;
    const int64_t len = std::min(L.wq - ox, cols - v);
    if (ox < L.ow) {
      if (j0 < 0) j0 = oy * L.ow + ox;
      run_col[runs] = v;
      run_len[runs++] = std::min(len, L.ow - ox);
      nr += run_len[runs - 1];
    }
    v += len;
  }
  if (nr == 0) return;
  thread_local std::vector<int32_t> acc;
  acc.resize(size_t(kI8Mr * kI8Nr));
  float y[kI8Mr * kI8Nr];  // [rows][nr]
  for (int64_t r = r0; r < r1; r += kI8Mr) {
    const int64_t rows = std::min(kI8Mr, r1 - r);
    igemm_rows_at(pw, r, rows, cols, copy + p0 * 4, L.quad_offsets.data(), acc.data());
    for (int64_t rr = 0; rr < rows; ++rr) {
      const float corr = float(offset * pw.row_sums[size_t(r + rr)]);
      const int32_t* a = acc.data() + rr * kI8Nr;
      float* yr = y + rr * nr;
      for (int64_t k = 0; k < runs; ++k) {
#if TRTCORE_CPU_AVX512
        for (int64_t j = 0; j < run_len[k]; j += 16) {
          const int64_t cnt = std::min<int64_t>(16, run_len[k] - j);
          const __mmask16 m = __mmask16(cnt == 16 ? 0xFFFFu : (1u << cnt) - 1u);
          const __m512 s = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(m, a + run_col[k] + j));
          _mm512_mask_storeu_ps(yr + j, m, _mm512_sub_ps(s, _mm512_set1_ps(corr)));
        }
        yr += run_len[k];
#else
        for (int64_t j = 0; j < run_len[k]; ++j) *yr++ = float(a[run_col[k] + j]) - corr;
#endif
      }
    }
    ep.finish(n, m0 + r, rows, j0, y, nr, nr);
  }
}

}  // namespace

PackedI8Weights pack_qconv_direct(const int8_t* w, int64_t mg, int64_t cg, int64_t taps) {
  const int64_t c4 = (cg + 3) / 4, k = taps * c4 * 4;
  std::vector<int8_t> reordered(size_t(mg * k), 0);
  for (int64_t m = 0; m < mg; ++m)
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t t = 0; t < taps; ++t) reordered[size_t(m * k + t * c4 * 4 + c)] = w[(m * cg + c) * taps + t];
  return pack_i8_weights(reordered.data(), mg, k);
}

void qconv_direct(const Window& win, int64_t batch, int64_t group, int64_t cg, const QConvDirectInput& in,
                  const std::vector<PackedI8Weights>& packed, const QConvEpilogue& ep, int threads) {
  const Layout L(win, cg);
  const int64_t mg = packed[0].m, units = batch * group, blocks = (L.virt + kI8Nr - 1) / kI8Nr;
  const int64_t in_plane = win.in[0] * win.in[1];
  const auto image = [&](int64_t u) {
    return static_cast<const uint8_t*>(in.data) + ((u / group) * group * cg + (u % group) * cg) * in_plane;
  };
  if (threads <= 1 || units >= 2 * threads) {
    // one task per (image, group): its copy stays in this thread's cache for all of its blocks
    parallel_tasks(threads, units, [&](int64_t u) {
      thread_local std::vector<uint8_t> copy;
      copy.resize(size_t(L.bytes));
      copy_all(win, L, image(u), cg, in, copy.data());
      const int64_t n = u / group, gi = u % group;
      for (int64_t b = 0; b < blocks; ++b)
        block(L, packed[size_t(gi)], copy.data(), in.offset, n, gi * mg, b * kI8Nr, 0, mg, ep);
    });
    return;
  }
  // few images: the planes are copied in parallel first, then (unit, block, row chunk) tasks share them
  thread_local std::vector<uint8_t> shared;  // this (the calling) thread's: the tasks see it through `base`
  shared.resize(size_t(units * L.bytes));
  uint8_t* const base = shared.data();
  const int64_t planes = L.planes();
  parallel_tasks(threads, units * planes, [&](int64_t t) {
    const int64_t u = t / planes, p = t % planes;
    for (int64_t phase = 0; phase < L.sh * L.sw; ++phase)
      if (L.slot[size_t(phase)] == p / L.c4)
        copy_plane(win, L, image(u), cg, in, phase, p % L.c4, base + u * L.bytes + p * L.plane * 4);
  });
  int64_t chunks = 1;
  while (units * blocks * chunks < 2 * threads && (mg / kI8Mr) >= 2 * chunks * 2) chunks *= 2;
  const int64_t rows_per_chunk = ((mg + chunks - 1) / chunks + kI8Mr - 1) / kI8Mr * kI8Mr;
  parallel_tasks(threads, units * blocks * chunks, [&](int64_t t) {
    const int64_t chunk = t % chunks, b = (t / chunks) % blocks, u = t / chunks / blocks;
    const int64_t r0 = chunk * rows_per_chunk, r1 = std::min(mg, r0 + rows_per_chunk);
    if (r0 >= r1) return;
    block(L, packed[size_t(u % group)], base + u * L.bytes, in.offset, u / group, (u % group) * mg,
          b * kI8Nr, r0, r1, ep);
  });
}

TRTCORE_CPU_NAMESPACE_END
