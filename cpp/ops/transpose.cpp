// Transpose: output dim i is input dim perm[i]; perm defaults to reversing the axes.
#include "ops/op_registry.h"

namespace trtcore {

void infer_Transpose(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm = ctx.node().attrs.get_ints("perm");
  if (!ctx.node().attrs.has("perm"))
    for (size_t i = 0; i < rank; ++i) perm.push_back(int64_t(rank - 1 - i));
  if (perm.size() != rank) ctx.fail("perm has ", perm.size(), " entries for an input of rank ", rank);
  std::vector<bool> seen(rank, false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(rank) || seen[size_t(p)]) ctx.fail("perm is not a permutation of 0..", rank - 1);
    seen[size_t(p)] = true;
    out.push_back(x.shape[size_t(p)]);
  }
  ctx.set_out(0, x.dtype, out);
}

}  // namespace trtcore
