// fuse_activation: an elementwise activation right after a Conv/ConvTranspose/Gemm is applied inside that node
// (attributes "activation", "activation_alpha", "activation_beta"; see FusedActivation in trtcore/graph.h).
#include <cfloat>

#include "ops/op_registry.h"
#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

namespace {

// Optional scalar constant input of a Clip; false when present but not a constant scalar.
bool clip_bound(const Graph& g, const Node& n, size_t slot, float& bound) {
  if (slot >= n.inputs.size() || n.inputs[slot] < 0) return true;
  const Value& v = g.value(n.inputs[slot]);
  if (!v.constant || v.constant->numel() != 1) return false;
  bound = v.constant->as_float()[0];
  return true;
}

// Reads the activation node into `f`; false when it is not one a fused node can apply.
bool describe_activation(const Graph& g, const Node& n, FusedActivation& f) {
  if (!op_traits(n.op).activation) return false;
  if (n.op == "Relu") {
    f.kind = Activation::kRelu;
  } else if (n.op == "LeakyRelu") {
    f.kind = Activation::kLeakyRelu;
    f.alpha = n.attrs.get_float("alpha", 0.01f);
  } else if (n.op == "Clip") {
    f.kind = Activation::kClip;
    f.alpha = -FLT_MAX;
    f.beta = FLT_MAX;
    if (n.inputs.size() > 1) {  // opset 11+: bounds are optional inputs
      if (!clip_bound(g, n, 1, f.alpha) || !clip_bound(g, n, 2, f.beta)) return false;
    } else {  // before opset 11: bounds are attributes
      f.alpha = n.attrs.get_float("min", -FLT_MAX);
      f.beta = n.attrs.get_float("max", FLT_MAX);
    }
  } else if (n.op == "Sigmoid") {
    f.kind = Activation::kSigmoid;
  } else if (n.op == "HardSigmoid") {
    f.kind = Activation::kHardSigmoid;
    f.alpha = n.attrs.get_float("alpha", 0.2f);
    f.beta = n.attrs.get_float("beta", 0.5f);
  } else if (n.op == "HardSwish") {
    f.kind = Activation::kHardSwish;
  } else if (n.op == "Tanh") {
    f.kind = Activation::kTanh;
  } else {
    return false;
  }
  return true;
}

bool allowed(const Node& producer, const FusionCaps& caps) {
  if (producer.op == "Conv" || producer.op == "ConvTranspose") return caps.conv_activation;
  if (producer.op == "Gemm") return caps.gemm_activation;
  return false;
}

// SiLU as exported: y = Mul(c, Sigmoid(c)) with c a Conv/Gemm output used by exactly those two nodes.
void fuse_silu(Graph& g, const PassContext& ctx) {
  const std::vector<int> consumers = g.consumer_counts();
  const std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& mul = g.nodes[i];
    if (mul.op != "Mul" || mul.inputs.size() != 2 || mul.outputs.size() != 1) continue;
    for (int side = 0; side < 2; ++side) {
      const int c = mul.inputs[size_t(side)], s = mul.inputs[size_t(1 - side)];
      if (c < 0 || s < 0 || prod[size_t(s)] < 0 || prod[size_t(c)] < 0) continue;
      const size_t si = size_t(prod[size_t(s)]);
      const Node& sig = g.nodes[si];
      if (sig.op != "Sigmoid" || sig.inputs.size() != 1 || sig.inputs[0] != c || consumers[size_t(s)] != 1) continue;
      if (consumers[size_t(c)] != 2) continue;
      Node& producer = g.nodes[size_t(prod[size_t(c)])];
      if (!allowed(producer, ctx.caps) || producer.attrs.has("activation") || producer.outputs.size() != 1) continue;
      const int out = mul.outputs[0];
      if (g.value(out).shape != g.value(c).shape || g.value(out).dtype != g.value(c).dtype) continue;
      producer.attrs.set("activation", std::string(activation_name(Activation::kSiLU)));
      producer.attrs.set("activation_alpha", 0.f);
      producer.attrs.set("activation_beta", 0.f);
      producer.outputs[0] = out;
      remove[i] = remove[si] = 1;
      break;
    }
  }
  erase_nodes(g, remove);
}

}  // namespace

void fuse_activation(Graph& g, const PassContext& ctx) {
  std::vector<int> consumers = g.consumer_counts();  // graph outputs count: a fused output must be single-use
  std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& act = g.nodes[i];
    if (act.inputs.empty() || act.inputs[0] < 0 || act.outputs.size() != 1 || act.outputs[0] < 0) continue;
    const int x = act.inputs[0], out = act.outputs[0];
    const int p = prod[size_t(x)];
    if (p < 0 || consumers[size_t(x)] != 1) continue;
    Node& producer = g.nodes[size_t(p)];
    if (!allowed(producer, ctx.caps) || producer.attrs.has("activation") || producer.outputs.size() != 1) continue;
    if (g.value(x).dtype != g.value(out).dtype || g.value(x).shape != g.value(out).shape) continue;
    FusedActivation f;
    if (!describe_activation(g, act, f)) continue;
    producer.attrs.set("activation", std::string(activation_name(f.kind)));
    producer.attrs.set("activation_alpha", f.alpha);
    producer.attrs.set("activation_beta", f.beta);
    producer.outputs[0] = out;
    prod[size_t(out)] = p;
    prod[size_t(x)] = -1;
    consumers[size_t(x)] = 0;
    remove[i] = 1;
  }
  erase_nodes(g, remove);
  fuse_silu(g, ctx);
}

}  // namespace trtcore::opt
