// QuantizeLinear / DequantizeLinear: float <-> int8/uint8 (and int32 for dequantized biases) with a per-tensor or
// per-axis scale and zero point. Rounding is half to even and saturating, as the ONNX spec defines it.
#include "ops/op_registry.h"
#include "ops/quant_params.h"

namespace trtcore {
namespace {

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

// Checks scale (input 1) and zero point (input 2, optional) against the data (input 0); returns the zero point's
// dtype, or kUndefined when absent.
DType check_scale_and_zero_point(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const Value& scale = ctx.in(1);
  if (!is_float(scale.dtype)) ctx.fail("scale '", scale.name, "' must be float32 or float16, not ", dtype_name(scale.dtype));
  (void)resolve_quant_axis(x.shape, scale.shape, ctx.node().attrs.get_int("axis", 1), ctx.node().describe());
  if (ctx.node().attrs.get_int("block_size", 0) != 0) ctx.unsupported("blocked quantization (block_size)");
  if (!ctx.has_input(2)) return DType::kUndefined;
  const Value& zp = ctx.in(2);
  if (zp.shape != scale.shape && !(numel(zp.shape) == 1 && numel(scale.shape) == 1))
    ctx.fail("zero point shape ", shape_str(zp.shape), " differs from the scale shape ", shape_str(scale.shape));
  return zp.dtype;
}

}  // namespace

void infer_QuantizeLinear(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (!is_float(x.dtype)) ctx.fail("input '", x.name, "' must be float32 or float16, not ", dtype_name(x.dtype));
  DType out = check_scale_and_zero_point(ctx);
  if (out == DType::kUndefined) {
    // Without a zero point the output type is uint8, unless opset 21's output_dtype says otherwise.
    out = DType(int32_t(ctx.node().attrs.get_int("output_dtype", int64_t(DType::kUInt8))));
    if (out == DType::kUndefined) out = DType::kUInt8;
  }
  if (out != DType::kInt8 && out != DType::kUInt8)
    ctx.unsupported("quantizing to ", dtype_name(out), "; only int8 and uint8 are supported");
  ctx.set_out(0, out, x.shape);
}

void infer_DequantizeLinear(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (x.dtype != DType::kInt8 && x.dtype != DType::kUInt8 && x.dtype != DType::kInt32)
    ctx.unsupported("dequantizing ", dtype_name(x.dtype), "; only int8, uint8 and int32 are supported");
  const DType zp = check_scale_and_zero_point(ctx);
  if (zp != DType::kUndefined && zp != x.dtype)
    ctx.fail("zero point type ", dtype_name(zp), " differs from the input type ", dtype_name(x.dtype));
  // opset 23's output_dtype: the product is computed in float32 and rounded once to the output type
  const DType out = DType(int32_t(ctx.node().attrs.get_int("output_dtype", int64_t(ctx.in(1).dtype))));
  if (!is_float(out)) ctx.unsupported("dequantizing to ", dtype_name(out), "; only float32 and float16 are supported");
  ctx.set_out(0, out, x.shape);
}

}  // namespace trtcore
