// Direct convolution for layers whose reduction is short (input channels x window <= 32 taps, e.g. a MobileNet's
// 3x3 stem on RGB images): cuDNN's implicit GEMMs spend most of each tile on a reduction this short. Bias, residual
// and any fused activation are applied in the same pass. Used by the Conv kernel as the "small-direct" tactic.
#pragma once
#include <cuda_runtime.h>

#include "backends/cuda/cuda_kernel.h"
#include "trtcore/graph.h"

namespace trtcore::cuda {

struct SmallConvShape {
  int64_t batch = 0;
  int c = 0, h = 0, w = 0, k = 0, oh = 0, ow = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

struct SmallConvArgs : DirectConvIo {
  const float* w = nullptr;  // [kh * kw * c][k] float32: tap-major, then input channel, output channels innermost
};

constexpr int kSmallConvMaxTaps = 32;      // c * kh * kw
constexpr int kSmallConvMaxChannels = 256;  // k, a multiple of 16 (the weights live in shared memory)

// Whether the direct kernel takes a layer of this shape (any storage layout; float32 or float16).
bool small_conv_possible(const SmallConvShape& s);

// `half`: float16 storage (float accumulation), else float32.
void launch_small_conv(const SmallConvShape& s, const SmallConvArgs& a, const FusedActivation& act, bool half,
                       cudaStream_t stream, const std::string& where);

}  // namespace trtcore::cuda
