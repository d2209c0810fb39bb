// Row-major GEMM on cuBLASLt: D[b] = alpha * op(A[b]) * op(B[b]) (+ beta * D[b]) (+ bias[n]) (then ReLU), with
// per-shape plans cached (the batch changes M or the batch count) and the algorithm of the maximum shape timed.
#pragma once
#include <cublasLt.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {

enum class Transpose { kNo, kYes };
enum class GemmEpilogue { kNone, kBias, kRelu, kBiasRelu };
// Element type of A, B, D and the bias; accumulation is FP32 (TF32 only for float32 when allowed). kInt8: int8 A, B
// and D with INT32 accumulation on tensor cores (A not transposed, B transposed), a per-column alpha vector
// (GemmArgs::alpha_vector, device memory) and a float32 bias; D is rounded and saturated to int8.
enum class GemmData { kFloat32, kFloat16, kInt8 };

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 1;                                 // batch count
  int64_t stride_a = 0, stride_b = 0, stride_d = 0;  // elements between batch items (0 broadcasts)
  bool operator<(const GemmShape& o) const {
    return std::tie(m, n, k, batch, stride_a, stride_b, stride_d) <
           std::tie(o.m, o.n, o.k, o.batch, o.stride_a, o.stride_b, o.stride_d);
  }
};

struct GemmArgs {
  const void* a = nullptr;
  const void* b = nullptr;
  void* d = nullptr;
  float alpha = 1.f;
  float beta = 0.f;             // beta != 0 adds beta * C (c, or d itself when c is null)
  const void* bias = nullptr;  // length n, for kBias/kBiasRelu
  const void* c = nullptr;     // C in D's layout (e.g. a residual), or null for d
  const float* alpha_vector = nullptr;  // kInt8: n scales on the device, used instead of alpha
};

class LtGemm {
 public:
  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;

  LtGemm() = default;
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  // Fixed per node: transposes, epilogue, math. Then tune() (build) or reuse() (load) at the maximum shape.
  void configure(const std::string& where, Transpose ta, Transpose tb, GemmEpilogue ep, Fp32Math math,
                 GemmData data = GemmData::kFloat32);
  void tune(cublasLtHandle_t h, cudaStream_t stream, const GemmShape& max_shape, const GemmArgs& args);
  void reuse(cublasLtHandle_t h, const GemmShape& max_shape, const std::string& tactic);

  void run(cublasLtHandle_t h, cudaStream_t stream, const GemmShape& shape, const GemmArgs& args, void* workspace,
           size_t workspace_bytes);

  std::string tactic() const { return "h" + std::to_string(chosen_); }

 private:
  struct Plan {
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    std::vector<cublasLtMatmulHeuristicResult_t> algos;
    int pick = 0;
  };
  Plan& plan_for(cublasLtHandle_t h, const GemmShape& s);

  std::string where_;
  Transpose ta_ = Transpose::kNo, tb_ = Transpose::kNo;
  GemmEpilogue ep_ = GemmEpilogue::kNone;
  cudaDataType_t type_ = CUDA_R_32F;
  GemmData data_ = GemmData::kFloat32;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatmulPreference_t pref_ = nullptr;
  std::map<GemmShape, Plan> plans_;
  GemmShape max_shape_;
  int chosen_ = 0;
};

}  // namespace trtcore::cuda
