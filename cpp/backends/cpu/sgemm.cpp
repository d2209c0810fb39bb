// Cache-blocked single-precision GEMM: K is cut into KC-deep slices, A into MR-row and B into NR-column packed
// micro-panels, and a register-tiled micro-kernel computes one MR x NR tile of C per call. Threads take tiles
// of C dynamically and pack their own panels (no barrier inside a call).
#include "backends/cpu/sgemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_ps(), which -Wmaybe-uninitialized reports
// as a false positive at every use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cpu/vec_math.h"

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

#if TRTCORE_CPU_AVX512
constexpr int64_t MR = 8, NR = 32;
#elif TRTCORE_CPU_AVX2
constexpr int64_t MR = 6, NR = 16;
#else
constexpr int64_t MR = 4, NR = 16;
#endif
constexpr int64_t KC = 256;   // one A micro-panel (MR x KC) stays in L1 next to a B micro-panel
constexpr int64_t MC = 96;    // packed A block (MC x KC) stays in L2 while B micro-panels stream through L1
constexpr int64_t NC = 2048;  // packed B slice (KC x NC) targets L2/L3

static_assert(MC % MR == 0 && NC % NR == 0, "blocking must be a multiple of the micro-tile");

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuf = std::unique_ptr<float, AlignedFree>;
AlignedBuf aligned_floats(int64_t n) {
  const size_t bytes = (size_t(std::max<int64_t>(n, 1)) * sizeof(float) + 63) / 64 * 64;
  return AlignedBuf(static_cast<float*>(std::aligned_alloc(64, bytes)));
}

// Micro-kernel: C[MR x NR] (row stride ldc) = alpha * sum_k a[k*MR + r] * b[k*NR + j] + beta * C.
// Bias / residual / ReLU for one full tile, applied in registers before the store (the common conv epilogues).
struct TileEpilogue {
  const float* bias = nullptr;      // bias of the tile's first row
  const float* residual = nullptr;  // residual element of the tile's (0, 0)
  int64_t ld_residual = 0;
  FusedActivation act;  // one that activation_in_register() accepts
};

#if TRTCORE_CPU_AVX512
constexpr bool kTileEpilogueInKernel = true;
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta,
                  const float* pf = nullptr, const TileEpilogue* te = nullptr) {
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    // pull the next A panel in while this one computes: weights of late layers come from memory, not cache
    if (pf) _mm_prefetch(reinterpret_cast<const char*>(pf + k * MR), _MM_HINT_T0);
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += MR;
    b += NR;
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    __m512 v0, v1;
    if (beta == 0.f) {
      v0 = _mm512_mul_ps(va, acc[r][0]);
      v1 = _mm512_mul_ps(va, acc[r][1]);
    } else {
      v0 = _mm512_fmadd_ps(va, acc[r][0], _mm512_mul_ps(vb, _mm512_loadu_ps(cr)));
      v1 = _mm512_fmadd_ps(va, acc[r][1], _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16)));
    }
    if (te) {
      // same order as apply_epilogue: c + (bias + residual), then the activation
      const __m512 bias = _mm512_set1_ps(te->bias ? te->bias[r] : 0.f);
      __m512 add0 = bias, add1 = bias;
      if (te->residual) {
        const float* res = te->residual + r * te->ld_residual;
        add0 = _mm512_add_ps(bias, _mm512_loadu_ps(res));
        add1 = _mm512_add_ps(bias, _mm512_loadu_ps(res + 16));
      }
      v0 = _mm512_add_ps(v0, add0);
      v1 = _mm512_add_ps(v1, add1);
      if (te->act.kind != Activation::kNone) {
        v0 = activate16(te->act, v0);
        v1 = activate16(te->act, v1);
      }
    }
    _mm512_storeu_ps(cr, v0);
    _mm512_storeu_ps(cr + 16, v1);
  }
}
#elif TRTCORE_CPU_AVX2
constexpr bool kTileEpilogueInKernel = false;  // `te` is ignored: apply_epilogue runs after the kernel
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta,
                  const float* pf = nullptr, const TileEpilogue* te = nullptr) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += MR;
    b += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (beta == 0.f) {
      _mm256_storeu_ps(cr, _mm256_mul_ps(va, acc[r][0]));
      _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, acc[r][1]));
    } else {
      _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc[r][0], _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
      _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, acc[r][1], _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))));
    }
  }
}
#else
constexpr bool kTileEpilogueInKernel = false;
void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta,
                  const float* pf = nullptr, const TileEpilogue* te = nullptr) {
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
    a += MR;
    b += NR;
  }
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j)
      c[r * ldc + j] = alpha * acc[r][j] + (beta == 0.f ? 0.f : beta * c[r * ldc + j]);
}
#endif

