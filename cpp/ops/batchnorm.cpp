// BatchNormalization in inference mode: y = scale * (x - mean) / sqrt(var + epsilon) + B, per channel (axis 1).
#include "ops/op_registry.h"

namespace trtcore {

void infer_BatchNormalization(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (x.shape.size() < 2) ctx.fail("input rank ", x.shape.size(), " is below 2");
  if (ctx.node().attrs.get_int("training_mode", 0) != 0) ctx.unsupported("training_mode=1 (inference only)");
  if (ctx.opset() < 9 && ctx.node().attrs.get_int("spatial", 1) == 0)
    ctx.unsupported("spatial=0 (per-activation statistics)");
  for (size_t i = 1; i < ctx.num_outputs(); ++i)
    if (ctx.node().outputs[i] >= 0) ctx.unsupported("training outputs (running mean/var, saved statistics)");
  for (size_t i = 1; i <= 4; ++i)
    if (ctx.in(i).shape != Shape{x.shape[1]})
      ctx.fail("input ", i, " has shape ", shape_str(ctx.in(i).shape), ", expected ", x.shape[1], " (channels)");
  ctx.set_out(0, x.dtype, x.shape);
}

}  // namespace trtcore
