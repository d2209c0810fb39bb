// Softmax and LogSoftmax. Before opset 13 the input is viewed as 2-d [prod(dims < axis), prod(dims >= axis)]
// (axis defaults to 1); from opset 13 the op runs along one axis (default -1).
#include "ops/op_registry.h"

namespace trtcore {

static void infer_softmax(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const int64_t rank = int64_t(x.shape.size());
  const int64_t def = ctx.opset() < 13 ? 1 : -1;
  normalize_axis(ctx, ctx.node().attrs.get_int("axis", def), rank);
  ctx.set_out(0, x.dtype, x.shape);
}

void infer_Softmax(ShapeContext& ctx) { infer_softmax(ctx); }
void infer_LogSoftmax(ShapeContext& ctx) { infer_softmax(ctx); }

}  // namespace trtcore
