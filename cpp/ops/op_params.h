// Attribute/input resolution shared by an op's inference and its kernels (Slice clamping, Pad axes, Constant's
// value attributes), so build-time shapes and run-time indexing come from the same code.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

// One axis of a Slice after the spec's clamping: first index read, step, and the number of elements taken.
struct SliceAxis {
  int64_t start = 0;
  int64_t step = 1;
  int64_t len = 0;
};

struct SliceSpec {
  std::vector<int64_t> starts, ends, axes, steps;  // axes/steps may be empty (all leading axes, steps of 1)
};

inline SliceAxis resolve_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step) {
  SliceAxis a;
  // A step beyond the extent takes one element, as a step of the extent does; clamped, no arithmetic overflows.
  if (dim > 0) step = std::clamp<int64_t>(step, -dim, dim);
  a.step = step;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (dim == 0) return a;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    a.len = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    a.len = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  a.start = start;
  return a;
}

// Per-axis slices of `shape` (untouched axes take everything); `who` names the node in errors.
inline std::vector<SliceAxis> resolve_slice(const Shape& shape, const SliceSpec& spec, const std::string& who) {
  const int64_t rank = int64_t(shape.size());
  const size_t n = spec.starts.size();
  if (spec.ends.size() != n) fail(ErrorKind::kInvalidArgument, who, ": starts and ends differ in length");
  if (!spec.axes.empty() && spec.axes.size() != n)
    fail(ErrorKind::kInvalidArgument, who, ": axes has ", spec.axes.size(), " entries, starts has ", n);
  if (!spec.steps.empty() && spec.steps.size() != n)
    fail(ErrorKind::kInvalidArgument, who, ": steps has ", spec.steps.size(), " entries, starts has ", n);
  if (spec.axes.empty() && int64_t(n) > rank)
    fail(ErrorKind::kInvalidArgument, who, ": ", n, " starts for an input of rank ", rank);
  std::vector<SliceAxis> out(shape.size());
  std::vector<bool> seen(shape.size(), false);
  for (size_t a = 0; a < shape.size(); ++a) out[a] = SliceAxis{0, 1, shape[a]};
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = spec.axes.empty() ? int64_t(i) : spec.axes[i];
    if (axis < -rank || axis >= rank)
      fail(ErrorKind::kInvalidArgument, who, ": axis ", axis, " is out of range for rank ", rank);
    if (axis < 0) axis += rank;
    if (seen[size_t(axis)]) fail(ErrorKind::kInvalidArgument, who, ": axis ", axis, " is sliced twice");
    seen[size_t(axis)] = true;
    const int64_t step = spec.steps.empty() ? 1 : spec.steps[i];
    if (step == 0) fail(ErrorKind::kInvalidArgument, who, ": steps must be nonzero");
    out[size_t(axis)] = resolve_slice_axis(shape[size_t(axis)], spec.starts[i], spec.ends[i], step);
  }
  return out;
}

// Pad amounts as [begin_0.., end_0..] over all `rank` axes, from pads given for `axes` (all axes when empty).
inline std::vector<int64_t> expand_pads(const std::vector<int64_t>& pads, const std::vector<int64_t>& axes,
                                        int64_t rank, const std::string& who) {
  if (axes.empty()) {
    if (int64_t(pads.size()) != 2 * rank)
      fail(ErrorKind::kInvalidArgument, who, ": pads has ", pads.size(), " entries, expected ", 2 * rank,
           " (begin and end for each of ", rank, " axes)");
    return pads;
  }
  const int64_t n = int64_t(axes.size());
  if (int64_t(pads.size()) != 2 * n)
    fail(ErrorKind::kInvalidArgument, who, ": pads has ", pads.size(), " entries, expected ", 2 * n,
         " for ", n, " axes");
  std::vector<int64_t> full(size_t(2 * rank), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t axis = axes[size_t(i)];
    if (axis < -rank || axis >= rank)
      fail(ErrorKind::kInvalidArgument, who, ": axis ", axis, " is out of range for rank ", rank);
    if (axis < 0) axis += rank;
    full[size_t(axis)] = pads[size_t(i)];
    full[size_t(axis + rank)] = pads[size_t(i + n)];
  }
  return full;
}

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

inline PadMode pad_mode_from(const std::string& mode, const std::string& who) {
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap") return PadMode::kWrap;
  fail(ErrorKind::kUnsupported, who, ": pad mode '", mode, "' is not supported (constant, reflect, edge, wrap)");
}

// Where padded position `i` (already shifted by the begin pad) of an axis of length `d` reads from; -1 means the
// constant. One definition for both backends: the macro makes it callable from CUDA device code too.
#if defined(__CUDACC__)
#define TRTCORE_HOST_DEVICE __host__ __device__
#else
#define TRTCORE_HOST_DEVICE
#endif
TRTCORE_HOST_DEVICE inline int64_t pad_source_index(int64_t i, int64_t d, PadMode mode) {
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : d - 1;
    case PadMode::kWrap: return ((i % d) + d) % d;
    case PadMode::kReflect: {
      if (d == 1) return 0;
      const int64_t period = 2 * (d - 1);
      const int64_t m = ((i % period) + period) % period;
      return m < d ? m : period - m;
    }
  }
  return -1;
}

// The tensor a Constant node produces, from whichever value attribute it carries.
inline Tensor constant_attr_value(const Node& node) {
  const Attrs& a = node.attrs;
  int given = 0;
  for (const char* k : {"value", "value_float", "value_floats", "value_int", "value_ints"}) given += a.has(k) ? 1 : 0;
  if (given != 1) {
    for (const char* k : {"value_string", "value_strings", "sparse_value"})
      if (a.has(k)) fail(ErrorKind::kUnsupported, node.describe(), ": attribute '", k, "' is not supported");
    fail(ErrorKind::kInvalidArgument, node.describe(), ": exactly one value attribute is required, found ", given);
  }
  if (a.has("value")) {
    TensorPtr t = a.get_tensor("value");
    if (!t) fail(ErrorKind::kInvalidArgument, node.describe(), ": attribute 'value' is empty");
    return *t;
  }
  if (a.has("value_float")) {
    Tensor t(DType::kFloat32, {});
    t.data<float>()[0] = a.get_float("value_float", 0.f);
    return t;
  }
  if (a.has("value_int")) {
    Tensor t(DType::kInt64, {});
    t.data<int64_t>()[0] = a.get_int("value_int", 0);
    return t;
  }
  if (a.has("value_floats")) {
    const std::vector<float> v = a.get_floats("value_floats");
    Tensor t(DType::kFloat32, {int64_t(v.size())});
    std::copy(v.begin(), v.end(), t.data<float>());
    return t;
  }
  const std::vector<int64_t> v = a.get_ints("value_ints");
  Tensor t(DType::kInt64, {int64_t(v.size())});
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

}  // namespace trtcore
