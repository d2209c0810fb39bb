// Depthwise convolution over blocks of 16 channels in a channel-interleaved scratch layout: every vector lane is a
// channel, so small planes (7x7, 14x14) use full vectors where a row-per-vector kernel would leave most lanes idle.
#pragma once
#include <cstdint>
#include <vector>

#include "backends/cpu/im2col.h"
#include "trtcore/graph.h"

namespace trtcore::cpu {

// Whether the channel-blocked kernel runs this window: 2-d windows with AVX-512 (measured faster than the
// row-per-vector kernel at every plane size from 7x7 to 112x112).
bool depthwise_blocked_suits(const Geometry3& g);

// Filters [m, 1, k...] rearranged as [m / 16 rounded up][taps][16] (channel lanes, zero past m).
std::vector<float> pack_depthwise_filters(const float* w, int64_t m, int64_t taps);

// y = act(conv(x) + bias + residual) for `batch` images of c channels with `mult` outputs per channel; `packed`
// comes from pack_depthwise_filters. Activations that are not applied in registers are left to the caller (the
// output then holds conv + bias + residual).
void depthwise_blocked(const Geometry3& g, int64_t batch, int64_t c, int64_t mult, const float* x,
                       const float* packed, const float* bias, const float* residual, const FusedActivation& act, float* y,
                       int threads);

}  // namespace trtcore::cpu
