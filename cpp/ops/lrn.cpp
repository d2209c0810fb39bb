// LRN: local response normalization across channels, y = x / (bias + alpha / size * sum(x^2 over the window))^beta.
#include "ops/op_registry.h"

namespace trtcore {

void infer_LRN(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (x.shape.size() < 3) ctx.fail("input rank ", x.shape.size(), " is below 3 (N, C, spatial...)");
  if (!ctx.node().attrs.has("size")) ctx.fail("attribute size is required");
  if (ctx.node().attrs.get_int("size", 1) < 1) ctx.fail("size must be >= 1");
  ctx.set_out(0, x.dtype, x.shape);
}

}  // namespace trtcore
