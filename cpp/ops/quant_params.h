// Scale/zero-point resolution shared by QuantizeLinear/DequantizeLinear inference and their kernels: per-tensor
// (scalar or 1-element scale) or per-axis (1-D scale along `axis`), so build-time checks and run-time indexing agree.
#pragma once
#include <cstdint>
#include <string>

#include "trtcore/dtype.h"
#include "trtcore/error.h"

namespace trtcore {

struct QuantAxis {
  int64_t axis = -1;    // -1: one scale for the whole tensor
  int64_t channels = 1; // number of scales
  int64_t inner = 1;    // elements per channel run (product of dims after the axis)
  bool per_tensor() const { return axis < 0; }
  // Index of the scale that applies to element i of a C-order tensor.
  int64_t channel_of(int64_t i) const { return per_tensor() ? 0 : (i / inner) % channels; }
};

// `scale_shape` against data `shape` with the node's `axis` attribute (default 1); `who` names the node in errors.
inline QuantAxis resolve_quant_axis(const Shape& shape, const Shape& scale_shape, int64_t axis_attr,
                                    const std::string& who) {
  QuantAxis q;
  const int64_t n = numel(scale_shape);
  if (n == 1 && scale_shape.size() <= 1) return q;  // a scalar, or one scale per axis of extent 1: the same thing
  if (scale_shape.size() != 1)
    fail(ErrorKind::kUnsupported, who, ": scale of shape ", shape_str(scale_shape),
         " (blocked quantization) is not supported; use a scalar or a 1-D per-axis scale");
  const int64_t rank = int64_t(shape.size());
  int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
  if (axis < 0 || axis >= rank)
    fail(ErrorKind::kInvalidArgument, who, ": axis ", axis_attr, " is out of range for data of shape ", shape_str(shape));
  if (shape[size_t(axis)] != n)
    fail(ErrorKind::kInvalidArgument, who, ": ", n, " scales for axis ", axis, " of data shape ", shape_str(shape),
         " (that axis has ", shape[size_t(axis)], ")");
  q.axis = axis;
  q.channels = n;
  for (int64_t d = axis + 1; d < rank; ++d) q.inner *= shape[size_t(d)];
  return q;
}

}  // namespace trtcore
