// A fused activation as the ending pointwise operation of a cuDNN graph convolution (see cudnn_graph.h).
#pragma once
#include <cfloat>
#include <cmath>

#include "backends/cuda/cudnn_graph.h"
#include "trtcore/graph.h"

namespace trtcore::cuda {

// Sets spec->act (and its clips or slope) for `a` applied to values divided by `divisor` (> 0): ReLU, leaky ReLU
// and clips commute with the division once the clip bounds are divided too. False when the graph API has no form
// of it, or when a divided form would not equal act(v) / divisor (sigmoid, tanh, swish with divisor != 1).
inline bool graph_activation(const FusedActivation& a, double divisor, GraphConvSpec* spec) {
  switch (a.kind) {
    case Activation::kNone: spec->act = GraphActivation::kNone; return true;
    case Activation::kRelu: spec->act = GraphActivation::kRelu; return true;
    case Activation::kClip:
      if (!std::isfinite(a.alpha) || std::isnan(a.beta)) return false;
      spec->act = GraphActivation::kClip;
      spec->lower_clip = double(a.alpha) / divisor;
      spec->upper_clip = std::isfinite(a.beta) ? double(a.beta) / divisor : double(FLT_MAX);
      return true;
    case Activation::kLeakyRelu:
      spec->act = GraphActivation::kLeakyRelu;
      spec->slope = a.alpha;
      return true;
    case Activation::kSigmoid: spec->act = GraphActivation::kSigmoid; return divisor == 1.0;
    case Activation::kTanh: spec->act = GraphActivation::kTanh; return divisor == 1.0;
    case Activation::kSiLU: spec->act = GraphActivation::kSwish; return divisor == 1.0;
    default: return false;
  }
}

}  // namespace trtcore::cuda
