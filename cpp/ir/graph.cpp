#include "trtcore/graph.h"

#include <set>

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

}  // namespace trtcore
