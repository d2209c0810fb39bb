#include "optimize/pass_util.h"

#include <algorithm>
#include <cstring>

namespace trtcore::opt {

std::vector<std::vector<int>> consumer_lists(const Graph& g) {
  std::vector<std::vector<int>> c(g.values.size());
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int in : g.nodes[n].inputs)
      if (in >= 0 && (c[size_t(in)].empty() || c[size_t(in)].back() != int(n))) c[size_t(in)].push_back(int(n));
  return c;
}

bool is_graph_output(const Graph& g, int value) {
  return std::find(g.outputs.begin(), g.outputs.end(), value) != g.outputs.end();
}

bool is_graph_input(const Graph& g, int value) {
  return std::find(g.inputs.begin(), g.inputs.end(), value) != g.inputs.end();
}

void replace_uses(Graph& g, int from, int to) {
  for (Node& n : g.nodes)
    for (int& in : n.inputs)
      if (in == from) in = to;
  for (int& o : g.outputs)
    if (o == from) o = to;
}

void erase_nodes(Graph& g, const std::vector<char>& remove) {
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!remove[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

const Tensor* float_constant(const Graph& g, int value) {
  if (value < 0) return nullptr;
  const Value& v = g.value(value);
  if (!v.constant || v.constant->dtype != DType::kFloat32) return nullptr;
  return v.constant.get();
}

int add_float_constant(Graph& g, const std::string& base, const Shape& shape, const std::vector<float>& data) {
  Tensor t(DType::kFloat32, shape);
  std::memcpy(t.bytes.data(), data.data(), data.size() * sizeof(float));
  return g.add_constant(g.unique_name(base), std::move(t));
}

bool has_fusion(const Node& node) {
  return node.attrs.has("activation") || (node.inputs.size() > 3 && node.inputs[3] >= 0);
}

bool monotonic_quantizer(const Graph& g, const Node& q) {
  if (q.op != "QuantizeLinear" || q.inputs.size() < 2) return false;
  const Value& s = g.value(q.inputs[1]);
  return s.constant && s.dtype == DType::kFloat32 && numel(s.shape) == 1 && s.constant->data<float>()[0] > 0.f;
}

bool is_per_channel(const Tensor& c, size_t rank, int64_t channels) {
  const int64_t n = c.numel();
  if (n == 1) return c.shape.size() <= rank;
  if (n != channels || c.shape.size() > rank || rank < 2) return false;
  // Right-aligned broadcasting: dim k of c faces axis (rank - c.rank + k) of the tensor.
  const size_t offset = rank - c.shape.size();
  for (size_t k = 0; k < c.shape.size(); ++k) {
    const size_t axis = offset + k;
    if (axis == 1) continue;
    if (c.shape[k] != 1) return false;
  }
  return offset <= 1;  // axis 1 must be covered by c
}

}  // namespace trtcore::opt
