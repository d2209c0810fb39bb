// Shape inference over a whole graph through the op table, folding small constant subgraphs on the way.
#include <algorithm>

#include "ops/op_registry.h"
#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {
namespace {

bool outputs_constant(const Node& n, const std::vector<Value>& values) {
  for (int o : n.outputs)
    if (o >= 0 && !values[size_t(o)].is_constant()) return false;
  return !n.outputs.empty();
}

// Folds a node whose inputs are all constant (or a Shape of a known shape) when its outputs are small:
// this is how shape-computing subgraphs become constants at build time.
void fold_small(Graph& g, const Node& n, NodeEvaluator fold) {
  constexpr int64_t kMaxFoldElements = 1 << 16;
  if (n.op == "Shape") {
    const Value& in = g.value(n.inputs.at(0));
    const int64_t rank = int64_t(in.shape.size());
    int64_t start = n.attrs.get_int("start", 0), end = n.attrs.get_int("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    Tensor t(DType::kInt64, {end - start});
    for (int64_t i = start; i < end; ++i) t.data<int64_t>()[i - start] = in.shape[size_t(i)];
    g.value(n.outputs[0]).constant = std::make_shared<const Tensor>(std::move(t));
    return;
  }
  if (n.op == "Size") {  // like Shape: known from the input's shape alone
    Tensor t(DType::kInt64, {});
    t.data<int64_t>()[0] = numel(g.value(n.inputs.at(0)).shape);
    g.value(n.outputs[0]).constant = std::make_shared<const Tensor>(std::move(t));
    return;
  }
  if (!fold) return;
  if (n.op == "DequantizeLinear") return;  // int8 weights stay for the lowering (fold_dequantize)
  bool any_input = false;
  for (int i : n.inputs) {
    if (i < 0) continue;
    any_input = true;
    if (!g.value(i).is_constant()) return;
  }
  if (!any_input && n.op != "Constant" && n.op != "ConstantOfShape") return;
  for (int o : n.outputs)
    if (o >= 0 && numel(g.value(o).shape) > kMaxFoldElements) return;
  std::vector<Tensor> outs = fold(n, g);
  for (size_t k = 0; k < outs.size() && k < n.outputs.size(); ++k)
    if (n.outputs[k] >= 0) g.value(n.outputs[k]).constant = std::make_shared<const Tensor>(std::move(outs[k]));
}

void infer_node(const Node& n, std::vector<Value>& values, int64_t opset) {
  const OpDef* def = find_op_def(n.op);
  if (!def) fail(ErrorKind::kUnsupported, n.describe(), " (opset ", opset, "): op type '", n.op, "' is not supported");
  ShapeContext ctx(n, values, opset);
  def->infer(ctx);
}

}  // namespace

void infer_shapes(Graph& g, NodeEvaluator fold) {
  for (const Node& n : g.nodes) {
    if (outputs_constant(n, g.values)) continue;
    infer_node(n, g.values, g.opset);
    fold_small(g, n, fold);
  }
}

std::vector<Shape> shapes_for_batch(const Graph& g, int64_t batch) {
  if (batch < 1 || batch > g.max_batch)
    fail(ErrorKind::kInvalidArgument, "batch ", batch, " is outside the plan's range 1..", g.max_batch);
  std::vector<Value> values = g.values;
  if (batch != g.max_batch) {
    if (!g.has_batch_axis)
      fail(ErrorKind::kInvalidArgument, "this plan was built for a fixed batch of ", g.max_batch,
           "; rebuild with a dynamic batch axis to run batch ", batch);
    for (int in : g.inputs) values[size_t(in)].shape.at(0) = batch;
    for (const Node& n : g.nodes) {
      if (outputs_constant(n, values)) continue;
      infer_node(n, values, g.opset);
    }
  }
  std::vector<Shape> shapes;
  shapes.reserve(values.size());
  for (const Value& v : values) shapes.push_back(v.shape);
  return shapes;
}

}  // namespace trtcore
