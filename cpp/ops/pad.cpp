// Pad: pads attribute before opset 11, then inputs (pads, optional constant_value, optional axes from opset 18);
// modes constant, reflect, edge and wrap. Negative pads crop.
#include "ops/op_params.h"
#include "ops/op_registry.h"

namespace trtcore {

void infer_Pad(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const int64_t rank = int64_t(x.shape.size());
  const std::string who = ctx.node().describe();
  const PadMode mode = pad_mode_from(ctx.node().attrs.get_string("mode", "constant"), who);
  std::vector<int64_t> pads;
  std::vector<int64_t> axes;
  if (ctx.opset() < 11) {
    if (!ctx.node().attrs.has("pads")) ctx.fail("attribute 'pads' is required");
    pads = ctx.node().attrs.get_ints("pads");
  } else {
    pads = ctx.const_ints(1);
    if (ctx.has_input(2)) {
      const Value& cv = ctx.in(2);
      if (cv.dtype != x.dtype)
        ctx.fail("constant_value '", cv.name, "' is ", dtype_name(cv.dtype), " but the input is ", dtype_name(x.dtype));
      if (numel(cv.shape) != 1) ctx.fail("constant_value must hold one element, got shape ", shape_str(cv.shape));
    }
    if (ctx.has_input(3)) axes = ctx.const_ints(3);
  }
  pads = expand_pads(pads, axes, rank, who);
  Shape out(x.shape);
  for (int64_t a = 0; a < rank; ++a) {
    const int64_t d = x.shape[size_t(a)];
    const int64_t before = pads[size_t(a)], after = pads[size_t(a + rank)];
    if (__builtin_add_overflow(d, before, &out[size_t(a)]) ||
        __builtin_add_overflow(out[size_t(a)], after, &out[size_t(a)]))
      ctx.fail("pads ", before, " and ", after, " overflow axis ", a, " of size ", d);
    if (out[size_t(a)] < 0) ctx.fail("pads crop axis ", a, " of size ", d, " below zero");
    if (mode != PadMode::kConstant && d == 0 && (before > 0 || after > 0))
      ctx.fail("cannot pad the empty axis ", a, " in a non-constant mode");
  }
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
