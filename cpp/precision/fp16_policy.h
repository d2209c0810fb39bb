// FP16 precision stage: rewrites an optimized graph so chosen nodes compute on float16 values, with Cast nodes at
// every float32/float16 boundary. The graph then carries all dtypes itself, so a plan round-trips unchanged.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "trtcore/graph.h"

namespace trtcore {

// Whether graph inputs/outputs keep float32 or become float16 (--io-half).
enum class IoPrecision { kFloat32, kFloat16 };

struct Fp16Decision {
  std::string node;    // node name
  bool fp16 = false;
  std::string reason;  // why a candidate stayed float32 ("" for fp16 nodes and ops never run in fp16)
  bool range_guard = false;  // it stayed float32 because observed values leave float16's range
};

struct Fp16Report {
  std::vector<Fp16Decision> decisions;  // one per non-folded node of the input graph, in order
  int casts_inserted = 0;
  int fp16_nodes = 0;
};

// Rewrites `g` in place (nodes stay topologically ordered; shapes are unchanged, dtypes follow). `ranges` (tensor
// name -> max |x| observed on sample data) keeps every node reading or writing a tensor beyond kFp16SafeRange float32.
Fp16Report apply_fp16_policy(Graph& g, IoPrecision io, const std::map<std::string, float>& ranges = {});

// Half of float16's largest value: a tensor observed above it on the samples can overflow on other inputs.
constexpr float kFp16SafeRange = 32752.f;

}  // namespace trtcore
