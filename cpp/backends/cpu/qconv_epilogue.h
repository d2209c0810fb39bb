// What every QConv kernel does after its integer sums (qconv.cpp defines it): per output channel
// y = acc * x_scale * w_scale[m] + bias, the fused residual and activation in float, and the float store or the
// requantization to int8/uint8. One definition per instruction-set level, so the GEMM path and the depthwise kernel
// round every output the same way.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/tensor.h"

TRTCORE_CPU_NAMESPACE_BEGIN

struct QConvEpilogue {
  std::vector<float> mult;  // x_scale * w_scale[m]
  const float* bias = nullptr;
  const float* residual = nullptr;    // float residual, or
  const void* residual_q = nullptr;   // an 8-bit one dequantized with r_scale and r_zp
  bool residual_signed = false;
  float r_scale = 1.f;
  int32_t r_zp = 0;
  bool quantized_out = false, y_signed = false;
  float y_scale = 1.f;
  int32_t y_zp = 0;
  void* out = nullptr;
  int64_t m = 0, pixels = 0;  // output channels and pixels per channel
  FusedActivation act;

  // y[r * ld + j] for r < rows, j < nr hold the exact sums (activation zero point already taken out) of output
  // channel mi + r of image n at pixel j0 + j; they are finished in place and stored. Rows that cover whole planes
  // (nr == pixels == ld) are stored as one run: small planes then cost no per-row loop overhead.
  void finish(int64_t n, int64_t mi, int64_t rows, int64_t j0, float* y, int64_t ld, int64_t nr) const;

 private:
  // residual, activation and store for `len` consecutive outputs from flat output index `base`
  void store(size_t base, float* y, int64_t len) const;
};

TRTCORE_CPU_NAMESPACE_END
