// Gather: picks slices along `axis` by (possibly negative) indices; out = data[:axis] + indices + data[axis+1:].
#include "ops/op_registry.h"

namespace trtcore {

void infer_Gather(ShapeContext& ctx) {
  const Value& data = ctx.in(0);
  const Value& idx = ctx.in(1);
  if (idx.dtype != DType::kInt64 && idx.dtype != DType::kInt32)
    ctx.fail("indices '", idx.name, "' must be int32 or int64, got ", dtype_name(idx.dtype));
  const int64_t rank = int64_t(data.shape.size());
  if (rank == 0) ctx.fail("cannot gather from a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.node().attrs.get_int("axis", 0), rank);
  const int64_t dim = data.shape[size_t(axis)];
  // Constant indices are checked now so a bad model fails at build time rather than in a kernel.
  if (idx.is_constant())
    for (int64_t i : idx.constant->as_int64())
      if (i < -dim || i >= dim) ctx.fail("index ", i, " is out of range for axis ", axis, " of size ", dim);
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  ctx.set_out(0, data.dtype, out);
}

}  // namespace trtcore
