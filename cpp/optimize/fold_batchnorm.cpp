// fold_batchnorm: y = s*x + t per output channel after a Conv/ConvTranspose/Gemm is folded into its weights and
// bias. Sources: BatchNormalization with constant statistics, and the Mul(scale) / Add(shift) pairs by which old
// Caffe2 exports express the same thing.
#include <cmath>

#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

namespace {

bool is_weighted(const Node& n) { return n.op == "Conv" || n.op == "ConvTranspose" || n.op == "Gemm"; }

// Output channels of a Conv/ConvTranspose/Gemm with constant float weights; 0 when it cannot be folded into.
int64_t output_channels(const Graph& g, const Node& n) {
  if (n.inputs.size() < 2 || has_fusion(n) || n.outputs.size() != 1) return 0;
  const Tensor* w = float_constant(g, n.inputs[1]);
  if (!w || w->shape.size() < 2) return 0;
  if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !float_constant(g, n.inputs[2])) return 0;
  if (n.op == "Conv") return w->shape[0];
  if (n.op == "ConvTranspose") return n.attrs.get_int("group", 1) * w->shape[1];
  if (w->shape.size() != 2) return 0;  // Gemm
  return n.attrs.get_int("transB", 0) ? w->shape[0] : w->shape[1];
}

// Rewrites node `n` so that it computes s[c] * y + t[c] on output channel c. `t` may be empty (no shift).
// Returns false (and changes nothing) when the existing bias has a shape it cannot absorb.
bool scale_and_shift(Graph& g, Node& n, const std::vector<float>& s, const std::vector<float>& t) {
  const int64_t C = int64_t(s.size());
  const Tensor& w = *float_constant(g, n.inputs[1]);
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  std::vector<float> bias(size_t(C), 0.f);
  float bias_factor = 1.f;  // Gemm computes beta * C
  if (has_bias) {
    const Tensor& b = *float_constant(g, n.inputs[2]);
    if (n.op == "Gemm") {
      // Only a bias that broadcasts along rows ([N], [1,N] or a scalar) stays one vector after scaling.
      const bool row = b.shape.size() <= 2 && (b.shape.size() < 2 || b.shape[0] == 1);
      if (!row || (b.numel() != 1 && b.numel() != C)) return false;
      bias_factor = n.attrs.get_float("beta", 1.f);
    } else if (b.numel() != C) {
      return false;
    }
    const float* bd = b.data<float>();
    for (int64_t c = 0; c < C; ++c) bias[size_t(c)] = bias_factor * bd[b.numel() == 1 ? 0 : c];
  }
  bool scaled = false;
  for (float v : s) scaled = scaled || v != 1.f;
  if (scaled) {
    std::vector<float> nw(w.data<float>(), w.data<float>() + w.numel());
    if (n.op == "Conv") {
      const int64_t block = w.numel() / C;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t k = 0; k < block; ++k) nw[size_t(c * block + k)] *= s[size_t(c)];
    } else if (n.op == "ConvTranspose") {
      // Weights are [Cin, Cout/group, k...]; input channel ci belongs to group ci / (Cin/group).
      const int64_t cin = w.shape[0], per_group_out = w.shape[1];
      const int64_t groups = C / per_group_out, block = w.numel() / (cin * per_group_out);
      const int64_t cin_per_group = cin / groups;
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t j = 0; j < per_group_out; ++j) {
          const float f = s[size_t((ci / cin_per_group) * per_group_out + j)];
          for (int64_t k = 0; k < block; ++k) nw[size_t((ci * per_group_out + j) * block + k)] *= f;
        }
    } else {  // Gemm: B is [K,N], or [N,K] with transB
      const bool trans_b = n.attrs.get_int("transB", 0) != 0;
      const int64_t rows = w.shape[0], cols = w.shape[1];
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) nw[size_t(r * cols + c)] *= s[size_t(trans_b ? r : c)];
    }
    n.inputs[1] = add_float_constant(g, g.value(n.inputs[1]).name + "_folded", w.shape, nw);
  }
  for (int64_t c = 0; c < C; ++c) bias[size_t(c)] = bias[size_t(c)] * s[size_t(c)] + (t.empty() ? 0.f : t[size_t(c)]);
  if (has_bias || !t.empty()) {
    const std::string base = has_bias ? g.value(n.inputs[2]).name + "_folded" : n.name + "_bias";
    if (n.inputs.size() < 3) n.inputs.resize(3, -1);
    n.inputs[2] = add_float_constant(g, base, {C}, bias);
    if (n.op == "Gemm") n.attrs.set("beta", 1.f);
  }
  return true;
}

