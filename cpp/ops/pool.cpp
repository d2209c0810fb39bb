// MaxPool, AveragePool (kernel windows with ceil_mode, count_include_pad, auto_pad, dilations) and the global
// pools (one value per channel).
#include "ops/op_registry.h"
#include "ops/window.h"

namespace trtcore {

static void infer_window_pool(ShapeContext& ctx, bool is_max) {
  const Value& x = ctx.in(0);
  const size_t rank = x.shape.size();
  if (rank < 3 || rank > 5) ctx.unsupported("input rank ", rank, ": only 1-d, 2-d and 3-d pooling");
  const Attrs& a = ctx.node().attrs;
  if (!a.has("kernel_shape")) ctx.fail("attribute kernel_shape is required");
  const std::vector<int64_t> kernel = a.get_ints("kernel_shape");
  if (kernel.size() != rank - 2) ctx.fail("kernel_shape has ", kernel.size(), " values for ", rank - 2, " spatial axes");
  if (is_max && ctx.num_outputs() > 1 && ctx.node().outputs[1] >= 0)
    ctx.unsupported("the Indices output of MaxPool");
  const int64_t ceil_mode = a.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) ctx.fail("ceil_mode must be 0 or 1, got ", ceil_mode);
  const Window w = resolve_window(ctx.node(), kernel, spatial_of(x.shape),
                                  ceil_mode ? OutputRounding::kCeil : OutputRounding::kFloor, true);
  Shape out{x.shape[0], x.shape[1]};
  out.insert(out.end(), w.out.begin(), w.out.end());
  ctx.set_out(0, x.dtype, out);
}

void infer_MaxPool(ShapeContext& ctx) { infer_window_pool(ctx, true); }

void infer_AveragePool(ShapeContext& ctx) {
  const int64_t cip = ctx.node().attrs.get_int("count_include_pad", 0);
  if (cip != 0 && cip != 1) ctx.fail("count_include_pad must be 0 or 1, got ", cip);
  infer_window_pool(ctx, false);
}

static void infer_global_pool(ShapeContext& ctx) {
  const Value& x = ctx.in(0);
  if (x.shape.size() < 3) ctx.fail("input rank ", x.shape.size(), " is below 3 (N, C, spatial...)");
  Shape out = x.shape;
  for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
  ctx.set_out(0, x.dtype, out);
}

void infer_GlobalAveragePool(ShapeContext& ctx) { infer_global_pool(ctx); }
void infer_GlobalMaxPool(ShapeContext& ctx) { infer_global_pool(ctx); }

}  // namespace trtcore
