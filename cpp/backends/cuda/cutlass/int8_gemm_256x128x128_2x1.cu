// Tile 256x128x128, cluster 2x1, cooperative: the weight tile multicast to two CTAs along M.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_256x128x128_2x1() {
  return entry<Config<256, 128, 128, 2, 1, Cooperative, CooperativeEpilogue>>("256x128x128_2x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
