// Slice: starts/ends/axes attributes before opset 10, then inputs with optional axes and steps; clamped per spec.
#include "ops/op_params.h"
#include "ops/op_registry.h"

namespace trtcore {

void infer_Slice(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  SliceSpec spec;
  if (ctx.opset() < 10) {
    const Attrs& a = ctx.node().attrs;
    if (!a.has("starts") || !a.has("ends")) ctx.fail("attributes 'starts' and 'ends' are required");
    spec.starts = a.get_ints("starts");
    spec.ends = a.get_ints("ends");
    spec.axes = a.get_ints("axes");
  } else {
    spec.starts = ctx.const_ints(1);
    spec.ends = ctx.const_ints(2);
    if (ctx.has_input(3)) spec.axes = ctx.const_ints(3);
    if (ctx.has_input(4)) spec.steps = ctx.const_ints(4);
  }
  const std::vector<SliceAxis> axes = resolve_slice(x.shape, spec, ctx.node().describe());
  Shape out;
  for (const SliceAxis& a : axes) out.push_back(a.len);
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
