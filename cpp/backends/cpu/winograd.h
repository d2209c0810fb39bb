// Winograd F(2x2, 3x3) convolution for 2-d, stride-1, dilation-1, ungrouped 3x3 convs: each 4x4 input tile and
// each filter are transformed so a 2x2 output tile costs 16 multiplies per channel pair instead of 36. The 16
// elementwise products over channels are 16 GEMMs on the cpu sgemm (transformed weights packed once).
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

#include "backends/cpu/im2col.h"
#include "backends/cpu/sgemm.h"
#include "trtcore/graph.h"

TRTCORE_CPU_NAMESPACE_BEGIN

class WinogradConv {
 public:
  // Whether the transform pays off for this conv (shape, channels, number of tiles).
  static bool suits(const Geometry3& g, int64_t batch, int64_t group, int64_t c, int64_t m);
  // w: [m, c, 3, 3] filters.
  void init(const float* w, int64_t m, int64_t c);
  bool ready() const { return !u_.empty(); }
  void run(const Geometry3& g, int64_t batch, const float* x, const float* bias, const float* residual,
           const FusedActivation& act, float* y, int threads) const;

 private:
  int64_t m_ = 0, c_ = 0;
  std::vector<PackedA> u_;  // 16 transformed filter matrices [m, c]
};

TRTCORE_CPU_NAMESPACE_END
