// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (7: scales attribute; 9: scales input).
#include "ops/op_registry.h"
#include "ops/resize_params.h"

namespace trtcore {

static std::vector<float> const_floats(const ShapeContext& ctx, size_t i) {
  const Value& v = ctx.in(i);
  if (!v.is_constant()) ctx.unsupported("input ", i, " ('", v.name, "') must be a constant known at build time");
  return v.constant->as_float();
}

void infer_Resize(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  const size_t scales_idx = ctx.opset() < 11 ? 1 : 2;
  if (ctx.has_input(scales_idx)) scales = const_floats(ctx, scales_idx);
  if (ctx.opset() >= 11 && ctx.has_input(3)) sizes = ctx.const_ints(3);
  const ResizeParams p = resolve_resize(ctx.node(), ctx.opset(), x.shape, &scales, &sizes);
  ctx.set_out(0, x.dtype, p.out);
}

void infer_Upsample(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  std::vector<float> scales =
      ctx.has_input(1) ? const_floats(ctx, 1) : ctx.node().attrs.get_floats("scales");
  if (scales.size() != x.shape.size()) ctx.fail("scales needs one value per input axis (", x.shape.size(), ")");
  const ResizeParams p = resolve_resize(ctx.node(), ctx.opset(), x.shape, &scales, nullptr);
  ctx.set_out(0, x.dtype, p.out);
}

}  // namespace trtcore
