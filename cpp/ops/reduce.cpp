// ReduceMean, ReduceSum, ReduceMax over a set of axes (attribute or constant input depending on opset).
#include "ops/op_registry.h"
#include "ops/reduce_axes.h"

namespace trtcore {

static void infer_reduce(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const bool axes_as_input = ctx.opset() >= reduce_axes_input_opset(ctx.node().op);
  if (axes_as_input && ctx.node().attrs.has("axes")) ctx.fail("axes is an input from this opset, not an attribute");
  std::vector<int64_t> axes;
  const bool have_input = axes_as_input && ctx.has_input(1);
  if (have_input) axes = ctx.const_ints(1);
  if (!axes_as_input && ctx.node().attrs.get_int("noop_with_empty_axes", 0) != 0)
    ctx.fail("noop_with_empty_axes is not defined before opset ", reduce_axes_input_opset(ctx.node().op));
  const ReduceAxes r = resolve_reduce_axes(ctx.node(), x.shape.size(), have_input ? &axes : nullptr);
  ctx.set_out(0, x.dtype, reduced_shape(x.shape, r));
}

void infer_ReduceMean(ShapeContext& ctx) { infer_reduce(ctx); }
void infer_ReduceSum(ShapeContext& ctx) { infer_reduce(ctx); }
void infer_ReduceMax(ShapeContext& ctx) { infer_reduce(ctx); }

}  // namespace trtcore
