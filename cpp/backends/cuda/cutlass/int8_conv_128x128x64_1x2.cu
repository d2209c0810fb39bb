// Tile 128x128x64, cluster 1x2: two CTAs along the output channels share each activation tile (TMA multicast), the
// im2col load being the costly one for layers of 256 channels and more.
#include "backends/cuda/cutlass/int8_conv_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassConvEntry conv_config_128x128x64_1x2() {
  return conv_entry<ConvConfig<128, 128, 64, 1, 2>>("128x128x64_1x2");
}

}  // namespace trtcore::cuda::cutlass_sm90
