// Ops that only reinterpret the shape (the bytes stay in C order): Flatten, Reshape, Squeeze, Unsqueeze.
#include <algorithm>

#include "ops/op_registry.h"

namespace trtcore {

void infer_Flatten(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const int64_t rank = int64_t(x.shape.size());
  int64_t axis = ctx.node().attrs.get_int("axis", 1);
  // Flatten allows axis == rank (everything in the first output dim).
  if (axis < -rank || axis > rank) ctx.fail("axis ", axis, " is out of range for rank ", rank);
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= x.shape[size_t(i)];
  ctx.set_out(0, x.dtype, {outer, inner});
}

void infer_Reshape(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  std::vector<int64_t> target;
  if (ctx.has_input(1)) {
    target = ctx.const_ints(1);
  } else if (ctx.opset() < 5 && ctx.node().attrs.has("shape")) {
    target = ctx.node().attrs.get_ints("shape");
  } else {
    ctx.fail("the target shape input is missing");
  }
  const bool allow_zero = ctx.node().attrs.get_int("allowzero", 0) != 0;
  Shape out;
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == -1) {
      if (infer_at >= 0) ctx.fail("target shape has more than one -1");
      infer_at = int64_t(i);
      out.push_back(1);
      continue;
    }
    if (d == 0 && !allow_zero) {
      // 0 copies the input's dim at the same position.
      if (i >= x.shape.size())
        ctx.fail("target dim ", i, " is 0 (copy) but the input has rank ", x.shape.size());
      d = x.shape[i];
    } else if (d < 0) {
      ctx.fail("target shape has a negative dim ", d);
    }
    out.push_back(d);
    if (__builtin_mul_overflow(known, d, &known)) ctx.fail("target shape has more than 2^63 elements");
  }
  const int64_t total = numel(x.shape);
  if (infer_at >= 0) {
    if (allow_zero && std::count(target.begin(), target.end(), 0) > 0) ctx.fail("allowzero forbids mixing 0 and -1");
    if (known == 0 || total % known != 0)
      ctx.fail("cannot reshape ", shape_str(x.shape), " (", total, " elements) with -1 at dim ", infer_at,
               ": the other dims hold ", known, " elements");
    out[size_t(infer_at)] = total / known;
  }
  if (numel(out) != total)
    ctx.fail("cannot reshape ", shape_str(x.shape), " (", total, " elements) to ", shape_str(out), " (", numel(out),
             " elements)");
  ctx.set_out(0, x.dtype, out);
}

namespace {

std::vector<int64_t> axes_of(ShapeContext& ctx, bool required) {
  if (ctx.opset() < 13) {
    if (required && !ctx.node().attrs.has("axes")) ctx.fail("attribute 'axes' is required");
    return ctx.node().attrs.get_ints("axes");
  }
  if (ctx.has_input(1)) return ctx.const_ints(1);
  if (required) ctx.fail("input 'axes' is required");
  return {};
}

}  // namespace

void infer_Squeeze(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const int64_t rank = int64_t(x.shape.size());
  std::vector<int64_t> axes = axes_of(ctx, false);
  std::vector<bool> drop(size_t(rank), false);
  // normalize_axis lets axis 0 through for a scalar (Reduce ops use that); a scalar has no axis to squeeze
  if (rank == 0 && !axes.empty()) ctx.fail("cannot squeeze axis ", axes[0], " of a scalar");
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) drop[size_t(i)] = x.shape[size_t(i)] == 1;
  }
  for (int64_t a : axes) {
    const int64_t ax = normalize_axis(ctx, a, rank);
    if (x.shape[size_t(ax)] != 1) ctx.fail("cannot squeeze axis ", a, " of size ", x.shape[size_t(ax)]);
    drop[size_t(ax)] = true;
  }
  Shape out;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[size_t(i)]) out.push_back(x.shape[size_t(i)]);
  ctx.set_out(0, x.dtype, out);
}

void infer_Unsqueeze(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const std::vector<int64_t> axes = axes_of(ctx, true);
  const int64_t out_rank = int64_t(x.shape.size() + axes.size());
  std::vector<bool> inserted(size_t(out_rank), false);
  for (int64_t a : axes) {
    if (a < -out_rank || a >= out_rank) ctx.fail("axis ", a, " is out of range for output rank ", out_rank);
    const int64_t ax = a < 0 ? a + out_rank : a;
    if (inserted[size_t(ax)]) ctx.fail("axis ", a, " is given twice");
    inserted[size_t(ax)] = true;
  }
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < out_rank; ++i) out.push_back(inserted[size_t(i)] ? 1 : x.shape[next++]);
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
