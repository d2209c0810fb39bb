// The cpu backend's single-precision GEMM with an optional fused output pass (bias, residual, activation), shared
// by Conv, ConvTranspose, Gemm and MatMul.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <functional>
#include <vector>

#include "trtcore/graph.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

TRTCORE_CPU_NAMESPACE_BEGIN

enum class Transpose { kNo, kYes };

#if TRTCORE_CPU_AVX512
// 16-lane versions of vec_math.h's exp_fast / sigmoid_fast (same reduction and polynomial): the compiler does not
// vectorize the scalar ones inside the epilogue loops.
inline __m512 exp16(__m512 x) {
  // max/min return their second operand when either is NaN: the constant goes first so NaN passes through
  const __m512 xc = _mm512_min_ps(_mm512_set1_ps(100.f), _mm512_max_ps(_mm512_set1_ps(-110.f), x));
  const __m512 round = _mm512_set1_ps(12582912.f);
  const __m512 nf = _mm512_sub_ps(_mm512_fmadd_ps(xc, _mm512_set1_ps(1.44269504088896341f), round), round);
  __m512 r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(0.693145751953125f), xc);
  r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  // p * 2^n in one rounding (overflow to inf, gradual underflow) instead of building 2^n in the exponent field
  return _mm512_scalef_ps(p, nf);
}

inline __m512 sigmoid16(__m512 x) {
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 minus_abs = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int32_t(0x80000000u))));
  const __m512 e = exp16(minus_abs);  // never overflows; NaN stays NaN through every step below
  // 1 / (1 + e) by the 14-bit reciprocal estimate and one Newton step (a full divide costs ~10x its throughput)
  const __m512 den = _mm512_add_ps(_mm512_set1_ps(1.f), e), r0 = _mm512_rcp14_ps(den);
  const __m512 s = _mm512_mul_ps(r0, _mm512_fnmadd_ps(den, r0, _mm512_set1_ps(2.f)));
  return _mm512_mask_mul_ps(s, neg, e, s);
}

// The activations the GEMM micro-kernel (and the direct conv kernels) apply in registers; others pass through.
inline __m512 activate16(Activation kind, __m512 v) {
  switch (kind) {
    // max returns its second operand when either is NaN: v goes second so Relu(NaN) stays NaN, as in ONNX
    case Activation::kRelu: return _mm512_max_ps(_mm512_setzero_ps(), v);
    case Activation::kSigmoid: return sigmoid16(v);
    case Activation::kSiLU: return _mm512_mul_ps(v, sigmoid16(v));
    default: return v;
  }
}

// The same with the activation's parameters: Clip (Relu6) clamps in registers as well. max/min return their second
// operand when either is NaN, so NaN passes through as in the scalar reference.
inline __m512 activate16(const FusedActivation& a, __m512 v) {
  if (a.kind == Activation::kClip)
    return _mm512_min_ps(_mm512_set1_ps(a.beta), _mm512_max_ps(_mm512_set1_ps(a.alpha), v));
  return activate16(a.kind, v);
}
#endif

// Activations the vector epilogues (GEMM tiles, depthwise and small-tap convs) apply in registers.
inline bool activation_in_register(Activation a) {
  return a == Activation::kNone || a == Activation::kRelu || a == Activation::kSigmoid || a == Activation::kSiLU ||
         a == Activation::kClip;
}


// Applied to each finished output element C[m, n] while the tile is still in cache:
// C = act(C + row_bias[m] + residual[m * ld_residual + n]). Null pointers mean "not present".
struct GemmEpilogue {
  const float* row_bias = nullptr;
  const float* residual = nullptr;
  int64_t ld_residual = 0;
  FusedActivation act;
  bool empty() const { return !row_bias && !residual && act.kind == Activation::kNone; }
};

// Single-precision GEMM used by Conv/Gemm/MatMul: C[M,N] = alpha * op(A) * op(B) + beta * C, row-major.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int threads);

// C[M,N] = epilogue(alpha * op(A) * op(B) + beta * C); beta == 0 never reads C.
void sgemm_ex(Transpose trans_a, Transpose trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& ep,
              int threads);

// Width of the micro-kernel's column panels: a PanelSource fills kc x gemm_panel_width() floats per call.
int64_t gemm_panel_width();

// op(A) packed once into the micro-kernel's row-panel layout (conv/gemm weights at init), reused by every call.
class PackedA {
 public:
  PackedA() = default;
  PackedA(Transpose trans_a, int64_t M, int64_t K, const float* A, int64_t lda);
  int64_t rows() const { return m_; }
  int64_t depth() const { return k_; }
  bool empty() const { return data_.empty(); }
  // The panel of rows [i0, i0 + MR) in the K-slice starting at k0 (kc deep); i0 is a multiple of MR.
  const float* panel(int64_t i0, int64_t k0, int64_t kc) const { return data_.data() + k0 * m_pad_ + i0 * kc; }

 private:
  int64_t m_ = 0, k_ = 0, m_pad_ = 0;
  std::vector<float> data_;
};

// Produces B's column panels on demand (e.g. patches gathered straight from an image): rows [k0, k0+kc) and
// columns [j0, j0+nr) of B written as dst[k * gemm_panel_width() + j], columns nr.. zero.
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  virtual void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nr, float* dst) const = 0;
};

// One thread's block C[m0:m1, j0:j1] = epilogue(A[m0:m1, :] * B[:, j0:j1]) with A pre-packed and B from `src`.
// C points at element (0, 0) of the whole product; m0 is a multiple of MR (use gemm_row_align()).
void gemm_packed_block(const PackedA& a, const PanelSource& src, int64_t m0, int64_t m1, int64_t j0, int64_t j1,
                       float* C, int64_t ldc, const GemmEpilogue& ep);
int64_t gemm_row_align();

// B's panels for columns [j0, j1) packed once for every K-slice, then shared by several row blocks (threads) of
// one product instead of each packing its own copy: packed_b_floats() floats, filled slice by slice (each slice
// independently, so slices can be packed in parallel), then read by gemm_prepacked_block.
int64_t packed_b_floats(int64_t K, int64_t N);
int64_t packed_b_slices(int64_t K);
void pack_b_slice(const PanelSource& src, int64_t K, int64_t slice, int64_t j0, int64_t j1, float* packed_b);
void gemm_prepacked_block(const PackedA& a, const float* packed_b, int64_t m0, int64_t m1, int64_t j0, int64_t j1,
                          float* C, int64_t ldc, const GemmEpilogue& ep);

// Applies an epilogue to a row-major block (used where no GEMM runs, e.g. K == 0 or direct kernels).
void apply_epilogue(const GemmEpilogue& ep, int64_t m0, int64_t n0, int64_t rows, int64_t cols, float* C, int64_t ldc);

TRTCORE_CPU_NAMESPACE_END
