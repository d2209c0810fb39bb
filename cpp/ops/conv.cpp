// Conv: N-d convolution with groups, strides, dilations, pads/auto_pad; optional bias. The optimizer's fused form
// adds a residual input (index 3, shape of the output) and "activation" attributes.
#include "ops/op_registry.h"
#include "ops/window.h"

namespace trtcore {

void check_fused_activation(const ShapeContext& ctx) {
  try {
    (void)FusedActivation::from(ctx.node().attrs);
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

void infer_Conv(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const Value& w = ctx.in(1);
  const size_t rank = x.shape.size();
  if (rank < 3 || rank > 5) ctx.unsupported("input rank ", rank, " (", shape_str(x.shape), "): only 1-d, 2-d and 3-d convolutions");
  if (w.shape.size() != rank) ctx.fail("weight shape ", shape_str(w.shape), " does not match input rank ", rank);
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kFloat16) ctx.unsupported("dtype ", dtype_name(x.dtype));
  const int64_t group = ctx.node().attrs.get_int("group", 1);
  const int64_t c = x.shape[1], m = w.shape[0];
  if (group < 1 || c % group != 0 || m % group != 0 || w.shape[1] * group != c)
    ctx.fail("input channels ", c, ", weight ", shape_str(w.shape), " and group ", group, " do not agree");
  std::vector<int64_t> kernel = ctx.node().attrs.get_ints("kernel_shape", spatial_of(w.shape));
  if (kernel != spatial_of(w.shape)) ctx.fail("kernel_shape does not match the weight shape ", shape_str(w.shape));
  if (ctx.has_input(2) && ctx.in(2).shape != Shape{m}) ctx.fail("bias shape ", shape_str(ctx.in(2).shape), " is not ", m);
  const Window win = resolve_window(ctx.node(), kernel, spatial_of(x.shape), OutputRounding::kFloor, true);
  Shape out{x.shape[0], m};
  out.insert(out.end(), win.out.begin(), win.out.end());
  if (ctx.has_input(3) && ctx.in(3).shape != out)
    ctx.fail("residual input shape ", shape_str(ctx.in(3).shape), " differs from the output shape ", shape_str(out));
  check_fused_activation(ctx);
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
