// DepthToSpace: NCHW, moves blocks of channels into blocksize x blocksize spatial tiles (DCR or CRD order).
#include "ops/op_registry.h"

namespace trtcore {

void infer_DepthToSpace(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (x.shape.size() != 4) ctx.fail("expects a 4-D NCHW input, got shape ", shape_str(x.shape));
  if (!ctx.node().attrs.has("blocksize")) ctx.fail("attribute 'blocksize' is required");
  const int64_t b = ctx.node().attrs.get_int("blocksize", 1);
  if (b < 1) ctx.fail("blocksize must be positive, got ", b);
  const std::string mode = ctx.node().attrs.get_string("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") ctx.fail("mode must be DCR or CRD, got '", mode, "'");
  int64_t b2 = 0, h = 0, w = 0;
  if (__builtin_mul_overflow(b, b, &b2) || __builtin_mul_overflow(x.shape[2], b, &h) ||
      __builtin_mul_overflow(x.shape[3], b, &w))
    ctx.fail("blocksize ", b, " makes the output extents overflow");
  if (x.shape[1] % b2 != 0) ctx.fail("channels ", x.shape[1], " are not divisible by blocksize^2 = ", b2);
  ctx.set_out(0, x.dtype, {x.shape[0], x.shape[1] / b2, h, w});
}

}  // namespace trtcore
