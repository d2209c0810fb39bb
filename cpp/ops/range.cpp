// Range: start, limit, delta scalars (constant at build time); length max(ceil((limit - start) / delta), 0).
#include <cmath>

#include "ops/op_registry.h"

namespace trtcore {

void infer_Range(ShapeContext& ctx) {
  const DType t = ctx.in(0).dtype;
  for (size_t i = 0; i < 3; ++i) {
    const Value& v = ctx.in(i);
    if (v.dtype != t) ctx.fail("start, limit and delta must share one type; '", v.name, "' is ", dtype_name(v.dtype));
    if (numel(v.shape) != 1) ctx.fail("input '", v.name, "' must be a scalar, got shape ", shape_str(v.shape));
    if (!v.is_constant()) ctx.unsupported("input '", v.name, "' must be a constant known at build time");
  }
  int64_t n = 0;
  if (t == DType::kInt64 || t == DType::kInt32) {
    const int64_t start = ctx.const_ints(0)[0], limit = ctx.const_ints(1)[0], delta = ctx.const_ints(2)[0];
    if (delta == 0) ctx.fail("delta must be nonzero");
    const int64_t span = limit - start;
    // Integer ceil division that rounds toward +inf for either sign of delta.
    n = span / delta + ((span % delta != 0 && ((span > 0) == (delta > 0))) ? 1 : 0);
  } else if (t == DType::kFloat32 || t == DType::kFloat64) {
    const double start = ctx.in(0).constant->as_float()[0], limit = ctx.in(1).constant->as_float()[0];
    const double delta = ctx.in(2).constant->as_float()[0];
    if (delta == 0) ctx.fail("delta must be nonzero");
    // The span is taken in the input's own precision (as onnxruntime does), the division in double.
    const double span = t == DType::kFloat32 ? double(float(limit) - float(start)) : limit - start;
    const double count = std::ceil(span / delta);
    // checked as a double: converting one beyond int64's range (or NaN) is undefined
    if (!(count < 9.2e18)) ctx.fail("the element count ", count, " is out of range");
    n = count > 0 ? int64_t(count) : 0;
  } else {
    ctx.unsupported("element type ", dtype_name(t));
  }
  ctx.set_out(0, t, {n > 0 ? n : 0});
}

}  // namespace trtcore