// Edge tiles run the full kernel into a scratch tile, then merge the valid part.
void edge_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t mr, int64_t nr,
                 float alpha, float beta, const float* pf = nullptr) {
  alignas(64) float tmp[MR * NR];
  micro_kernel(kc, a, b, tmp, NR, 1.f, 0.f, pf);
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) {
      float& dst = c[r * ldc + j];
      dst = alpha * tmp[r * NR + j] + (beta == 0.f ? 0.f : beta * dst);
    }
}

// Packs rows [i0, i0+MR) x cols [k0, k0+kc) of op(A) as a[k*MR + r], zero-padding missing rows.
void pack_a(const float* A, int64_t lda, Transpose ta, int64_t M, int64_t i0, int64_t k0, int64_t kc, float* dst) {
  const int64_t mr = std::min(MR, M - i0);
  if (ta == Transpose::kNo) {
    for (int64_t r = 0; r < mr; ++r) {
      const float* src = A + (i0 + r) * lda + k0;
      for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = A + (k0 + k) * lda + i0;
      for (int64_t r = 0; r < mr; ++r) dst[k * MR + r] = src[r];
    }
  }
  if (mr < MR)
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t r = mr; r < MR; ++r) dst[k * MR + r] = 0.f;
}

// Packs rows [k0, k0+kc) x cols [j0, j0+NR) of op(B) as b[k*NR + j], zero-padding missing columns.
void pack_b(const float* B, int64_t ldb, Transpose tb, int64_t N, int64_t j0, int64_t k0, int64_t kc, float* dst) {
  const int64_t nr = std::min(NR, N - j0);
  if (tb == Transpose::kNo) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (k0 + k) * ldb + j0;
      float* d = dst + k * NR;
      if (nr == NR) {
        std::memcpy(d, src, sizeof(float) * NR);
      } else {
        for (int64_t j = 0; j < nr; ++j) d[j] = src[j];
        for (int64_t j = nr; j < NR; ++j) d[j] = 0.f;
      }
    }
  } else {
    for (int64_t j = 0; j < nr; ++j) {
      const float* src = B + (j0 + j) * ldb + k0;
      for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
    }
    if (nr < NR)
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = nr; j < NR; ++j) dst[k * NR + j] = 0.f;
  }
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
}

// Dot product with several independent accumulators (one running sum is bound by the add latency).
inline float dot(const float* a, const float* b, int64_t n) {
  int64_t k = 0;
  float s = 0.f;
#if TRTCORE_CPU_AVX512
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (; k + 64 <= n; k += 64)
    for (int u = 0; u < 4; ++u)
      acc[u] = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16 * u), _mm512_loadu_ps(b + k + 16 * u), acc[u]);
  for (; k + 16 <= n; k += 16) acc[0] = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc[0]);
  s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
#endif
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

