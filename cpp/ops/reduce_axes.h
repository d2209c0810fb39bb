// Which axes a ReduceMean/ReduceSum/ReduceMax node reduces: the "axes" attribute before the opset where it became
// an input (13 for ReduceSum, 18 for the others), keepdims and noop_with_empty_axes.
#pragma once
#include <vector>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

struct ReduceAxes {
  std::vector<bool> reduced;  // per input axis
  bool keepdims = true;
  bool noop = false;          // empty axes with noop_with_empty_axes: the output is the input
};

// `axes_input` is the constant axes input (nullptr when absent or when axes come from the attribute).
inline ReduceAxes resolve_reduce_axes(const Node& node, size_t rank, const std::vector<int64_t>* axes_input) {
  ReduceAxes r;
  r.keepdims = node.attrs.get_int("keepdims", 1) != 0;
  std::vector<int64_t> axes = axes_input ? *axes_input : node.attrs.get_ints("axes");
  r.reduced.assign(rank, false);
  if (axes.empty()) {
    if (node.attrs.get_int("noop_with_empty_axes", 0) != 0) {
      r.noop = true;
      return r;
    }
    r.reduced.assign(rank, true);
    return r;
  }
  for (int64_t a : axes) {
    const int64_t ia = int64_t(rank);
    if (a < -ia || a >= ia) fail(ErrorKind::kInvalidArgument, node.describe(), ": axis ", a, " is out of range for rank ", rank);
    r.reduced[size_t(a < 0 ? a + ia : a)] = true;
  }
  return r;
}

inline Shape reduced_shape(const Shape& in, const ReduceAxes& r) {
  if (r.noop) return in;
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!r.reduced[i]) out.push_back(in[i]);
    else if (r.keepdims) out.push_back(1);
  }
  return out;
}

inline int64_t reduce_axes_input_opset(const std::string& op) { return op == "ReduceSum" ? 13 : 18; }

}  // namespace trtcore
