// QConv (internal): a 2-d convolution lowered from DequantizeLinear -> Conv [-> QuantizeLinear], in QLinearConv's
// input order plus a residual: 0 x (int8/uint8), 1 x_scale, 2 x_zero_point (optional), 3 w (int8, constant),
// 4 w_scale (scalar or per output channel), 5 w_zero_point (optional, all zero), 6 y_scale and 7 y_zero_point
// (optional, both or neither: present = quantized output of y_zero_point's type, absent = float output, float32
// unless the string attribute float_out is "float16", which lower_qconv sets where the Conv computed float16),
// 8 bias (float32, optional), 9 residual (output shape, optional): float, or int8/uint8 with 10 its scale and 11 its
// zero point (optional), added as (r - r_zero_point) * r_scale, which lets a residual stay quantized as ResNet's
// skip connections are. Conv's and the fused-activation attributes apply as for Conv.
#include "ops/op_registry.h"
#include "ops/window.h"

namespace trtcore {

void check_fused_activation(const ShapeContext& ctx);  // ops/conv.cpp

void infer_QConv(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const Value& w = ctx.in(3);
  const size_t rank = x.shape.size();
  if (rank != 4) ctx.unsupported("input rank ", rank, ": only 2-d quantized convolutions");
  if ((x.dtype != DType::kInt8 && x.dtype != DType::kUInt8) || w.dtype != DType::kInt8)
    ctx.fail("data must be int8/uint8 and weights int8, got ", dtype_name(x.dtype), " and ", dtype_name(w.dtype));
  if (w.shape.size() != rank) ctx.fail("weight shape ", shape_str(w.shape), " does not match input rank ", rank);
  const int64_t group = ctx.node().attrs.get_int("group", 1);
  const int64_t c = x.shape[1], m = w.shape[0];
  if (group < 1 || c % group != 0 || m % group != 0 || w.shape[1] * group != c)
    ctx.fail("input channels ", c, ", weight ", shape_str(w.shape), " and group ", group, " do not agree");
  if (numel(ctx.in(1).shape) != 1) ctx.fail("data scale must be a scalar");
  const int64_t ws = numel(ctx.in(4).shape);
  if (ws != 1 && ws != m) ctx.fail(ws, " weight scales for ", m, " output channels");
  if (ctx.has_input(6) != ctx.has_input(7)) ctx.fail("output scale and zero point come together");
  if (ctx.has_input(6) && numel(ctx.in(6).shape) != 1) ctx.fail("output scale must be a scalar");
  if (ctx.has_input(8) && numel(ctx.in(8).shape) != m) ctx.fail("bias shape ", shape_str(ctx.in(8).shape), " is not ", m);
  const Window win = resolve_window(ctx.node(), spatial_of(w.shape), spatial_of(x.shape), OutputRounding::kFloor, true);
  Shape out{x.shape[0], m};
  out.insert(out.end(), win.out.begin(), win.out.end());
  if (ctx.has_input(9) && ctx.in(9).shape != out)
    ctx.fail("residual input shape ", shape_str(ctx.in(9).shape), " differs from the output shape ", shape_str(out));
  const bool int8_residual =
      ctx.has_input(9) && (ctx.in(9).dtype == DType::kInt8 || ctx.in(9).dtype == DType::kUInt8);
  if (int8_residual != ctx.has_input(10))
    ctx.fail(int8_residual ? "an 8-bit residual needs its scale (input 10)" : "a residual scale without an 8-bit residual");
  if (ctx.has_input(10) && numel(ctx.in(10).shape) != 1) ctx.fail("residual scale must be a scalar");
  if (ctx.has_input(11) && (!int8_residual || ctx.in(11).dtype != ctx.in(9).dtype || numel(ctx.in(11).shape) != 1))
    ctx.fail("residual zero point must be a scalar of the residual's type");
  check_fused_activation(ctx);
  const std::string float_out = ctx.node().attrs.get_string("float_out", "float32");
  if (float_out != "float32" && float_out != "float16")
    ctx.fail("float_out '", float_out, "': expected float32 or float16");
  const DType y = float_out == "float16" ? DType::kFloat16 : DType::kFloat32;
  ctx.set_out(0, ctx.has_input(7) ? ctx.in(7).dtype : y, out);
}

}  // namespace trtcore
