// Broadcasting elementwise ops: arithmetic (Add Sub Mul Div Pow), variadic (Sum Mean Min Max), comparisons
// (Equal Less Greater -> bool) and Where. Inputs broadcast numpy-style in every direction.
#include "ops/op_registry.h"

namespace trtcore {
namespace {

bool is_numeric(DType t) { return t != DType::kBool && t != DType::kUndefined; }

// All inputs share one numeric dtype (bool too where `allow_bool`); returns the broadcast shape.
Shape same_type_broadcast(ShapeContext& ctx, size_t first, size_t count, bool allow_bool) {
  const Value& a = ctx.in(first);
  if (!is_numeric(a.dtype) && !(allow_bool && a.dtype == DType::kBool))
    ctx.unsupported("input '", a.name, "' has element type ", dtype_name(a.dtype));
  Shape s = a.shape;
  for (size_t i = first + 1; i < first + count; ++i) {
    const Value& b = ctx.in(i);
    if (b.dtype != a.dtype)
      ctx.fail("inputs must share one element type: '", a.name, "' is ", dtype_name(a.dtype), ", '", b.name,
               "' is ", dtype_name(b.dtype));
    s = broadcast_shapes(ctx, s, b.shape);
  }
  return s;
}

void arithmetic(ShapeContext& ctx) {
  if (ctx.num_inputs() != 2) ctx.fail("expects 2 inputs, got ", ctx.num_inputs());
  ctx.set_out(0, ctx.in(0).dtype, same_type_broadcast(ctx, 0, 2, false));
}

void variadic(ShapeContext& ctx) {
  if (ctx.num_inputs() < 1) ctx.fail("expects at least one input");
  ctx.set_out(0, ctx.in(0).dtype, same_type_broadcast(ctx, 0, ctx.num_inputs(), false));
}

void comparison(ShapeContext& ctx, bool allow_bool) {
  if (ctx.num_inputs() != 2) ctx.fail("expects 2 inputs, got ", ctx.num_inputs());
  ctx.set_out(0, DType::kBool, same_type_broadcast(ctx, 0, 2, allow_bool));
}

}  // namespace

void infer_Add(ShapeContext& ctx) { arithmetic(ctx); }
void infer_Sub(ShapeContext& ctx) { arithmetic(ctx); }
void infer_Mul(ShapeContext& ctx) { arithmetic(ctx); }
void infer_Div(ShapeContext& ctx) { arithmetic(ctx); }

void infer_Pow(ShapeContext& ctx) {
  // The exponent may have its own numeric type (opset 12+); the result has the base's.
  const Value& x = ctx.in(0);
  const Value& y = ctx.in(1);
  if (!is_numeric(x.dtype)) ctx.unsupported("input '", x.name, "' has element type ", dtype_name(x.dtype));
  if (!is_numeric(y.dtype)) ctx.unsupported("exponent '", y.name, "' has element type ", dtype_name(y.dtype));
  ctx.set_out(0, x.dtype, broadcast_shapes(ctx, x.shape, y.shape));
}

void infer_Sum(ShapeContext& ctx) { variadic(ctx); }
void infer_Mean(ShapeContext& ctx) { variadic(ctx); }
void infer_Min(ShapeContext& ctx) { variadic(ctx); }
void infer_Max(ShapeContext& ctx) { variadic(ctx); }

void infer_Equal(ShapeContext& ctx) { comparison(ctx, true); }
void infer_Less(ShapeContext& ctx) { comparison(ctx, false); }
void infer_Greater(ShapeContext& ctx) { comparison(ctx, false); }

void infer_Where(ShapeContext& ctx) {
  const Value& c = ctx.in(0);
  if (c.dtype != DType::kBool) ctx.fail("condition '", c.name, "' must be bool, got ", dtype_name(c.dtype));
  const Value& x = ctx.in(1);
  const Value& y = ctx.in(2);
  if (x.dtype != y.dtype)
    ctx.fail("X '", x.name, "' is ", dtype_name(x.dtype), " but Y '", y.name, "' is ", dtype_name(y.dtype));
  Shape s = broadcast_shapes(ctx, c.shape, x.shape);
  ctx.set_out(0, x.dtype, broadcast_shapes(ctx, s, y.shape));
}

}  // namespace trtcore
