// Gemm: Y = alpha * op(A) * op(B) + beta * C with C broadcast to [M, N]; may carry fused "activation" attributes.
#include "ops/op_registry.h"

namespace trtcore {

void check_fused_activation(const ShapeContext& ctx);

void infer_Gemm(ShapeContext& ctx) {
  const Value& a = ctx.in(0);
  const Value& b = ctx.in(1);
  if (a.shape.size() != 2 || b.shape.size() != 2)
    ctx.fail("A and B must be 2-d, got ", shape_str(a.shape), " and ", shape_str(b.shape));
  const bool ta = ctx.node().attrs.get_int("transA", 0) != 0, tb = ctx.node().attrs.get_int("transB", 0) != 0;
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  if (k != kb) ctx.fail("inner dimensions differ: op(A) is ", m, "x", k, ", op(B) is ", kb, "x", n);
  if (ctx.has_input(2)) {
    const Shape& c = ctx.in(2).shape;
    if (c.size() > 2 || broadcast_shapes(ctx, c, Shape{m, n}) != Shape{m, n})
      ctx.fail("C of shape ", shape_str(c), " does not broadcast to ", m, "x", n);
  }
  check_fused_activation(ctx);
  ctx.set_out(0, a.dtype, Shape{m, n});
}

}  // namespace trtcore
