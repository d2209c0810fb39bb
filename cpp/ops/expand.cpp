// Expand (bidirectional broadcast to a constant shape) and Tile (repeats per axis).
#include "ops/op_registry.h"

namespace trtcore {

void infer_Expand(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const std::vector<int64_t> target = ctx.const_ints(1);
  for (int64_t d : target)
    if (d < 0) ctx.fail("shape has a negative dim ", d);
  ctx.set_out(0, x.dtype, broadcast_shapes(ctx, x.shape, target));
}

void infer_Tile(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const std::vector<int64_t> repeats = ctx.const_ints(1);
  if (repeats.size() != x.shape.size())
    ctx.fail("repeats has ", repeats.size(), " entries for an input of rank ", x.shape.size());
  Shape out(x.shape);
  for (size_t i = 0; i < repeats.size(); ++i) {
    if (repeats[i] < 0) ctx.fail("repeats must be nonnegative, got ", repeats[i]);
    if (__builtin_mul_overflow(out[i], repeats[i], &out[i]))
      ctx.fail("repeats ", repeats[i], " overflow axis ", i, " of size ", x.shape[i]);
  }
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
