// Constant (from value / value_float(s) / value_int(s)) and ConstantOfShape (fills a constant shape).
#include "ops/op_params.h"
#include "ops/op_registry.h"

namespace trtcore {

void infer_Constant(ShapeContext& ctx) {
  const Tensor t = constant_attr_value(ctx.node());
  ctx.set_out(0, t.dtype, t.shape);
}

void infer_ConstantOfShape(ShapeContext& ctx) {
  const std::vector<int64_t> shape = ctx.const_ints(0);
  for (int64_t d : shape)
    if (d < 0) ctx.fail("shape has a negative dim ", d);
  DType t = DType::kFloat32;
  if (TensorPtr v = ctx.node().attrs.get_tensor("value")) {
    if (v->numel() != 1) ctx.fail("attribute 'value' must hold one element, got shape ", shape_str(v->shape));
    t = v->dtype;
  }
  ctx.set_out(0, t, shape);
}

}  // namespace trtcore
