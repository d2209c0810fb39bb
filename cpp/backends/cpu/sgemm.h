// The cpu backend's single-precision GEMM with an optional fused output pass (bias, residual, activation), shared
// by Conv, ConvTranspose, Gemm and MatMul. The plain entry point trtcore::cpu::sgemm is declared in cpu_kernel.h.
#pragma once
#include <cstdint>

#include "trtcore/graph.h"

namespace trtcore::cpu {

enum class Transpose { kNo, kYes };

// Applied to each finished output element C[m, n] while the tile is still in cache:
// C = act(C + row_bias[m] + residual[m * ld_residual + n]). Null pointers mean "not present".
struct GemmEpilogue {
  const float* row_bias = nullptr;
  const float* residual = nullptr;
  int64_t ld_residual = 0;
  FusedActivation act;
  bool empty() const { return !row_bias && !residual && act.kind == Activation::kNone; }
};

// C[M,N] = epilogue(alpha * op(A) * op(B) + beta * C); beta == 0 never reads C.
void sgemm_ex(Transpose trans_a, Transpose trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const GemmEpilogue& ep,
              int threads);

// Applies an epilogue to a row-major block (used where no GEMM runs, e.g. K == 0 or direct kernels).
void apply_epilogue(const GemmEpilogue& ep, int64_t m0, int64_t n0, int64_t rows, int64_t cols, float* C, int64_t ldc);

}  // namespace trtcore::cpu
