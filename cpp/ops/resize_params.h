// Resize (opsets 10-19) and Upsample (7-9) parameters: interpolation mode, coordinate transformation, nearest
// rounding, per-axis scales and the output shape. Shared by the shape inference and the kernels.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

enum class ResizeMode { kNearest, kLinear };
enum class CoordTransform { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric,
                            kTfHalfPixelForNN };
// kSimple is Upsample's and Resize-10's rule: floor, or ceil when downsampling.
enum class NearestRounding { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

// Largest output extent Resize accepts from scales or an aspect-ratio policy (the importer's bound on input size).
constexpr float kMaxResizeExtent = float(int64_t(1) << 40);

struct ResizeParams {
  ResizeMode mode = ResizeMode::kNearest;
  CoordTransform coord = CoordTransform::kAsymmetric;
  NearestRounding rounding = NearestRounding::kSimple;
  std::vector<float> scales;  // per input axis
  bool scales_given = false;  // false: scales were derived from sizes (out / in)
  Shape out;
};

// scales/sizes: the constant inputs' values, or nullptr when absent/empty.
inline ResizeParams resolve_resize(const Node& node, int64_t opset, const Shape& in, const std::vector<float>* scales,
                                   const std::vector<int64_t>* sizes) {
  auto bad = [&](const std::string& what) { fail(ErrorKind::kUnsupported, node.describe(), " (opset ", opset, "): ", what); };
  auto invalid = [&](const std::string& what) { fail(ErrorKind::kInvalidArgument, node.describe(), ": ", what); };
  const Attrs& a = node.attrs;
  const bool legacy = node.op == "Upsample" || opset < 11;
  ResizeParams p;
  const std::string mode = a.get_string("mode", "nearest");
  if (mode == "nearest") p.mode = ResizeMode::kNearest;
  else if (mode == "linear" || mode == "bilinear") p.mode = ResizeMode::kLinear;
  else if (mode == "cubic") bad("mode 'cubic'");
  else invalid("mode '" + mode + "' is not one of nearest, linear, cubic");
  if (legacy) {
    p.coord = CoordTransform::kAsymmetric;
    p.rounding = NearestRounding::kSimple;
  } else {
    const std::string ct = a.get_string("coordinate_transformation_mode", "half_pixel");
    if (ct == "half_pixel") p.coord = CoordTransform::kHalfPixel;
    else if (ct == "half_pixel_symmetric") p.coord = CoordTransform::kHalfPixelSymmetric;
    else if (ct == "pytorch_half_pixel") p.coord = CoordTransform::kPytorchHalfPixel;
    else if (ct == "align_corners") p.coord = CoordTransform::kAlignCorners;
    else if (ct == "asymmetric") p.coord = CoordTransform::kAsymmetric;
    else if (ct == "tf_half_pixel_for_nn") p.coord = CoordTransform::kTfHalfPixelForNN;
    else if (ct == "tf_crop_and_resize") bad("coordinate_transformation_mode 'tf_crop_and_resize'");
    else invalid("unknown coordinate_transformation_mode '" + ct + "'");
    const std::string nm = a.get_string("nearest_mode", "round_prefer_floor");
    if (nm == "round_prefer_floor") p.rounding = NearestRounding::kRoundPreferFloor;
    else if (nm == "round_prefer_ceil") p.rounding = NearestRounding::kRoundPreferCeil;
    else if (nm == "floor") p.rounding = NearestRounding::kFloor;
    else if (nm == "ceil") p.rounding = NearestRounding::kCeil;
    else invalid("unknown nearest_mode '" + nm + "'");
    if (a.get_int("antialias", 0) != 0) bad("antialias=1");
  }
  const size_t rank = in.size();
  std::vector<int64_t> axes = a.get_ints("axes");
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back(int64_t(i));
  for (int64_t& ax : axes) {
    if (ax < -int64_t(rank) || ax >= int64_t(rank)) invalid("axis " + std::to_string(ax) + " is out of range");
    if (ax < 0) ax += int64_t(rank);
  }
  // sizes could give an empty input axis a nonempty output, which would be read from nothing
  for (size_t ax = 0; ax < rank; ++ax)
    if (in[ax] < 1) invalid("axis " + std::to_string(ax) + " of the input is empty: there is nothing to resize");
  p.scales.assign(rank, 1.f);
  p.out = in;
  if (scales && !scales->empty()) {
    if (sizes && !sizes->empty()) invalid("only one of scales and sizes may be given");
    if (scales->size() != axes.size())
      invalid("scales has " + std::to_string(scales->size()) + " values for " + std::to_string(axes.size()) + " axes");
    p.scales_given = true;
    for (size_t i = 0; i < axes.size(); ++i) {
      const float s = (*scales)[i];
      if (!(s > 0.f)) invalid("scales must be positive");
      const size_t ax = size_t(axes[i]);
      p.scales[ax] = s;
      const float extent = std::floor(float(in[ax]) * s);
      // checked as a float: converting one beyond int64's range is undefined
      if (!(extent <= kMaxResizeExtent)) invalid("scales give axis " + std::to_string(ax) + " an extent beyond 2^40");
      p.out[ax] = int64_t(extent);
    }
  } else if (sizes && !sizes->empty()) {
    if (sizes->size() != axes.size())
      invalid("sizes has " + std::to_string(sizes->size()) + " values for " + std::to_string(axes.size()) + " axes");
    const std::string policy = a.get_string("keep_aspect_ratio_policy", "stretch");
    if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
      invalid("unknown keep_aspect_ratio_policy '" + policy + "'");
    float common = policy == "not_larger" ? 1e30f : 0.f;
    for (size_t i = 0; i < axes.size(); ++i) {
      const float s = float((*sizes)[i]) / float(in[size_t(axes[i])]);
      common = policy == "not_larger" ? std::min(common, s) : std::max(common, s);
    }
    for (size_t i = 0; i < axes.size(); ++i) {
      const size_t ax = size_t(axes[i]);
      if (policy == "stretch") {
        p.out[ax] = (*sizes)[i];
        p.scales[ax] = float(p.out[ax]) / float(in[ax]);
      } else {
        const float extent = std::round(float(in[ax]) * common);
        if (!(extent <= kMaxResizeExtent)) invalid("sizes give axis " + std::to_string(ax) + " an extent beyond 2^40");
        p.out[ax] = int64_t(extent);
        p.scales[ax] = common;
      }
    }
  } else {
    invalid("one of scales and sizes is required");
  }
  for (int64_t d : p.out)
    if (d < 1) invalid("the output shape has an empty axis");
  return p;
}

// Resize/Upsample parameters of `node` from its constant scales/sizes inputs (or Upsample's attribute), for the
// input shape in `g`; fails naming the node when scales/sizes are not constant.
inline ResizeParams resize_params_of(const Node& node, const Graph& g) {
  const Shape& in = g.value(node.inputs.at(0)).shape;
  auto constant = [&](size_t i) -> TensorPtr {
    if (i >= node.inputs.size() || node.inputs[i] < 0) return nullptr;
    const Value& v = g.value(node.inputs[i]);
    if (!v.constant) fail(ErrorKind::kUnsupported, node.describe(), ": input ", i, " must be a constant");
    return v.constant;
  };
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  const bool upsample = node.op == "Upsample";
  const size_t scales_idx = upsample || g.opset < 11 ? 1 : 2;
  if (TensorPtr t = constant(scales_idx)) scales = t->as_float();
  else if (upsample) scales = node.attrs.get_floats("scales");
  if (!upsample && g.opset >= 11)
    if (TensorPtr t = constant(3)) sizes = t->as_int64();
  return resolve_resize(node, g.opset, in, &scales, &sizes);
}

// Shared by the cpu reference and the GPU tables, so both backends map coordinates identically.
// Maps an output coordinate to the input's coordinate system.
inline float source_coord(CoordTransform ct, int64_t x, float scale, int64_t in, int64_t out) {
  const float xf = float(x);
  switch (ct) {
    case CoordTransform::kHalfPixel: return (xf + 0.5f) / scale - 0.5f;
    case CoordTransform::kHalfPixelSymmetric: {
      const float adjustment = float(out) / (scale * float(in));
      const float center = float(in) / 2.f;
      return center * (1.f - adjustment) + (xf + 0.5f) / scale - 0.5f;
    }
    case CoordTransform::kPytorchHalfPixel: return out > 1 ? (xf + 0.5f) / scale - 0.5f : 0.f;
    case CoordTransform::kAlignCorners: return out == 1 ? 0.f : xf * float(in - 1) / float(out - 1);
    case CoordTransform::kAsymmetric: return xf / scale;
    case CoordTransform::kTfHalfPixelForNN: return (xf + 0.5f) / scale;
  }
  return xf / scale;
}

inline int64_t nearest_index(NearestRounding r, float x, float scale, int64_t in) {
  int64_t i;
  switch (r) {
    case NearestRounding::kRoundPreferFloor:
      i = x == float(int64_t(x)) + 0.5f ? int64_t(x) : int64_t(std::round(x));
      break;
    case NearestRounding::kRoundPreferCeil: i = int64_t(std::round(x)); break;
    case NearestRounding::kFloor: i = int64_t(std::floor(x)); break;
    case NearestRounding::kCeil: i = int64_t(std::ceil(x)); break;
    case NearestRounding::kSimple: i = scale < 1.f ? int64_t(std::ceil(x)) : int64_t(x); break;
    default: i = int64_t(x);
  }
  return std::min(std::max<int64_t>(i, 0), in - 1);
}

}  // namespace trtcore
