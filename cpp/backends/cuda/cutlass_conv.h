// Int8 2-D convolutions on CUTLASS's Hopper implicit-GEMM kernels (TMA im2col loads, wgmma on int8 with int32
// accumulation; cutlass/int8_conv_*.cu, compiled for sm_90a only, where CMake finds the CUTLASS headers:
// TRTCORE_WITH_CUTLASS). One problem, cross-correlation as ONNX's Conv computes it, with the int8 GEMM's epilogue
// (cutlass_gemm.h):
//   y[n, p, q, k] = sat_int8(rne(max(alpha[k] * sum_{r,s,c} x[n, p*sh - ph + r*dh, q*sw - pw + s*dw, c] * w[k, r, s, c]
//                                    + beta * z[n, p, q, k] + bias[k], lower)))
// with x int8 NHWC (taps outside the image read as 0), w int8 KRSC, z and y int8 NHWC of the output's size. No
// CUTLASS header is included here, so the rest of the backend compiles for every architecture.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace trtcore::cuda {

struct CutlassInt8Conv {
  int32_t n = 0, h = 0, w = 0, c = 0;  // input
  int32_t k = 0, r = 1, s = 1;         // output channels and filter size
  int32_t p = 0, q = 0;                // output size
  int32_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  const void* x = nullptr;
  const void* weights = nullptr;
  const void* z = nullptr;  // null: no residual (beta must be 0)
  void* y = nullptr;
  const float* alpha = nullptr;
  const float* bias = nullptr;
  float beta = 0.f;
  float lower = 0.f;
  int sm_count = 0;
};

// Channel counts the kernels take: whole 16-byte units in every pixel and filter row (TMA's alignment).
inline bool cutlass_conv_channels_ok(int64_t c, int64_t k) { return c % 16 == 0 && k % 16 == 0 && c > 0 && k > 0; }

#if defined(TRTCORE_WITH_CUTLASS)
// The tile/cluster configurations built, by index ("128x128x64_1x1" ...); 0 when none were compiled.
int cutlass_conv_config_count();
std::string cutlass_conv_config_name(int config);
size_t cutlass_conv_workspace(int config, const CutlassInt8Conv& p);
// Once per process and configuration before the first launch (the kernel's shared-memory size attribute), and the
// check that the configuration takes `p` (sizes, paddings, output size): "" when it does, else why not.
std::string cutlass_conv_prepare(int config, const CutlassInt8Conv& p);
// Enqueues the convolution on `stream`; "" on success, else what failed.
std::string cutlass_conv_run(int config, const CutlassInt8Conv& p, void* workspace, cudaStream_t stream);
#else
inline int cutlass_conv_config_count() { return 0; }
inline std::string cutlass_conv_config_name(int) { return ""; }
inline size_t cutlass_conv_workspace(int, const CutlassInt8Conv&) { return 0; }
inline std::string cutlass_conv_prepare(int, const CutlassInt8Conv&) { return "built without CUTLASS"; }
inline std::string cutlass_conv_run(int, const CutlassInt8Conv&, void*, cudaStream_t) {
  return "built without CUTLASS";
}
#endif

}  // namespace trtcore::cuda
