// Tile 128x128x64, no cluster: 128 output channels a CTA, one filter tap's 64 channels a k-block (the 3x3
// convolutions of 128 channels and more).
#include "backends/cuda/cutlass/int8_conv_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassConvEntry conv_config_128x128x64_1x1() {
  return conv_entry<ConvConfig<128, 128, 64, 1, 1>>("128x128x64_1x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
