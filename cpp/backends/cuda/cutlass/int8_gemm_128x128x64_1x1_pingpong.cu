// Tile 128x128x64, no cluster, ping-pong: for the 1x1 convolutions of 64 input channels (one k-block), where the
// epilogue (residual load, requantization, int8 store) is most of the work, one warp group's epilogue overlaps the
// other's loads and MMA.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_128x128x64_1x1_pingpong() {
  return entry<Config<128, 128, 64, 1, 1, Pingpong, PingpongEpilogue>>("128x128x64_1x1_pingpong");
}

}  // namespace trtcore::cuda::cutlass_sm90
