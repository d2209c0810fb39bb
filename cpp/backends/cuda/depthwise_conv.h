// Direct depthwise convolution (one filter per channel, channel multiplier 1) with the conv epilogue fused: bias,
// residual and any fused activation. Each operand may be stored NCHW or NHWC independently, so the kernel reads and
// writes the executable's storage layouts without transforms. Used by the Conv kernel as the "dw-direct" tactic.
#pragma once
#include <cuda_runtime.h>

#include "backends/cuda/cuda_kernel.h"
#include "trtcore/graph.h"

namespace trtcore::cuda {

struct DepthwiseShape {
  int64_t batch = 0, channels = 0, h = 0, w = 0, out_h = 0, out_w = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

// Float16 with every operand NHWC has three kernels: eight channels by four pixels per thread (kTiled), eight
// channels of one pixel per thread (kPixel: light threads, many loads in flight) or two channels per thread (kPairs).
// kAuto picks kTiled or kPairs by layer size at each launch; the tuner times kPixel beside it, and a plan's tactic
// may fix one. kTiled and kPixel need 3x3 or 5x5 windows, equal strides, no dilation and 16-byte alignment.
enum class DepthwiseTile { kAuto, kTiled, kPairs, kPixel };

struct DepthwiseArgs : DirectConvIo {
  const void* w = nullptr;  // [kernel_h * kernel_w][channels]: tap-major, so a warp reads consecutive channels
  DepthwiseTile tile = DepthwiseTile::kAuto;  // the tiled kernel still needs its shapes and alignment
};

// `half`: float16 storage (float accumulation), else float32.
void launch_depthwise(const DepthwiseShape& s, const DepthwiseArgs& a, const FusedActivation& act, bool half,
                      cudaStream_t stream, const std::string& where);

}  // namespace trtcore::cuda
