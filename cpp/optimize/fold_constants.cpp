// fold_constants: a node whose inputs are all constant is computed once at build time by the evaluator the
// caller hands in (the runtime's is the cpu kernels).
#include "ops/op_registry.h"
#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

// Folding must not turn a tiny node (ConstantOfShape, Expand, Tile) into a plan of gigabytes.
constexpr int64_t kMaxFoldedBytes = int64_t(256) << 20;

static bool all_outputs_constant(const Graph& g, const Node& n) {
  for (int o : n.outputs)
    if (o >= 0 && !g.value(o).is_constant()) return false;
  return true;
}

static bool foldable(const Graph& g, const Node& n) {
  if (n.op == "DequantizeLinear") return false;  // int8 weights stay for the lowering (fold_dequantize)
  for (int in : n.inputs)
    if (in >= 0 && !g.value(in).is_constant()) return false;
  int64_t bytes = 0;
  for (int o : n.outputs) {
    if (o < 0) continue;
    const Value& v = g.value(o);
    if (v.dtype == DType::kUndefined) return false;  // shape inference never reached it
    bytes += numel(v.shape) * int64_t(dtype_size(v.dtype));
  }
  // Every op of the table has a cpu kernel (op_list.h expands into both), so the runtime's evaluator takes any.
  return bytes <= kMaxFoldedBytes && find_op_def(n.op) != nullptr;
}

void fold_constants(Graph& g, const PassContext& ctx) {
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.outputs.empty()) continue;
    // Import already folded small shape subgraphs: their outputs are constant, only the node is left.
    if (all_outputs_constant(g, n)) {
      remove[i] = 1;
      continue;
    }
    if (!ctx.fold || !foldable(g, n)) continue;
    std::vector<Tensor> outs = ctx.fold(n, g);
    for (size_t k = 0; k < outs.size() && k < n.outputs.size(); ++k)
      if (n.outputs[k] >= 0) g.value(n.outputs[k]).constant = std::make_shared<const Tensor>(std::move(outs[k]));
    remove[i] = 1;
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
