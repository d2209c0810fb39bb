// MatMul with numpy semantics: batch axes broadcast, a 1-d operand gains (then loses) a unit axis.
#include "ops/op_registry.h"

namespace trtcore {

void infer_MatMul(ShapeContext& ctx) {
  Shape a = ctx.in(0).shape, b = ctx.in(1).shape;
  if (a.empty() || b.empty()) ctx.fail("operands must have rank >= 1, got ", shape_str(a), " and ", shape_str(b));
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  const int64_t m = a[a.size() - 2], k = a.back(), kb = b[b.size() - 2], n = b.back();
  if (k != kb) ctx.fail("inner dimensions differ: ", shape_str(ctx.in(0).shape), " x ", shape_str(ctx.in(1).shape));
  Shape out = broadcast_shapes(ctx, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  if (!a_vec) out.push_back(m);
  if (!b_vec) out.push_back(n);
  ctx.set_out(0, ctx.in(0).dtype, out);
}

}  // namespace trtcore
