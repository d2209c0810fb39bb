// The int8 depthwise convolution (one input channel per group) of QConv, without the GEMM's panels: each output is
// a sum of at most a few hundred products of 8-bit values, which float32 holds exactly, so the kernel accumulates
// (x - x_zero_point) * w in float lanes (the float depthwise kernels' loops) and hands the exact sums to the same
// epilogue as the GEMM path: both paths give bit-identical outputs.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

#include "backends/cpu/im2col.h"
#include "backends/cpu/qconv_epilogue.h"
#include "trtcore/tensor.h"

namespace trtcore::cpu {
// Whether this kernel runs a QConv of weight shape [m, 1, kh, kw] over c input channels: group == c > 1 and few
// enough taps (|x - zp| <= 255, |w| <= 128) that every partial sum is an integer below 2^24. Baseline code (the
// backend's layer descriptions) asks too.
inline bool qconv_depthwise_suits(int64_t group, int64_t c, const Shape& w_shape) {
  if (w_shape.size() != 4 || group <= 1 || group != c || w_shape[1] != 1 || w_shape[0] % c != 0) return false;
  return w_shape[2] * w_shape[3] * 255 * 128 <= (int64_t(1) << 24);
}
}  // namespace trtcore::cpu

TRTCORE_CPU_NAMESPACE_BEGIN

// The filters [m][taps] as this level's kernel reads them.
std::vector<float> pack_qconv_depthwise(const int8_t* w, int64_t m, int64_t taps);

// ep.finish(...) over every output of `batch` images of c channels (int8 when x_signed, else uint8) with `mult`
// outputs per channel.
void qconv_depthwise(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const void* x, bool x_signed,
                     int32_t x_zp, const std::vector<float>& packed, const QConvEpilogue& ep, int threads);

TRTCORE_CPU_NAMESPACE_END
