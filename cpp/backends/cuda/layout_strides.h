// Element strides of a [N, C, H, W] tensor in its storage layout, for kernels that index NCHW and NHWC alike.
#pragma once
#include <cstdint>

#include "backends/cuda/cuda_kernel.h"

namespace trtcore::cuda {

struct Strides4 {
  int64_t n = 0, c = 0, h = 0, w = 0;
};

inline Strides4 strides_of(Layout l, int64_t c, int64_t h, int64_t w) {
  if (l == Layout::kNHWC) return {h * w * c, 1, w * c, c};
  return {c * h * w, h * w, w, 1};
}

}  // namespace trtcore::cuda
