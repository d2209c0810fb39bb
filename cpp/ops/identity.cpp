// Identity and Dropout (inference mode): output = input. The optimizer removes both; they stay runnable.
#include "ops/op_registry.h"

namespace trtcore {

void infer_Identity(ShapeContext& ctx) { ctx.set_out(0, ctx.in(0).dtype, ctx.in(0).shape); }

void infer_Dropout(ShapeContext& ctx) {
  ctx.set_out(0, ctx.in(0).dtype, ctx.in(0).shape);
  if (ctx.num_outputs() > 1 && ctx.node().outputs[1] >= 0) ctx.set_out(1, DType::kBool, ctx.in(0).shape);
}

}  // namespace trtcore
