// Int8 GEMMs on CUTLASS's Hopper kernels (wgmma, TMA, warp-specialized; cutlass/int8_gemm_*.cu, compiled for
// sm_90a only, where CMake finds the CUTLASS headers: TRTCORE_WITH_CUTLASS). One problem:
//   D[m, n] = sat_int8(rne(max(alpha[n] * (A[m, :] . B[n, :]) + beta * C[m, n] + bias[n], lower)))
// with A [M, K] and B [N, K] int8 row-major (both K-major: the "TN" form int8 wgmma takes), C and D int8 [M, N]
// row-major, alpha and bias float device vectors of N, beta a host scalar (0: C is not read), `lower` 0 for a ReLU
// and -inf for none. No CUTLASS header is included here, so the rest of the backend compiles for every architecture.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtcore::cuda {

struct CutlassInt8Gemm {
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  const void* c = nullptr;  // null: no residual (beta must be 0)
  void* d = nullptr;
  const float* alpha = nullptr;
  const float* bias = nullptr;
  float beta = 0.f;
  float lower = 0.f;
  int sm_count = 0;  // the device's multiprocessors, for the persistent tile scheduler
};

// Operand extents and addresses the kernels take: K and N in whole 16-byte rows, 16-byte aligned pointers.
inline bool cutlass_int8_shape_ok(int64_t n, int64_t k) { return n % 16 == 0 && k % 16 == 0 && n > 0 && k > 0; }

#if defined(TRTCORE_WITH_CUTLASS)
// The tile/cluster configurations built, by index ("128x256x128_1x1" ...); 0 when none were compiled.
int cutlass_int8_config_count();
std::string cutlass_int8_config_name(int config);
// Scratch bytes the configuration needs for `p` (its tile scheduler's).
size_t cutlass_int8_workspace(int config, const CutlassInt8Gemm& p);
// Once per process and configuration before the first launch (the kernel's shared-memory size attribute), and the
// check that the configuration takes `p`: "" when it does, else why not.
std::string cutlass_int8_prepare(int config, const CutlassInt8Gemm& p);
// Enqueues the GEMM on `stream`; "" on success, else what failed.
std::string cutlass_int8_run(int config, const CutlassInt8Gemm& p, void* workspace, cudaStream_t stream);
#else
inline int cutlass_int8_config_count() { return 0; }
inline std::string cutlass_int8_config_name(int) { return ""; }
inline size_t cutlass_int8_workspace(int, const CutlassInt8Gemm&) { return 0; }
inline std::string cutlass_int8_prepare(int, const CutlassInt8Gemm&) { return "built without CUTLASS"; }
inline std::string cutlass_int8_run(int, const CutlassInt8Gemm&, void*, cudaStream_t) {
  return "built without CUTLASS";
}
#endif

}  // namespace trtcore::cuda
