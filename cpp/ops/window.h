// Sliding-window geometry shared by Conv, ConvTranspose and the pools: kernel, strides, dilations, pads and the
// output extent per spatial axis, resolved from ONNX attributes (auto_pad included). Used by both the shape
// inference and the kernels so the two can never disagree.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };
enum class OutputRounding { kFloor, kCeil };

inline AutoPad parse_auto_pad(const Node& node) {
  const std::string s = node.attrs.get_string("auto_pad", "NOTSET");
  if (s == "NOTSET" || s.empty()) return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  fail(ErrorKind::kUnsupported, node.describe(), ": auto_pad '", s, "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
}

struct Window {
  std::vector<int64_t> kernel, stride, dilation, pad_begin, pad_end, in, out;
  size_t rank() const { return kernel.size(); }
  int64_t kernel_size() const {
    int64_t n = 1;
    for (int64_t k : kernel) n *= k;
    return n;
  }
  int64_t out_size() const {
    int64_t n = 1;
    for (int64_t o : out) n *= o;
    return n;
  }
  int64_t in_size() const {
    int64_t n = 1;
    for (int64_t i : in) n *= i;
    return n;
  }
  bool no_padding() const {
    for (size_t i = 0; i < rank(); ++i)
      if (pad_begin[i] || pad_end[i]) return false;
    return true;
  }
};

// Bound on kernel extents, strides, dilations and pads: window arithmetic on values below it cannot overflow int64.
constexpr int64_t kMaxWindowValue = int64_t(1) << 31;

// Reads strides/dilations/pads (checking their lengths) for `kernel`, without computing the output.
inline Window read_window_attrs(const Node& node, const std::vector<int64_t>& kernel, bool dilations_allowed) {
  const size_t n = kernel.size();
  Window w;
  w.kernel = kernel;
  w.stride = node.attrs.get_ints("strides", std::vector<int64_t>(n, 1));
  w.dilation = node.attrs.get_ints("dilations", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * n, 0));
  if (w.stride.size() != n || w.dilation.size() != n || pads.size() != 2 * n)
    fail(ErrorKind::kInvalidArgument, node.describe(), ": strides/dilations need ", n, " values and pads ", 2 * n,
         " for a ", n, "-d kernel");
  for (size_t i = 0; i < n; ++i) {
    if (kernel[i] < 1 || w.stride[i] < 1 || w.dilation[i] < 1 || pads[i] < 0 || pads[n + i] < 0)
      fail(ErrorKind::kInvalidArgument, node.describe(), ": kernel, strides and dilations must be >= 1 and pads >= 0");
    if (std::max({kernel[i], w.stride[i], w.dilation[i], pads[i], pads[n + i]}) > kMaxWindowValue)
      fail(ErrorKind::kInvalidArgument, node.describe(), ": kernel, strides, dilations and pads must be <= ",
           kMaxWindowValue, " (spatial axis ", i, ")");
    if (!dilations_allowed && w.dilation[i] != 1)
      fail(ErrorKind::kUnsupported, node.describe(), ": dilations are not supported for this op");
  }
  w.pad_begin.assign(pads.begin(), pads.begin() + long(n));
  w.pad_end.assign(pads.begin() + long(n), pads.end());
  return w;
}

