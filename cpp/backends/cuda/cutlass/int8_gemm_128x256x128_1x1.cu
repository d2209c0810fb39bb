// Tile 128x256x128, no cluster, cooperative: one CTA covers 256 output channels, so each activation row is read once.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_128x256x128_1x1() {
  return entry<Config<128, 256, 128, 1, 1, Cooperative, CooperativeEpilogue>>("128x256x128_1x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
