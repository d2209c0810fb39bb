// equalize_int8 (INT8 builds with --int8-equalization on|activations): cross-layer equalization of Conv -> [act] ->
// Conv pairs, the method of Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias Correction"
// (2019). Output channel c of the first Conv is divided by s_c and input channel c of the second multiplied by s_c.
// on: s_c = sqrt(r1_c / r2_c) (r1: range of the first Conv's weights for output c, r2: of the second's for input c),
// repeated until the scales settle; both weight ranges become sqrt(r1 r2).
// activations (pairs with a Relu or Clip between them): r1_c is channel c's range of the tensor between them (max |x|
// measured on the calibration samples before the pass), which INT8 quantizes with one per-tensor scale. When every
// output of the second Conv reads one input channel (depthwise), its per-channel weight scales absorb any s_c, so s_c
// makes every channel's range the largest one; otherwise s_c = sqrt(r1_c / r2_c) balances the activation range
// against the second Conv's weights.
// The float32 function is unchanged: the activation between may be none, Relu (Relu(y/s) = Relu(y)/s for s > 0) or
// Clip(0, b) (ReLU6). A clip does not commute with a per-channel scale, so Clip(0, b) becomes Relu followed by
// Min(x, b/s_c) per channel: exact, at the price of one elementwise node (which runs in float between the int8
// convolutions). Runs after fold_batchnorm and before any fusion, in the build and in calibration alike, so both see
// the same equalized model.
#include <algorithm>
#include <cmath>
#include <map>

#include "optimize/pass_util.h"
#include "trtcore/error.h"
#include "trtcore/passes.h"

