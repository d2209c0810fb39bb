// Tile 128x128x128, cluster 1x2, ping-pong: the two CTAs of a cluster share the activation tile (TMA multicast), and
// one warp group's epilogue overlaps the other's mainloop.
#include "backends/cuda/cutlass/int8_gemm_sm90.cuh"

namespace trtcore::cuda::cutlass_sm90 {

CutlassInt8Entry config_128x128x128_1x2_pingpong() {
  return entry<Config<128, 128, 128, 1, 2, Pingpong, PingpongEpilogue>>("128x128x128_1x2_pingpong");
}

}  // namespace trtcore::cuda::cutlass_sm90
