// Tile 256x128x64, no cluster, cooperative: the 256-row tile without the unused half k-block a 128-deep tile
// carries when K is 64, so more pipeline stages fit in shared memory.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_256x128x64_1x1() {
  return entry<Config<256, 128, 64, 1, 1, Cooperative, CooperativeEpilogue>>("256x128x64_1x1");
}

}  // namespace trtcore::cuda::cutlass_sm90