// Matrix-vector shapes (M == 1 or N == 1) skip packing: it would cost as much as the product itself.
void gemv(Transpose trans_a, Transpose trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nt) {
  if (M == 1) {
    // C[0, j] = sum_k a[k] * op(B)[k, j]
    const int64_t sa = trans_a == Transpose::kNo ? 1 : lda;
    const bool parallel = nt > 1 && N * K > 65536;
    if (trans_b == Transpose::kYes) {
      const int64_t tasks = parallel ? std::min<int64_t>(N, 4 * nt) : 1;
      parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
        for (int64_t j = N * t / tasks; j < N * (t + 1) / tasks; ++j) {
          const float* b = B + j * ldb;
          float s = 0.f;
          if (sa == 1) {
            s = dot(A, b, K);
          } else {
            for (int64_t k = 0; k < K; ++k) s += A[k * sa] * b[k];
          }
          C[j] = alpha * s + (beta == 0.f ? 0.f : beta * C[j]);
        }
      });
    } else {
      constexpr int64_t chunk = 256;
      parallel_tasks(parallel ? nt : 1, (N + chunk - 1) / chunk, [&](int64_t t) {
        const int64_t j0 = t * chunk, j1 = std::min(N, j0 + chunk);
        float acc[chunk] = {};
        for (int64_t k = 0; k < K; ++k) {
          const float a = A[k * sa];
          const float* b = B + k * ldb;
#pragma omp simd
          for (int64_t j = j0; j < j1; ++j) acc[j - j0] += a * b[j];
        }
        for (int64_t j = j0; j < j1; ++j) C[j] = alpha * acc[j - j0] + (beta == 0.f ? 0.f : beta * C[j]);
      });
    }
    return;
  }
  // N == 1: C[i, 0] = sum_k op(A)[i, k] * b[k]; swap roles by transposing the whole product.
  gemv(trans_b == Transpose::kNo ? Transpose::kYes : Transpose::kNo,
       trans_a == Transpose::kNo ? Transpose::kYes : Transpose::kNo, 1, M, K, alpha, B, ldb, A, lda, beta, C, ldc, nt);
}

}  // namespace

void apply_epilogue(const GemmEpilogue& ep, int64_t m0, int64_t n0, int64_t rows, int64_t cols, float* C,
                    int64_t ldc) {
  if (ep.empty()) return;
  const bool relu = ep.act.kind == Activation::kRelu, none = ep.act.kind == Activation::kNone;
  for (int64_t r = 0; r < rows; ++r) {
    float* c = C + r * ldc;
    const float bias = ep.row_bias ? ep.row_bias[m0 + r] : 0.f;
    if (ep.residual) {
      const float* res = ep.residual + (m0 + r) * ep.ld_residual + n0;
      for (int64_t j = 0; j < cols; ++j) c[j] += bias + res[j];
    } else if (bias != 0.f) {
      for (int64_t j = 0; j < cols; ++j) c[j] += bias;
    }
    if (relu) {
      for (int64_t j = 0; j < cols; ++j) c[j] = c[j] < 0.f ? 0.f : c[j];  // NaN propagates
#if TRTCORE_CPU_AVX512
    } else if (ep.act.kind == Activation::kSigmoid || ep.act.kind == Activation::kSiLU ||
               ep.act.kind == Activation::kClip) {
      for (int64_t j = 0; j < cols; j += 16) {
        const __mmask16 mk = cols - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - j)) - 1u);
        _mm512_mask_storeu_ps(c + j, mk, activate16(ep.act, _mm512_maskz_loadu_ps(mk, c + j)));
      }
#endif
    } else if (ep.act.kind == Activation::kClip) {
      const float lo = ep.act.alpha, hi = ep.act.beta;
      for (int64_t j = 0; j < cols; ++j) {  // the scalar reference's comparisons (NaN passes), vectorizable
        const float y = c[j] < lo ? lo : c[j];
        c[j] = y > hi ? hi : y;
      }
    } else if (ep.act.kind == Activation::kSigmoid) {
      for (int64_t j = 0; j < cols; ++j) c[j] = sigmoid_fast(c[j]);  // vectorizes; apply() calls std::exp per element
    } else if (ep.act.kind == Activation::kTanh) {
      for (int64_t j = 0; j < cols; ++j) c[j] = tanh_fast(c[j]);
    } else if (ep.act.kind == Activation::kSiLU) {
      for (int64_t j = 0; j < cols; ++j) c[j] = c[j] * sigmoid_fast(c[j]);
    } else if (!none) {
      for (int64_t j = 0; j < cols; ++j) c[j] = ep.act.apply(c[j]);
    }
  }
}

