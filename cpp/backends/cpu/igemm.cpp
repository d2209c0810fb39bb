// int8 GEMM micro-kernels: kI8Mr weight rows x kI8Nr activation columns per call, accumulating four k at a time
// (the quad layout vpdpbusd consumes). The portable loop is the reference the VNNI kernel must match exactly.
#include "backends/cpu/igemm.h"
#include "backends/cpu/isa_dispatch.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN

PackedI8Weights pack_i8_weights(const int8_t* w, int64_t m, int64_t k) {
  PackedI8Weights p;
  p.m = m;
  p.k = k;
  p.k4 = (k + 3) / 4;
  const int64_t blocks = (m + kI8Mr - 1) / kI8Mr;
  p.data.assign(size_t(blocks * p.k4 * kI8Mr * 4), 0);
  p.row_sums.assign(size_t(m), 0);
  for (int64_t r = 0; r < m; ++r) {
    int8_t* block = p.data.data() + (r / kI8Mr) * p.k4 * kI8Mr * 4;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int8_t v = w[r * k + kk];
      block[((kk / 4) * kI8Mr + r % kI8Mr) * 4 + kk % 4] = v;
      p.row_sums[size_t(r)] += v;
    }
  }
  return p;
}

namespace {

// Where the kernels find k quad q's kI8Nr x 4 bytes: one after the other in a panel, or at a byte offset per quad
// from a base (the direct convolution's copy of the input, igemm_rows_at).
struct PanelQuads {
  const uint8_t* panel;
  const uint8_t* operator()(int64_t q) const { return panel + q * kI8Nr * 4; }
};
struct OffsetQuads {
  const uint8_t* base;
  const int64_t* offsets;
  const uint8_t* operator()(int64_t q) const { return base + offsets[q]; }
};

template <class Quads>
void rows_portable(const int8_t* a, int64_t k4, Quads b, int64_t rows, int64_t cols, int32_t* acc) {
  for (int64_t r = 0; r < rows; ++r) std::fill(acc + r * kI8Nr, acc + r * kI8Nr + cols, 0);
  for (int64_t q = 0; q < k4; ++q)
    for (int64_t r = 0; r < rows; ++r) {
      const int8_t* ar = a + (q * kI8Mr + r) * 4;
      const uint8_t* bq = b(q);
      int32_t* cr = acc + r * kI8Nr;
      for (int64_t j = 0; j < cols; ++j)
        cr[j] += ar[0] * bq[4 * j] + ar[1] * bq[4 * j + 1] + ar[2] * bq[4 * j + 2] + ar[3] * bq[4 * j + 3];
    }
}

#if TRTCORE_CPU_AVX512
// Six rows x NV 16-column vectors in named accumulators (an array of vectors would be spilled to the stack); each
// k quad loads NV vectors and broadcasts six weight words. Fewer vectors serve small planes (a 4x4 plane fills
// one), whose unused columns would otherwise cost as much as the used ones.
template <int NV, class Quads, class Out>
__attribute__((target("avx512vnni"))) void rows_vnni(const int8_t* a, int64_t k4, Quads b, int64_t rows, Out out) {
#define TRTCORE_ROW_VARS(r) __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = c##r##0, c##r##2 = c##r##0, c##r##3 = c##r##0;
  TRTCORE_ROW_VARS(0) TRTCORE_ROW_VARS(1) TRTCORE_ROW_VARS(2) TRTCORE_ROW_VARS(3) TRTCORE_ROW_VARS(4) TRTCORE_ROW_VARS(5)
#undef TRTCORE_ROW_VARS
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t q = 0; q < k4; ++q) {
    const uint8_t* bq = b(q);
    const __m512i b0 = _mm512_loadu_si512(bq);
    const __m512i b1 = NV > 1 ? _mm512_loadu_si512(bq + 64) : zero;
    const __m512i b2 = NV > 2 ? _mm512_loadu_si512(bq + 128) : zero;
    const __m512i b3 = NV > 3 ? _mm512_loadu_si512(bq + 192) : zero;
    const int32_t* aq = reinterpret_cast<const int32_t*>(a + q * kI8Mr * 4);
#define TRTCORE_ROW_STEP(r)                                  \
  {                                                          \
    const __m512i ar = _mm512_set1_epi32(aq[r]);             \
    c##r##0 = _mm512_dpbusd_epi32(c##r##0, b0, ar);          \
    if (NV > 1) c##r##1 = _mm512_dpbusd_epi32(c##r##1, b1, ar); \
    if (NV > 2) c##r##2 = _mm512_dpbusd_epi32(c##r##2, b2, ar); \
    if (NV > 3) c##r##3 = _mm512_dpbusd_epi32(c##r##3, b3, ar); \
  }
    TRTCORE_ROW_STEP(0) TRTCORE_ROW_STEP(1) TRTCORE_ROW_STEP(2) TRTCORE_ROW_STEP(3) TRTCORE_ROW_STEP(4)
    TRTCORE_ROW_STEP(5)
#undef TRTCORE_ROW_STEP
  }
  const __m512i all[kI8Mr][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23},
                                 {c30, c31, c32, c33}, {c40, c41, c42, c43}, {c50, c51, c52, c53}};
  for (int64_t r = 0; r < rows; ++r)
    for (int v = 0; v < NV; ++v) out(r, v, all[r][v]);
}

