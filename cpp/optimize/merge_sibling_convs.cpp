// merge_sibling_convs: 1x1 convolutions that read the same tensor with the same geometry and fused activation (the
// branches of an Inception module) become one wider convolution followed by a Split — one GEMM instead of several.
#include <map>
#include <tuple>

#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

namespace {

// A 1x1, ungrouped, float32 Conv with constant weights and no residual input; what siblings must share.
bool mergeable(const Graph& g, const Node& n) {
  if (n.op != "Conv" || n.inputs.size() < 2 || (n.inputs.size() > 3 && n.inputs[3] >= 0)) return false;
  if (n.outputs.size() != 1 || n.attrs.get_int("group", 1) != 1) return false;
  const Tensor* w = float_constant(g, n.inputs[1]);
  if (!w || w->shape.size() != 4 || w->shape[2] != 1 || w->shape[3] != 1) return false;
  if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !float_constant(g, n.inputs[2])) return false;
  return g.value(n.outputs[0]).dtype == DType::kFloat32 && g.value(n.inputs[0]).dtype == DType::kFloat32;
}

using Signature = std::tuple<std::vector<int64_t>, std::vector<int64_t>, std::vector<int64_t>, std::string,
                             std::string, float, float>;

Signature signature(const Node& n) {
  return {n.attrs.get_ints("strides"), n.attrs.get_ints("pads"), n.attrs.get_ints("dilations"),
          n.attrs.get_string("auto_pad", "NOTSET"), n.attrs.get_string("activation", "none"),
          n.attrs.get_float("activation_alpha", 0.f), n.attrs.get_float("activation_beta", 0.f)};
}

}  // namespace

void merge_sibling_convs(Graph& g, const PassContext& ctx) {
  if (!ctx.caps.sibling_convs) return;
  // Groups of sibling node indices, keyed by the shared input and the geometry they must agree on.
  std::map<std::pair<int, Signature>, std::vector<size_t>> groups;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (mergeable(g, g.nodes[i])) groups[{g.nodes[i].inputs[0], signature(g.nodes[i])}].push_back(i);

  std::vector<char> remove(g.nodes.size(), 0);
  std::map<size_t, std::vector<Node>> insert_at;  // new nodes go where the first sibling was
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    const Node& first = g.nodes[members[0]];
    const Shape out0 = g.value(first.outputs[0]).shape;
    int64_t total_out = 0, cin = 0;
    std::vector<int64_t> sizes;
    for (size_t m : members) {
      const Tensor* w = float_constant(g, g.nodes[m].inputs[1]);
      cin = w->shape[1];
      sizes.push_back(w->shape[0]);
      total_out += w->shape[0];
    }
    std::vector<float> weights, bias;
    weights.reserve(size_t(total_out * cin));
    for (size_t m : members) {
      const Node& n = g.nodes[m];
      const Tensor* w = float_constant(g, n.inputs[1]);
      weights.insert(weights.end(), w->data<float>(), w->data<float>() + w->numel());
      const Tensor* b = n.inputs.size() > 2 && n.inputs[2] >= 0 ? float_constant(g, n.inputs[2]) : nullptr;
      for (int64_t c = 0; c < w->shape[0]; ++c) bias.push_back(b ? b->data<float>()[c] : 0.f);
    }
    Node conv = first;
    conv.name = g.unique_name(first.name + "_merged");
    conv.inputs = {first.inputs[0], add_float_constant(g, conv.name + "_W", {total_out, cin, 1, 1}, weights),
                   add_float_constant(g, conv.name + "_B", {total_out}, bias)};
    Value merged;
    merged.name = g.unique_name(conv.name + "_out");
    merged.dtype = DType::kFloat32;
    merged.shape = out0;
    merged.shape[1] = total_out;
    conv.outputs = {g.add_value(std::move(merged))};

    Node split;
    split.name = g.unique_name(first.name + "_split");
    split.op = "Split";
    split.attrs.set("axis", int64_t(1));
    split.inputs = {conv.outputs[0]};
    if (g.opset >= 13) {
      Tensor t(DType::kInt64, {int64_t(sizes.size())});
      for (size_t k = 0; k < sizes.size(); ++k) t.data<int64_t>()[k] = sizes[k];
      split.inputs.push_back(g.add_constant(g.unique_name(split.name + "_sizes"), std::move(t)));
    } else {
      split.attrs.set("split", sizes);
    }
    for (size_t m : members) {
      split.outputs.push_back(g.nodes[m].outputs[0]);
      remove[m] = 1;
    }
    insert_at[members[0]] = {std::move(conv), std::move(split)};
  }
  if (insert_at.empty()) return;
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto it = insert_at.find(i);
    if (it != insert_at.end())
      for (Node& n : it->second) nodes.push_back(std::move(n));
    if (!remove[i]) nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
}

}  // namespace trtcore::opt
