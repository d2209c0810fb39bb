// Tile 128x256x64, no cluster, cooperative: the K = 64 layers in one k-block, with more pipeline stages.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_128x256x64_1x1() {
  return entry<Config<128, 256, 64, 1, 1, Cooperative, CooperativeEpilogue>>("128x256x64_1x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