namespace {

// Per-thread packing buffers: OpenMP threads persist, so these are allocated once per thread, not per call.
float* thread_buffer(int which, int64_t n) {
  thread_local AlignedBuf bufs[2];
  thread_local int64_t caps[2] = {0, 0};
  if (caps[which] < n) {
    bufs[which] = aligned_floats(n);
    caps[which] = n;
  }
  return bufs[which].get();
}

// One thread's share: the classic blocked loop nest (columns, depth, rows) over a sub-matrix of C whose top-left
// corner is (m0, n0) in the full product (the epilogue indexes bias/residual with global coordinates).
void gemm_block(Transpose ta, Transpose tb, int64_t m0, int64_t M, int64_t n0, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
                const GemmEpilogue& ep) {
  if (M <= 0 || N <= 0) return;
  const float* As = ta == Transpose::kNo ? A + m0 * lda : A + m0;
  const float* Bs = tb == Transpose::kNo ? B + n0 : B + n0 * ldb;
  float* Cs = C + m0 * ldc + n0;
  float* packed_b = thread_buffer(0, std::min((N + NR - 1) / NR * NR, NC) * KC);
  float* packed_a = thread_buffer(1, std::min((M + MR - 1) / MR * MR, MC) * KC);
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float beta_now = pc == 0 ? beta : 1.f;
      const bool last_k = pc + kc >= K;
      for (int64_t j = 0; j < nc; j += NR) pack_b(Bs, ldb, tb, jc + nc, jc + j, pc, kc, packed_b + j * kc);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        for (int64_t i = 0; i < mc; i += MR) pack_a(As, lda, ta, ic + mc, ic + i, pc, kc, packed_a + i * kc);
        for (int64_t j = 0; j < nc; j += NR) {
          const int64_t nr = std::min(NR, nc - j);
          const float* bp = packed_b + j * kc;
          for (int64_t i = 0; i < mc; i += MR) {
            const int64_t mr = std::min(MR, mc - i);
            float* c = Cs + (ic + i) * ldc + jc + j;
            const float* ap = packed_a + i * kc;
            if (mr == MR && nr == NR)
              micro_kernel(kc, ap, bp, c, ldc, alpha, beta_now);
            else
              edge_kernel(kc, ap, bp, c, ldc, mr, nr, alpha, beta_now);
            if (last_k) apply_epilogue(ep, m0 + ic + i, n0 + jc + j, mr, nr, c, ldc);
          }
        }
      }
    }
  }
}

// K-slices of equal depth (the last may be shorter): a 288-deep product runs as 2 x 144, not 256 + 32.
int64_t slice_depth(int64_t K) {
  const int64_t slices = (K + KC - 1) / KC;
  return slices > 0 ? (K + slices - 1) / slices : 1;
}

}  // namespace

int64_t gemm_panel_width() { return NR; }
int64_t gemm_row_align() { return MR; }

PackedA::PackedA(Transpose trans_a, int64_t M, int64_t K, const float* A, int64_t lda)
    : m_(M), k_(K), m_pad_((M + MR - 1) / MR * MR) {
  data_.assign(size_t(m_pad_ * std::max<int64_t>(K, 1)), 0.f);
  const int64_t ks = slice_depth(K);
  for (int64_t pc = 0; pc < K; pc += ks) {
    const int64_t kc = std::min(ks, K - pc);
    for (int64_t i = 0; i < M; i += MR) pack_a(A, lda, trans_a, M, i, pc, kc, data_.data() + pc * m_pad_ + i * kc);
  }
}

