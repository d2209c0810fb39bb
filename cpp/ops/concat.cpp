// Concat and Split along one axis.
#include "ops/op_registry.h"

namespace trtcore {

void infer_Concat(ShapeContext& ctx) {
  if (ctx.num_inputs() < 1) ctx.fail("expects at least one input");
  if (!ctx.node().attrs.has("axis")) ctx.fail("attribute 'axis' is required");
  const Value& first = ctx.in(0);
  const int64_t rank = int64_t(first.shape.size());
  if (rank == 0) ctx.fail("cannot concatenate scalars");
  const int64_t axis = normalize_axis(ctx, ctx.node().attrs.get_int("axis", 0), rank);
  Shape out = first.shape;
  out[size_t(axis)] = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Value& v = ctx.in(i);
    if (v.dtype != first.dtype)
      ctx.fail("input '", v.name, "' is ", dtype_name(v.dtype), " but '", first.name, "' is ", dtype_name(first.dtype));
    if (int64_t(v.shape.size()) != rank)
      ctx.fail("input '", v.name, "' has rank ", v.shape.size(), ", expected ", rank);
    for (int64_t a = 0; a < rank; ++a)
      if (a != axis && v.shape[size_t(a)] != first.shape[size_t(a)])
        ctx.fail("input '", v.name, "' has shape ", shape_str(v.shape), ", incompatible with ", shape_str(first.shape),
                 " outside axis ", axis);
    if (__builtin_add_overflow(out[size_t(axis)], v.shape[size_t(axis)], &out[size_t(axis)]))
      ctx.fail("the inputs' extents along axis ", axis, " overflow int64");
  }
  ctx.set_out(0, first.dtype, out);
}

void infer_Split(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const int64_t rank = int64_t(x.shape.size());
  if (rank == 0) ctx.fail("cannot split a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.node().attrs.get_int("axis", 0), rank);
  const int64_t dim = x.shape[size_t(axis)];
  const int64_t n = int64_t(ctx.num_outputs());
  std::vector<int64_t> sizes;
  if (ctx.opset() < 13 && ctx.node().attrs.has("split")) {
    sizes = ctx.node().attrs.get_ints("split");
  } else if (ctx.opset() >= 13 && ctx.has_input(1)) {
    sizes = ctx.const_ints(1);
  } else if (ctx.node().attrs.has("num_outputs")) {
    // opset 18: chunks of ceil(dim / num_outputs), the last one smaller.
    const int64_t k = ctx.node().attrs.get_int("num_outputs", n);
    if (k != n) ctx.fail("num_outputs is ", k, " but the node has ", n, " outputs");
    const int64_t chunk = (dim + k - 1) / k;
    for (int64_t i = 0; i < k; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  } else {
    if (n == 0 || dim % n != 0) ctx.fail("axis ", axis, " of size ", dim, " does not split evenly into ", n, " outputs");
    sizes.assign(size_t(n), dim / n);
  }
  if (int64_t(sizes.size()) != n) ctx.fail("split has ", sizes.size(), " sizes for ", n, " outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) ctx.fail("split sizes must be nonnegative");
    // total <= dim here, so this comparison cannot overflow where the sum could
    if (s > dim - total) ctx.fail("split sizes add up to more than axis ", axis, "'s size ", dim);
    total += s;
  }
  if (total != dim) ctx.fail("split sizes add up to ", total, " but axis ", axis, " has size ", dim);
  for (int64_t i = 0; i < n; ++i) {
    if (ctx.node().outputs[size_t(i)] < 0) continue;
    Shape s = x.shape;
    s[size_t(axis)] = sizes[size_t(i)];
    ctx.set_out(size_t(i), x.dtype, s);
  }
}

}  // namespace trtcore
