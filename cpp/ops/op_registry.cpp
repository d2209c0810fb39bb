#include "ops/op_registry.h"

#include <iomanip>

#include "ops/op_list.h"
#include "ops/op_traits.h"

// Each op's inference lives in its own file; a missing one is a link error, not a silently absent op.
#define TRTCORE_DECLARE_INFER(Name) void infer_##Name(::trtcore::ShapeContext& ctx);
namespace trtcore {
TRTCORE_OP_LIST(TRTCORE_DECLARE_INFER)
}  // namespace trtcore

namespace trtcore {

const Value& ShapeContext::in(size_t i) const {
  if (!has_input(i)) fail("input ", i, " is required but absent");
  return values_.at(size_t(node_.inputs[i]));
}

Value& ShapeContext::out(size_t i) {
  if (i >= node_.outputs.size() || node_.outputs[i] < 0) fail("output ", i, " is required but absent");
  return values_.at(size_t(node_.outputs[i]));
}

void ShapeContext::set_out(size_t i, DType t, Shape s) {
  Value& v = out(i);
  // Products in long double cannot wrap, so a hostile shape is reported with its real size.
  long double elements = 1;
  for (int64_t d : s) {
    if (d < 0) fail("output '", v.name, "' would have the negative dimension ", d, " (shape ", shape_str(s), ")");
    elements *= static_cast<long double>(d);
  }
  if (elements > static_cast<long double>(kMaxValueElements))
    fail("output '", v.name, "' would hold ", std::fixed, std::setprecision(0), elements, " elements (shape ",
         shape_str(s), "); a tensor may hold at most 2^31 elements");
  v.dtype = t;
  v.shape = std::move(s);
}

std::vector<int64_t> ShapeContext::const_ints(size_t i) const {
  const Value& v = in(i);
  if (!v.is_constant())
    unsupported("input ", i, " ('", v.name, "') must be a constant known at build time (computed at run time here)");
  return v.constant->as_int64();
}

int64_t normalize_axis(const ShapeContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= (rank == 0 ? 1 : rank)) ctx.fail("axis ", axis, " is out of range for rank ", rank);
  return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shapes(const ShapeContext& ctx, const Shape& a, const Shape& b) {
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      ctx.fail("shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

const std::vector<OpDef>& all_op_defs() {
  static const std::vector<OpDef> table = [] {
    std::vector<OpDef> t;
#define TRTCORE_OP_ENTRY(Name) \
    t.push_back(OpDef{#Name, &infer_##Name});
    TRTCORE_OP_LIST(TRTCORE_OP_ENTRY)
#undef TRTCORE_OP_ENTRY
    // naming &infer_<Name> makes a misspelt trait list entry a compile error
#define TRTCORE_MARK(Name, field, value) \
    (void)&infer_##Name;                  \
    for (OpDef& d : t)                    \
      if (std::string(d.name) == #Name) d.field = value;
#define TRTCORE_MARK_INTERNAL(Name) TRTCORE_MARK(Name, scope, OpScope::kInternal)
#define TRTCORE_MARK_WEIGHTED(Name) TRTCORE_MARK(Name, traits.fp16, Fp16Role::kWeighted)
#define TRTCORE_MARK_FOLLOWER(Name) TRTCORE_MARK(Name, traits.fp16, Fp16Role::kFollower)
#define TRTCORE_MARK_KEEPS_RANGE(Name) TRTCORE_MARK(Name, traits.keeps_range, true)
#define TRTCORE_MARK_ELEMENTWISE(Name) TRTCORE_MARK(Name, traits.elementwise, true)
#define TRTCORE_MARK_ACTIVATION(Name) TRTCORE_MARK(Name, traits.activation, true)
#define TRTCORE_MARK_INT8(Name) TRTCORE_MARK(Name, traits.int8_weighted, true)
    TRTCORE_INTERNAL_OP_LIST(TRTCORE_MARK_INTERNAL)
    TRTCORE_FP16_WEIGHTED_OPS(TRTCORE_MARK_WEIGHTED)
    TRTCORE_FP16_FOLLOWER_OPS(TRTCORE_MARK_FOLLOWER)
    TRTCORE_KEEPS_RANGE_OPS(TRTCORE_MARK_KEEPS_RANGE)
    TRTCORE_ELEMENTWISE_OPS(TRTCORE_MARK_ELEMENTWISE)
    TRTCORE_ACTIVATION_OPS(TRTCORE_MARK_ACTIVATION)
    TRTCORE_INT8_WEIGHTED_OPS(TRTCORE_MARK_INT8)
#undef TRTCORE_MARK_INT8
#undef TRTCORE_MARK_ACTIVATION
#undef TRTCORE_MARK_ELEMENTWISE
#undef TRTCORE_MARK_KEEPS_RANGE
#undef TRTCORE_MARK_FOLLOWER
#undef TRTCORE_MARK_WEIGHTED
#undef TRTCORE_MARK_INTERNAL
#undef TRTCORE_MARK
    return t;
  }();
  return table;
}

const OpTraits& op_traits(const std::string& op) {
  static const OpTraits none;
  const OpDef* d = find_op_def(op);
  return d ? d->traits : none;
}

const OpDef* find_op_def(const std::string& op) {
  for (const OpDef& d : all_op_defs())
    if (op == d.name) return &d;
  return nullptr;
}

}  // namespace trtcore