namespace {

// The block's product for one K-slice against B panels already packed at `pb`.
void block_slice(const PackedA& a, const float* pb, int64_t pc, int64_t kc, int64_t m0, int64_t m1, int64_t j0,
                 int64_t N, float* C, int64_t ldc, const GemmEpilogue& ep) {
  const int64_t np = (N + NR - 1) / NR;
  const float beta = pc == 0 ? 0.f : 1.f;
  const bool last_k = pc + kc >= a.depth();
  const bool fused_ok = kTileEpilogueInKernel && activation_in_register(ep.act.kind);
  // each A panel is used against every B panel of the block while it is in L1; the next one is prefetched
  for (int64_t i = m0; i < m1; i += MR) {
    const int64_t mr = std::min(MR, m1 - i);
    const float* ap = a.panel(i, pc, kc);
    const float* next = i + MR < m1 ? a.panel(i + MR, pc, kc) : nullptr;
    for (int64_t p = 0; p < np; ++p) {
      const int64_t nr = std::min(NR, N - p * NR);
      const float* bp = pb + p * NR * kc;
      float* c = C + i * ldc + j0 + p * NR;
      const float* pf = p == 0 ? next : nullptr;
      if (mr == MR && nr == NR && last_k && fused_ok) {
        TileEpilogue te;
        te.bias = ep.row_bias ? ep.row_bias + i : nullptr;
        te.residual = ep.residual ? ep.residual + i * ep.ld_residual + j0 + p * NR : nullptr;
        te.ld_residual = ep.ld_residual;
        te.act = ep.act;
        micro_kernel(kc, ap, bp, c, ldc, 1.f, beta, pf, ep.empty() ? nullptr : &te);
        continue;
      }
      if (mr == MR && nr == NR)
        micro_kernel(kc, ap, bp, c, ldc, 1.f, beta, pf);
      else
        edge_kernel(kc, ap, bp, c, ldc, mr, nr, 1.f, beta, pf);
      if (last_k) apply_epilogue(ep, i, j0 + p * NR, mr, nr, c, ldc);
    }
  }
}

bool zero_depth(const PackedA& a, int64_t m0, int64_t m1, int64_t j0, int64_t N, float* C, int64_t ldc,
                const GemmEpilogue& ep) {
  if (a.depth() > 0) return false;
  scale_c(m1 - m0, N, 0.f, C + m0 * ldc + j0, ldc);
  apply_epilogue(ep, m0, j0, m1 - m0, N, C + m0 * ldc + j0, ldc);
  return true;
}

}  // namespace

void gemm_packed_block(const PackedA& a, const PanelSource& src, int64_t m0, int64_t m1, int64_t j0, int64_t j1,
                       float* C, int64_t ldc, const GemmEpilogue& ep) {
  const int64_t K = a.depth(), N = j1 - j0;
  if (N <= 0 || m1 <= m0 || zero_depth(a, m0, m1, j0, N, C, ldc, ep)) return;
  const int64_t ks = slice_depth(K), np = (N + NR - 1) / NR;
  float* pb = thread_buffer(0, np * NR * ks);
  for (int64_t pc = 0; pc < K; pc += ks) {
    const int64_t kc = std::min(ks, K - pc);
    for (int64_t p = 0; p < np; ++p) src.pack(pc, kc, j0 + p * NR, std::min(NR, N - p * NR), pb + p * NR * kc);
    block_slice(a, pb, pc, kc, m0, m1, j0, N, C, ldc, ep);
  }
}

int64_t packed_b_floats(int64_t K, int64_t N) { return std::max<int64_t>(K, 1) * ((N + NR - 1) / NR * NR); }

int64_t packed_b_slices(int64_t K) { return K <= 0 ? 0 : (K + slice_depth(K) - 1) / slice_depth(K); }

void pack_b_slice(const PanelSource& src, int64_t K, int64_t slice, int64_t j0, int64_t j1, float* packed_b) {
  const int64_t ks = slice_depth(K), pc = slice * ks, kc = std::min(ks, K - pc), N = j1 - j0;
  const int64_t np = (N + NR - 1) / NR;
  float* dst = packed_b + pc * np * NR;
  for (int64_t p = 0; p < np; ++p) src.pack(pc, kc, j0 + p * NR, std::min(NR, N - p * NR), dst + p * NR * kc);
}

