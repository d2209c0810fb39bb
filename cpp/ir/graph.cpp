#include "trtcore/graph.h"

#include <algorithm>
#include <set>

#include "backends/cpu/cpu_kernel.h"
#include "ops/op_registry.h"
#include "trtcore/error.h"

namespace trtcore {

std::string Node::describe() const { return "node '" + name + "' (" + op + ")"; }

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return int(values.size()) - 1;
}

int Graph::add_constant(const std::string& vname, Tensor t) {
  Value v;
  v.name = vname;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.constant = std::make_shared<const Tensor>(std::move(t));
  return add_value(std::move(v));
}

int Graph::find_value(const std::string& vname) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == vname) return int(i);
  return -1;
}

std::string Graph::unique_name(const std::string& base) const {
  std::set<std::string> names;
  for (const Value& v : values) names.insert(v.name);
  for (const Node& n : nodes) names.insert(n.name);
  if (!names.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string cand = base + "_" + std::to_string(i);
    if (!names.count(cand)) return cand;
  }
}

std::vector<int> Graph::producers() const {
  std::vector<int> p(values.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (int o : nodes[i].outputs)
      if (o >= 0) p[size_t(o)] = int(i);
  return p;
}

std::vector<int> Graph::consumer_counts() const {
  std::vector<int> c(values.size(), 0);
  for (const Node& n : nodes)
    for (int i : n.inputs)
      if (i >= 0) ++c[size_t(i)];
  for (int o : outputs) ++c[size_t(o)];
  return c;
}

void Graph::topo_sort() {
  const std::vector<int> prod = producers();
  std::vector<int> state(nodes.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<size_t> order;
  order.reserve(nodes.size());
  // Iterative DFS keeps deep graphs (thousands of layers) off the call stack.
  for (size_t root = 0; root < nodes.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next < nodes[n].inputs.size()) {
        const int in = nodes[n].inputs[next++];
        if (in < 0) continue;
        const int p = prod[size_t(in)];
        if (p < 0 || state[size_t(p)] == 2) continue;
        if (state[size_t(p)] == 1) fail(ErrorKind::kCorrupt, "graph has a cycle through ", nodes[size_t(p)].describe());
        state[size_t(p)] = 1;
        stack.push_back({size_t(p), 0});
      } else {
        state[n] = 2;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
}

void Graph::remove_unused_values() {
  std::vector<char> used(values.size(), 0);
  for (const Node& n : nodes) {
    for (int i : n.inputs) if (i >= 0) used[size_t(i)] = 1;
    for (int o : n.outputs) if (o >= 0) used[size_t(o)] = 1;
  }
  for (int i : inputs) used[size_t(i)] = 1;
  for (int o : outputs) used[size_t(o)] = 1;
  std::vector<int> remap(values.size(), -1);
  std::vector<Value> kept;
  for (size_t i = 0; i < values.size(); ++i)
    if (used[i]) {
      remap[i] = int(kept.size());
      kept.push_back(std::move(values[i]));
    }
  values = std::move(kept);
  auto fix = [&](std::vector<int>& ids) {
    for (int& id : ids)
      if (id >= 0) id = remap[size_t(id)];
  };
  for (Node& n : nodes) {
    fix(n.inputs);
    fix(n.outputs);
  }
  fix(inputs);
  fix(outputs);
}

std::map<std::string, int> Graph::op_histogram() const {
  std::map<std::string, int> h;
  for (const Node& n : nodes) ++h[n.op];
  return h;
}

static bool outputs_constant(const Node& n, const std::vector<Value>& values) {
  for (int o : n.outputs)
    if (o >= 0 && !values[size_t(o)].is_constant()) return false;
  return !n.outputs.empty();
}

// Folds a node whose inputs are all constant (or a Shape of a known shape) when its outputs are small:
// this is how shape-computing subgraphs become constants at build time.
static void fold_small(Graph& g, const Node& n) {
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
  bool any_input = false;
  for (int i : n.inputs) {
    if (i < 0) continue;
    any_input = true;
    if (!g.value(i).is_constant()) return;
  }
  if (!any_input && n.op != "Constant" && n.op != "ConstantOfShape") return;
  if (n.op == "DequantizeLinear") return;  // int8 weights stay for the lowering (fold_dequantize)
  for (int o : n.outputs)
    if (o >= 0 && numel(g.value(o).shape) > kMaxFoldElements) return;
  std::vector<Tensor> outs = cpu::evaluate_node(n, g);
  for (size_t k = 0; k < outs.size() && k < n.outputs.size(); ++k)
    if (n.outputs[k] >= 0) g.value(n.outputs[k]).constant = std::make_shared<const Tensor>(std::move(outs[k]));
}

static void infer_node(const Node& n, std::vector<Value>& values, int64_t opset) {
  const OpDef* def = find_op_def(n.op);
  if (!def) fail(ErrorKind::kUnsupported, n.describe(), " (opset ", opset, "): op type '", n.op, "' is not supported");
  ShapeContext ctx(n, values, opset);
  def->infer(ctx);
}

void infer_shapes(Graph& g) {
  for (const Node& n : g.nodes) {
    if (outputs_constant(n, g.values)) continue;
    infer_node(n, g.values, g.opset);
    fold_small(g, n);
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
