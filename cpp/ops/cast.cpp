// Cast: same shape, element type from the 'to' attribute (ONNX TensorProto codes).
#include "ops/op_registry.h"

namespace trtcore {

void infer_Cast(ShapeContext& ctx) {
  if (!ctx.node().attrs.has("to")) ctx.fail("attribute 'to' is required");
  const int64_t to = ctx.node().attrs.get_int("to", 0);
  if (!dtype_is_known(int32_t(to))) ctx.unsupported("cannot cast to element type code ", to);
  const Value& x = ctx.in(0);
  if (x.dtype == DType::kUndefined) ctx.fail("input '", x.name, "' has no element type");
  ctx.set_out(0, DType(to), x.shape);
}

}  // namespace trtcore
