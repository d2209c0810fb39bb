// Tile 128x64x64, no cluster: the 64-channel convolutions without a half-empty tile, and twice the CTAs on the small
// images of the last stages.
#include "backends/cuda/cutlass/int8_conv_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassConvEntry conv_config_128x64x64_1x1() {
  return conv_entry<ConvConfig<128, 64, 64, 1, 1>>("128x64x64_1x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
