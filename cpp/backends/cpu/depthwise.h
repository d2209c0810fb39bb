// Direct (GEMM-free) convolutions over blocks of 16 output channels, one channel per vector lane: depthwise convs
// in a channel-interleaved scratch layout (small planes such as 7x7 keep every lane busy), and dense convs with so
// few taps per output (an RGB stem) that gathering patch panels for the GEMM would cost more than the products.
#pragma once
#include "backends/cpu/isa.h"
#include <cstdint>
#include <vector>

#include "backends/cpu/im2col.h"
#include "trtcore/graph.h"

TRTCORE_CPU_NAMESPACE_BEGIN

// Whether the channel-blocked kernel runs this window: 2-d windows with AVX-512 (measured faster than the
// row-per-vector kernel at every plane size from 7x7 to 112x112).
bool depthwise_blocked_suits(const Geometry3& g);

// Most taps per output (input channels x kernel size) a small-taps conv takes.
constexpr int64_t kSmallTapsMax = 32;

// Filters [m, taps] (depthwise [m, 1, k...], or a dense conv's [m, c, k...]) rearranged as [m / 16 rounded up][taps][16] (channel lanes, zero past m).
std::vector<float> pack_channel_blocks(const float* w, int64_t m, int64_t taps);

// y = act(conv(x) + bias + residual) for `batch` images of c channels with `mult` outputs per channel; `packed`
// comes from pack_channel_blocks. Activations that are not applied in registers are left to the caller (the
// output then holds conv + bias + residual).
void depthwise_blocked(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const float* x,
                       const float* packed, const float* bias, const float* residual, const FusedActivation& act, float* y,
                       int threads);

// A dense 2-d conv (group 1) with at most kSmallTapsMax taps per output (1x1 only below four channels); same
// epilogue contract as above.
bool small_taps_suits(const Geometry3& g, int64_t group, int64_t c);
void small_taps_conv(const Geometry3& g, int64_t batch, int64_t c, int64_t m, const float* x, const float* packed,
                     const float* bias, const float* residual, const FusedActivation& act, float* y, int threads);

TRTCORE_CPU_NAMESPACE_END
