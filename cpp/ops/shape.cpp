// Shape (with opset-15 start/end) and Size: int64 metadata of the input.
#include <algorithm>

#include "ops/op_registry.h"

namespace trtcore {

void infer_Shape(ShapeContext& ctx) {
  const int64_t rank = int64_t(ctx.in(0).shape.size());
  int64_t start = ctx.node().attrs.get_int("start", 0), end = ctx.node().attrs.get_int("end", rank);
  // Out-of-range start/end clamp rather than fail, as the spec says.
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  ctx.set_out(0, DType::kInt64, {end - start});
}

void infer_Size(ShapeContext& ctx) {
  (void)ctx.in(0);
  ctx.set_out(0, DType::kInt64, {});
}

}  // namespace trtcore