namespace trtcore::opt {
namespace {

constexpr int kMaxSweeps = 32;        // DFQ's iteration; a few sweeps settle MobileNet-style chains
constexpr float kSettled = 1e-4f;     // |s - 1| below this everywhere: done
constexpr float kMaxScale = 1024.f;   // bounds each pair's total scale (dead channels have no range to balance)

// A Conv this pass can rescale: constant float weights (and bias), no fused activation or residual yet.
bool plain_conv(const Graph& g, const Node& n) {
  if (n.op != "Conv" || n.inputs.size() < 2 || n.inputs.size() > 3 || n.outputs.size() != 1 || has_fusion(n))
    return false;
  const Tensor* w = float_constant(g, n.inputs[1]);
  if (!w || w->shape.size() < 3 || w->shape[0] <= 0) return false;
  if (n.inputs.size() == 3 && n.inputs[2] >= 0) {
    const Tensor* b = float_constant(g, n.inputs[2]);
    if (!b || b->numel() != w->shape[0]) return false;
  }
  return true;
}

// Upper bound of a Clip whose lower bound is 0 (a ReLU6-like clip); false for any other node or bounds.
bool zero_clip(const Graph& g, const Node& n, float& upper) {
  if (n.op != "Clip") return false;
  float lo = -INFINITY, hi = INFINITY;
  if (n.inputs.size() > 1) {  // opset 11+: optional constant scalar inputs
    for (size_t k = 1; k < 3 && k < n.inputs.size(); ++k) {
      if (n.inputs[k] < 0) continue;
      const Tensor* t = float_constant(g, n.inputs[k]);
      if (!t || t->numel() != 1) return false;
      (k == 1 ? lo : hi) = t->data<float>()[0];
    }
  } else {
    lo = n.attrs.get_float("min", -INFINITY);
    hi = n.attrs.get_float("max", INFINITY);
  }
  upper = hi;
  return lo == 0.f && std::isfinite(hi) && hi > 0.f;
}

struct Pair {
  int first = -1, act = -1, second = -1;  // node indices; act -1: the Convs are adjacent
  std::string middle;                     // the second Conv's input (what INT8 quantizes per tensor)
  float clip = 0.f;                       // the Clip's upper bound, 0 for none/Relu
  std::vector<float> total;               // accumulated scale per channel
};

// The pairs of the graph: `second` reads a tensor only it reads, made by `first` (through one activation).
std::vector<Pair> find_pairs(const Graph& g) {
  const std::vector<int> prod = g.producers();
  const std::vector<int> uses = g.consumer_counts();
  std::vector<Pair> pairs;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& c = g.nodes[i];
    if (!plain_conv(g, c)) continue;
    const int t = c.inputs[0];
    if (t < 0 || prod[size_t(t)] < 0 || uses[size_t(t)] != 1 || is_graph_output(g, t)) continue;
    Pair p;
    p.second = int(i);
    p.middle = g.value(t).name;
    const Node& a = g.nodes[size_t(prod[size_t(t)])];
    int x = t;
    if (a.op == "Relu" || zero_clip(g, a, p.clip)) {
      x = a.inputs[0];
      if (x < 0 || prod[size_t(x)] < 0 || uses[size_t(x)] != 1 || is_graph_output(g, x)) continue;
      p.act = prod[size_t(t)];
      if (a.op == "Relu") p.clip = 0.f;
    }
    p.first = prod[size_t(x)];
    if (!plain_conv(g, g.nodes[size_t(p.first)])) continue;
    const Shape& w1 = float_constant(g, g.nodes[size_t(p.first)].inputs[1])->shape;
    const Shape& w2 = float_constant(g, c.inputs[1])->shape;
    if (w2[1] * c.attrs.get_int("group", 1) != w1[0]) continue;
    p.total.assign(size_t(w1[0]), 1.f);
    pairs.push_back(std::move(p));
  }
  return pairs;
}

// Working copies of the weights (and biases) the pairs rescale, written back once at the end.
struct Weights {
  Shape shape;
  std::vector<float> w, b;  // b empty when the Conv has no bias
};

Weights& weights_of(Graph& g, std::map<int, Weights>& all, int node) {
  auto it = all.find(node);
  if (it != all.end()) return it->second;
  const Node& n = g.nodes[size_t(node)];
  const Tensor* w = float_constant(g, n.inputs[1]);
  Weights x{w->shape, std::vector<float>(w->data<float>(), w->data<float>() + w->numel()), {}};
  if (n.inputs.size() == 3 && n.inputs[2] >= 0) {
    const Tensor* b = float_constant(g, n.inputs[2]);
    x.b.assign(b->data<float>(), b->data<float>() + b->numel());
  }
  return all.emplace(node, std::move(x)).first->second;
}

// Range of the first side of a pair per channel: the first Conv's weights for output c, or (`act` given) the middle
// tensor's measured range as the scales so far leave it.
std::vector<float> first_ranges(const Pair& p, const Weights& a, const std::vector<float>* act) {
  const int64_t channels = a.shape[0], row = int64_t(a.w.size()) / channels;
  std::vector<float> r(size_t(channels), 0.f);
  for (int64_t c = 0; c < channels; ++c) {
    if (act) {
      r[size_t(c)] = (*act)[size_t(c)] / p.total[size_t(c)];
      continue;
    }
    for (int64_t k = 0; k < row; ++k) r[size_t(c)] = std::max(r[size_t(c)], std::fabs(a.w[size_t(c * row + k)]));
  }
  return r;
}

// One equalization step of a pair; returns the largest |s - 1|. `act`: the middle tensor's measured channel ranges
// (--int8-equalization activations), else the first Conv's weight ranges are balanced.
float equalize_pair(Pair& p, Weights& a, Weights& b, int64_t group, const std::vector<float>* act) {
  const int64_t channels = a.shape[0], row = int64_t(a.w.size()) / channels;
  const int64_t cin_per_group = b.shape[1], cout_per_group = b.shape[0] / group;
  const int64_t taps = int64_t(b.w.size()) / (b.shape[0] * cin_per_group);
  const std::vector<float> r1s = first_ranges(p, a, act);
  // depthwise second Conv: its per-output-channel weight scales absorb s_c, so only the activation ranges count
  const bool one_input = act && cin_per_group == 1;
  const float widest = *std::max_element(r1s.begin(), r1s.end());
  float change = 0.f;
  for (int64_t c = 0; c < channels; ++c) {
    const float r1 = r1s[size_t(c)];
    float r2 = 0.f;
    const int64_t grp = c / cin_per_group, local = c % cin_per_group;
    for (int64_t o = grp * cout_per_group; o < (grp + 1) * cout_per_group; ++o)
      for (int64_t k = 0; k < taps; ++k) r2 = std::max(r2, std::fabs(b.w[size_t((o * cin_per_group + local) * taps + k)]));
    if (!(r1 > 0.f) || !(r2 > 0.f)) continue;
    float& total = p.total[size_t(c)];
    const float step = one_input ? r1 / widest : std::sqrt(r1 / r2);
    const float s = std::clamp(total * step, 1.f / kMaxScale, kMaxScale) / total;
    if (s == 1.f) continue;
    change = std::max(change, std::fabs(s - 1.f));
    total *= s;
    for (int64_t k = 0; k < row; ++k) a.w[size_t(c * row + k)] /= s;
    if (!a.b.empty()) a.b[size_t(c)] /= s;
    for (int64_t o = grp * cout_per_group; o < (grp + 1) * cout_per_group; ++o)
      for (int64_t k = 0; k < taps; ++k) b.w[size_t((o * cin_per_group + local) * taps + k)] *= s;
  }
  return change;
}

// Clip(0, b) of an equalized pair becomes Relu -> Min(x, b / s_c) per channel.
void split_clip(Graph& g, const Pair& p, std::vector<Node>& added) {
  Node& act = g.nodes[size_t(p.act)];
  const int t = act.outputs[0];
  const Shape& shape = g.value(t).shape;
  if (shape.size() < 2) return;
  std::vector<float> upper(p.total.size());
  for (size_t c = 0; c < upper.size(); ++c) upper[c] = p.clip / p.total[c];
  Shape bound_shape(shape.size() - 1, 1);
  bound_shape[0] = int64_t(upper.size());
  Value relu_out = g.value(t);
  relu_out.name = g.unique_name(g.value(t).name + "_relu");
  relu_out.constant = nullptr;
  const int r = g.add_value(std::move(relu_out));
  const int bound = add_float_constant(g, g.value(t).name + "_channel_clip", bound_shape, upper);
  Node& act_again = g.nodes[size_t(p.act)];  // add_value may not move nodes, but stay safe
  act_again.op = "Relu";
  act_again.inputs.resize(1);
  act_again.attrs = Attrs();
  act_again.outputs[0] = r;
  Node min;
  min.name = g.unique_name(act_again.name + "_channel_clip");
  min.op = "Min";
  min.inputs = {r, bound};
  min.outputs = {t};
  added.push_back(std::move(min));
}

}  // namespace