// s and t of a BatchNormalization with constant parameters, or empty when they are not constant float32.
bool batchnorm_affine(const Graph& g, const Node& bn, int64_t C, std::vector<float>& s, std::vector<float>& t) {
  if (bn.inputs.size() < 5) return false;
  const Tensor* p[4];
  for (int k = 0; k < 4; ++k) {
    p[k] = float_constant(g, bn.inputs[size_t(k + 1)]);
    if (!p[k] || p[k]->numel() != C) return false;
  }
  const float eps = bn.attrs.get_float("epsilon", 1e-5f);
  s.resize(size_t(C));
  t.resize(size_t(C));
  for (int64_t c = 0; c < C; ++c) {
    const float scale = p[0]->data<float>()[c], shift = p[1]->data<float>()[c];
    const float mean = p[2]->data<float>()[c], var = p[3]->data<float>()[c];
    s[size_t(c)] = scale / std::sqrt(var + eps);
    t[size_t(c)] = shift - mean * s[size_t(c)];
  }
  return true;
}

}  // namespace

void fold_batchnorm(Graph& g, const PassContext&) {
  std::vector<int> consumers = g.consumer_counts();
  std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool bn = n.op == "BatchNormalization";
    if (!bn && n.op != "Mul" && n.op != "Add") continue;
    if (n.outputs.empty() || n.outputs[0] < 0) continue;
    // Training-mode extra outputs (running mean/var) must be unread.
    bool extra_used = false;
    for (size_t k = 1; k < n.outputs.size(); ++k) extra_used = extra_used || (n.outputs[k] >= 0 && consumers[size_t(n.outputs[k])] > 0);
    if (extra_used) continue;
    // Which input comes from the weighted node; for Mul/Add the other one is the constant.
    int src_slot = -1;
    for (size_t k = 0; k < (bn ? 1 : n.inputs.size()); ++k) {
      const int v = n.inputs[k];
      if (v >= 0 && prod[size_t(v)] >= 0 && is_weighted(g.nodes[size_t(prod[size_t(v)])])) src_slot = int(k);
    }
    if (src_slot < 0 || (!bn && n.inputs.size() != 2)) continue;
    const int x = n.inputs[size_t(src_slot)];
    const int p = prod[size_t(x)];
    if (consumers[size_t(x)] != 1) continue;
    Node& conv = g.nodes[size_t(p)];
    const int64_t C = output_channels(g, conv);
    if (C <= 0 || g.value(x).dtype != DType::kFloat32) continue;
    const Value& y = g.value(n.outputs[0]);
    if (y.shape != g.value(x).shape || y.dtype != DType::kFloat32) continue;
    const size_t rank = g.value(x).shape.size();
    if (rank < 2 || g.value(x).shape[1] != C) continue;

    std::vector<float> s, t;
    if (bn) {
      if (!batchnorm_affine(g, n, C, s, t)) continue;
    } else {
      const Tensor* c = float_constant(g, n.inputs[size_t(1 - src_slot)]);
      if (!c || !is_per_channel(*c, rank, C)) continue;
      std::vector<float> per(static_cast<size_t>(C));
      for (int64_t k = 0; k < C; ++k) per[size_t(k)] = c->data<float>()[c->numel() == 1 ? 0 : k];
      if (n.op == "Mul") {
        s = per;
      } else {
        s.assign(size_t(C), 1.f);
        t = per;
      }
    }
    if (!scale_and_shift(g, conv, s, t)) continue;
    // The weighted node now writes the folded node's output directly.
    conv.outputs[0] = n.outputs[0];
    prod[size_t(n.outputs[0])] = p;
    prod[size_t(x)] = -1;
    consumers[size_t(x)] = 0;
    remove[i] = 1;
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