// Forward window (Conv, pools): fills pads (auto_pad) and output extents for the input spatial extents `in`.
inline Window resolve_window(const Node& node, const std::vector<int64_t>& kernel, const std::vector<int64_t>& in,
                             OutputRounding rounding, bool dilations_allowed) {
  Window w = read_window_attrs(node, kernel, dilations_allowed);
  const AutoPad ap = parse_auto_pad(node);
  w.in = in;
  w.out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t dk = (w.kernel[i] - 1) * w.dilation[i] + 1, s = w.stride[i];
    if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
      w.out[i] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (w.out[i] - 1) * s + dk - in[i]);
      w.pad_begin[i] = ap == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
      continue;
    }
    if (ap == AutoPad::kValid) w.pad_begin[i] = w.pad_end[i] = 0;
    const int64_t span = in[i] + w.pad_begin[i] + w.pad_end[i] - dk;
    if (span < 0)
      fail(ErrorKind::kInvalidArgument, node.describe(), ": kernel extent ", dk, " exceeds the padded input extent ",
           in[i] + w.pad_begin[i] + w.pad_end[i], " on spatial axis ", i);
    if (rounding == OutputRounding::kCeil) {
      w.out[i] = (span + s - 1) / s + 1;
      // the last window must start inside the input or its leading pad
      if ((w.out[i] - 1) * s >= in[i] + w.pad_begin[i]) --w.out[i];
    } else {
      w.out[i] = span / s + 1;
    }
  }
  return w;
}

}  // namespace trtcore

namespace trtcore {

// Transposed window (ConvTranspose): output extents from output_shape or the strides/output_padding formula,
// pads from auto_pad/output_shape as the ONNX definition gives them.
inline Window resolve_transpose_window(const Node& node, const std::vector<int64_t>& kernel,
                                       const std::vector<int64_t>& in) {
  const size_t n = kernel.size();
  Window w = read_window_attrs(node, kernel, true);
  const AutoPad ap = parse_auto_pad(node);
  const std::vector<int64_t> out_pad = node.attrs.get_ints("output_padding", std::vector<int64_t>(n, 0));
  std::vector<int64_t> out_shape = node.attrs.get_ints("output_shape");
  if (out_pad.size() != n) fail(ErrorKind::kInvalidArgument, node.describe(), ": output_padding needs ", n, " values");
  if (out_shape.size() > n) out_shape.erase(out_shape.begin(), out_shape.end() - long(n));  // full N,C,... form
  if (!out_shape.empty() && out_shape.size() != n)
    fail(ErrorKind::kInvalidArgument, node.describe(), ": output_shape needs ", n, " spatial values");
  // bounded before the padding arithmetic below, which would overflow on extents near int64's limits
  for (int64_t v : out_shape)
    if (v < 1 || v > (int64_t(1) << 40))
      fail(ErrorKind::kInvalidArgument, node.describe(), ": output_shape value ", v, " is not between 1 and 2^40");
  w.in = in;
  w.out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t dk = (kernel[i] - 1) * w.dilation[i] + 1, s = w.stride[i];
    if (out_pad[i] < 0 || (out_pad[i] >= s && out_pad[i] >= w.dilation[i]))
      fail(ErrorKind::kInvalidArgument, node.describe(), ": output_padding must be smaller than stride or dilation");
    const bool same = ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower;
    if (!out_shape.empty() || same) {
      w.out[i] = !out_shape.empty() ? out_shape[i] : in[i] * s;
      const int64_t total = std::max<int64_t>(0, s * (in[i] - 1) + out_pad[i] + dk - w.out[i]);
      // the ONNX definition: SAME_UPPER puts the odd unit at the end
      if (ap == AutoPad::kSameUpper) {
        w.pad_begin[i] = total / 2;
        w.pad_end[i] = total - total / 2;
      } else {
        w.pad_begin[i] = total - total / 2;
        w.pad_end[i] = total / 2;
      }
    } else {
      if (ap == AutoPad::kValid) w.pad_begin[i] = w.pad_end[i] = 0;
      w.out[i] = s * (in[i] - 1) + out_pad[i] + dk - w.pad_begin[i] - w.pad_end[i];
    }
    if (w.out[i] < 1) fail(ErrorKind::kInvalidArgument, node.describe(), ": output extent ", w.out[i], " is not positive");
  }
  return w;
}

// Spatial part of a shape (after N and C).
inline std::vector<int64_t> spatial_of(const Shape& s) { return std::vector<int64_t>(s.begin() + 2, s.end()); }

}  // namespace trtcore