// Where rows_vnni puts row r's vector v: the int32 sums, or the floats less the row's correction.
struct StoreSums {
  int32_t* acc;
  __attribute__((target("avx512f"))) void operator()(int64_t r, int v, __m512i s) const {
    _mm512_storeu_si512(acc + r * kI8Nr + v * 16, s);
  }
};
struct StoreFloats {
  const float* corr;
  float* y;
  __attribute__((target("avx512f"))) void operator()(int64_t r, int v, __m512i s) const {
    _mm512_storeu_ps(y + r * kI8Nr + v * 16, _mm512_sub_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(corr[r])));
  }
};
#endif

// The sums into acc, or (corr given) as floats less corr[r] into y.
template <class Quads>
void rows_any(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, Quads b, int32_t* acc,
              const float* corr = nullptr, float* y = nullptr) {
  const int8_t* a = w.data.data() + (row0 / kI8Mr) * w.k4 * kI8Mr * 4;
#if TRTCORE_CPU_AVX512
  // VNNI is not part of the avx512 level (Skylake-X lacks it): checked here, once per process
  if (cpu_has_avx512_vnni()) {
    const auto run = [&](auto out) {
      switch ((cols + 15) / 16) {
        case 1: rows_vnni<1>(a, w.k4, b, rows, out); return;
        case 2: rows_vnni<2>(a, w.k4, b, rows, out); return;
        case 3: rows_vnni<3>(a, w.k4, b, rows, out); return;
        default: rows_vnni<4>(a, w.k4, b, rows, out); return;
      }
    };
    if (corr) run(StoreFloats{corr, y});
    else run(StoreSums{acc});
    return;
  }
#endif
  rows_portable(a, w.k4, b, rows, cols, acc);
  if (corr)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < cols; ++j) y[r * kI8Nr + j] = float(acc[r * kI8Nr + j]) - corr[r];
}

}  // namespace

void igemm_rows(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* panel,
                int32_t* acc) {
  rows_any(w, row0, rows, cols, PanelQuads{panel}, acc);
}

void igemm_rows_float(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* panel,
                      const float* corr, float* y) {
  thread_local std::vector<int32_t> acc;  // the portable kernel's sums
  acc.resize(size_t(kI8Mr * kI8Nr));
  rows_any(w, row0, rows, cols, PanelQuads{panel}, acc.data(), corr, y);
}

void igemm_rows_at(const PackedI8Weights& w, int64_t row0, int64_t rows, int64_t cols, const uint8_t* base,
                   const int64_t* quad_offsets, int32_t* acc) {
  rows_any(w, row0, rows, cols, OffsetQuads{base, quad_offsets}, acc);
}

void interleave4(const uint8_t (*rows)[kI8Nr], uint8_t* dst) {
#if TRTCORE_CPU_AVX512
  const __m512i r0 = _mm512_load_si512(rows[0]), r1 = _mm512_load_si512(rows[1]);
  const __m512i r2 = _mm512_load_si512(rows[2]), r3 = _mm512_load_si512(rows[3]);
  const __m512i t0 = _mm512_unpacklo_epi8(r0, r1), t1 = _mm512_unpackhi_epi8(r0, r1);
  const __m512i t2 = _mm512_unpacklo_epi8(r2, r3), t3 = _mm512_unpackhi_epi8(r2, r3);
  // per 128-bit lane L: u0..u3 hold the quads of pixels 16L+0..3, 4..7, 8..11, 12..15
  const __m512i u0 = _mm512_unpacklo_epi16(t0, t2), u1 = _mm512_unpackhi_epi16(t0, t2);
  const __m512i u2 = _mm512_unpacklo_epi16(t1, t3), u3 = _mm512_unpackhi_epi16(t1, t3);
  const __m512i a0 = _mm512_shuffle_i64x2(u0, u1, 0x44), a1 = _mm512_shuffle_i64x2(u2, u3, 0x44);
  const __m512i a2 = _mm512_shuffle_i64x2(u0, u1, 0xEE), a3 = _mm512_shuffle_i64x2(u2, u3, 0xEE);
  _mm512_storeu_si512(dst, _mm512_shuffle_i64x2(a0, a1, 0x88));
  _mm512_storeu_si512(dst + 64, _mm512_shuffle_i64x2(a0, a1, 0xDD));
  _mm512_storeu_si512(dst + 128, _mm512_shuffle_i64x2(a2, a3, 0x88));
  _mm512_storeu_si512(dst + 192, _mm512_shuffle_i64x2(a2, a3, 0xDD));
#else
  for (int64_t j = 0; j < kI8Nr; ++j)
    for (int t = 0; t < 4; ++t) dst[j * 4 + t] = rows[t][j];
#endif
}

TRTCORE_CPU_NAMESPACE_END
