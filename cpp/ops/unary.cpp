// Elementwise unary ops (activations and math): output = input's dtype and shape; attributes validated here.
#include <cmath>

#include "ops/op_registry.h"

namespace trtcore {
namespace {

enum class Accepts { kFloat, kFloatOrInt, kBool };

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16 || t == DType::kFloat64; }
bool is_int(DType t) { return t == DType::kInt32 || t == DType::kInt64 || t == DType::kInt8 || t == DType::kUInt8; }

void same_as_input(ShapeContext& ctx, Accepts accepts) {
  const Value& x = ctx.in(0);
  const bool ok = accepts == Accepts::kBool ? x.dtype == DType::kBool
                  : accepts == Accepts::kFloat ? is_float(x.dtype)
                                               : is_float(x.dtype) || is_int(x.dtype);
  if (!ok) ctx.unsupported("input '", x.name, "' has element type ", dtype_name(x.dtype));
  ctx.set_out(0, x.dtype, x.shape);
}

}  // namespace

void infer_Relu(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloatOrInt); }
void infer_LeakyRelu(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Sigmoid(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_HardSwish(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Tanh(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Exp(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Log(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Sqrt(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Neg(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloatOrInt); }
void infer_Abs(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloatOrInt); }
void infer_Floor(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Ceil(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Reciprocal(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Erf(ShapeContext& ctx) { same_as_input(ctx, Accepts::kFloat); }
void infer_Not(ShapeContext& ctx) { same_as_input(ctx, Accepts::kBool); }

void infer_HardSigmoid(ShapeContext& ctx) {
  const float alpha = ctx.node().attrs.get_float("alpha", 0.2f), beta = ctx.node().attrs.get_float("beta", 0.5f);
  if (!std::isfinite(alpha) || !std::isfinite(beta)) ctx.fail("alpha and beta must be finite");
  same_as_input(ctx, Accepts::kFloat);
}

void infer_Clip(ShapeContext& ctx) {
  same_as_input(ctx, Accepts::kFloatOrInt);
  if (ctx.opset() < 11) {
    if (ctx.num_inputs() > 1) ctx.fail("before opset 11 min and max are attributes, not inputs");
    const float lo = ctx.node().attrs.get_float("min", -3.4028234e38f);
    const float hi = ctx.node().attrs.get_float("max", 3.4028234e38f);
    if (std::isnan(lo) || std::isnan(hi)) ctx.fail("min and max must not be NaN");
    return;
  }
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const Value& b = ctx.in(i);
    if (b.dtype != ctx.in(0).dtype)
      ctx.fail("bound '", b.name, "' is ", dtype_name(b.dtype), " but the input is ", dtype_name(ctx.in(0).dtype));
    if (numel(b.shape) != 1) ctx.fail("bound '", b.name, "' must be a scalar, got shape ", shape_str(b.shape));
  }
}

void infer_PRelu(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const Value& slope = ctx.in(1);
  if (!is_float(x.dtype) && !is_int(x.dtype))
    ctx.unsupported("input '", x.name, "' has element type ", dtype_name(x.dtype));
  if (slope.dtype != x.dtype)
    ctx.fail("slope '", slope.name, "' is ", dtype_name(slope.dtype), " but X is ", dtype_name(x.dtype));
  // The slope broadcasts one way, to X's shape.
  if (broadcast_shapes(ctx, x.shape, slope.shape) != x.shape)
    ctx.fail("slope shape ", shape_str(slope.shape), " does not broadcast to X's shape ", shape_str(x.shape));
  ctx.set_out(0, x.dtype, x.shape);
}

}  // namespace trtcore