void gemm_prepacked_block(const PackedA& a, const float* packed_b, int64_t m0, int64_t m1, int64_t j0, int64_t j1,
                          float* C, int64_t ldc, const GemmEpilogue& ep) {
  const int64_t K = a.depth(), N = j1 - j0;
  if (N <= 0 || m1 <= m0 || zero_depth(a, m0, m1, j0, N, C, ldc, ep)) return;
  const int64_t ks = slice_depth(K), np = (N + NR - 1) / NR;
  for (int64_t pc = 0; pc < K; pc += ks)
    block_slice(a, packed_b + pc * np * NR, pc, std::min(ks, K - pc), m0, m1, j0, N, C, ldc, ep);
}

void sgemm_ex(Transpose trans_a, Transpose trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& ep,
              int threads) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) {
    scale_c(M, N, beta, C, ldc);
    apply_epilogue(ep, 0, 0, M, N, C, ldc);
    return;
  }
  int nt = threads > 1 ? threads : 1;
  if ((M == 1 || N == 1) && ldc >= 1) {
    if (N == 1 && ldc != 1 && M > 1) {
      // a column of C with a stride: compute densely, then scatter
      std::vector<float> tmp(static_cast<size_t>(M), 0.f);
      for (int64_t i = 0; i < M; ++i) tmp[size_t(i)] = C[i * ldc];
      gemv(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, tmp.data(), 1, nt);
      for (int64_t i = 0; i < M; ++i) C[i * ldc] = tmp[size_t(i)];
    } else {
      gemv(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nt);
    }
    if (N == 1)
      for (int64_t i = 0; i < M; ++i) apply_epilogue(ep, i, 0, 1, 1, C + i * ldc, ldc);
    else
      apply_epilogue(ep, 0, 0, 1, N, C, ldc);
    return;
  }
  // Few rows times a row-major [N, K] B (a classifier's weights at small batch): dot products read B once;
  // packing it (a strided gather) would cost more than the product.
  if (M <= 16 && trans_a == Transpose::kNo && trans_b == Transpose::kYes) {
    const bool parallel = nt > 1 && N * K * M > 65536;
    const int64_t tasks = parallel ? std::min<int64_t>(N, 4 * nt) : 1;
    parallel_tasks(parallel ? nt : 1, tasks, [&](int64_t t) {
      const int64_t j0 = N * t / tasks, j1 = N * (t + 1) / tasks;
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = 0; i < M; ++i) {
          float& c = C[i * ldc + j];
          c = alpha * dot(A + i * lda, B + j * ldb, K) + (beta == 0.f ? 0.f : beta * c);
        }
      apply_epilogue(ep, 0, j0, M, j1 - j0, C + j0, ldc);
    });
    return;
  }
  // Small products are not worth waking threads for.
  if (M * N * K < kMinParallelMacs) nt = 1;
  // Split C into a grid of tiles aligned to the micro-tile, a few per thread, taken dynamically; each tile packs
  // its own panels, so there is no barrier inside and a descheduled thread's share is picked up by the others.
  const int64_t mp = (M + MR - 1) / MR, np = (N + NR - 1) / NR;
  const int64_t target = nt == 1 ? 1 : int64_t(nt) * 4;
  const int64_t tn = std::min(np, target);
  const int64_t tm = std::min(mp, (target + tn - 1) / tn);
  parallel_tasks(nt, tm * tn, [&](int64_t t) {
    const int64_t ti = t / tn, tj = t % tn;
    const int64_t r0 = mp * ti / tm * MR, r1 = std::min(M, mp * (ti + 1) / tm * MR);
    const int64_t c0 = np * tj / tn * NR, c1 = std::min(N, np * (tj + 1) / tn * NR);
    gemm_block(trans_a, trans_b, r0, r1 - r0, c0, c1 - c0, K, alpha, A, lda, B, ldb, beta, C, ldc, ep);
  });
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int threads) {
  sgemm_ex(trans_a ? Transpose::kYes : Transpose::kNo, trans_b ? Transpose::kYes : Transpose::kNo, M, N, K, alpha, A,
           lda, B, ldb, beta, C, ldc, GemmEpilogue{}, threads);
}

TRTCORE_CPU_NAMESPACE_END