void equalize_int8(Graph& g, const PassContext& ctx) {
  if (ctx.int8_equalization == Int8Equalization::kOff) return;
  const bool by_activations = ctx.int8_equalization == Int8Equalization::kActivations;
  if (by_activations && !ctx.int8_channel_ranges)
    fail(ErrorKind::kInvalidArgument, "--int8-equalization activations needs the per-channel ranges of the ",
         "calibration samples (calibration data or a calibration cache made with it)");
  std::vector<Pair> pairs = find_pairs(g);
  if (by_activations) {  // a pair whose middle tensor was not measured (or not per channel alike) is left as it is
    std::vector<Pair> measured;
    for (Pair& p : pairs) {
      auto it = ctx.int8_channel_ranges->find(p.middle);
      if (p.act < 0) continue;  // adjacent Convs: balancing a signed linear output measured worse on MobileNetV2
      if (it != ctx.int8_channel_ranges->end() && it->second.size() == p.total.size()) measured.push_back(std::move(p));
    }
    pairs = std::move(measured);
  }
  if (pairs.empty()) return;
  std::map<int, Weights> work;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    float change = 0.f;
    for (Pair& p : pairs) {
      Weights& a = weights_of(g, work, p.first);
      Weights& b = weights_of(g, work, p.second);
      const std::vector<float>* act = by_activations ? &ctx.int8_channel_ranges->at(p.middle) : nullptr;
      change = std::max(change, equalize_pair(p, a, b, g.nodes[size_t(p.second)].attrs.get_int("group", 1), act));
    }
    if (change < kSettled) break;
  }
  for (auto& [node, x] : work) {
    Node& n = g.nodes[size_t(node)];
    n.inputs[1] = add_float_constant(g, g.value(n.inputs[1]).name + "_equalized", x.shape, x.w);
    if (!x.b.empty()) n.inputs[2] = add_float_constant(g, g.value(n.inputs[2]).name + "_equalized", {x.shape[0]}, x.b);
  }
  std::vector<Node> added;
  for (const Pair& p : pairs)
    if (p.act >= 0 && p.clip > 0.f) split_clip(g, p, added);
  for (Node& n : added) g.nodes.push_back(std::move(n));
  g.topo_sort();
  g.remove_unused_values();
}

}  // namespace trtcore::opt

namespace trtcore {

std::vector<std::string> int8_equalization_tensors(const Graph& g) {
  std::vector<std::string> names;
  for (const opt::Pair& p : opt::find_pairs(g)) names.push_back(p.middle);
  return names;
}

}  // namespace trtcore
