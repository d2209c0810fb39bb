// fuse_elementwise: connected groups of float elementwise nodes whose intermediate values are read only inside the
// group become one FusedElementwise node (one kernel, one pass over memory) running a small program; scalar
// constants become immediates, other operands (values, broadcastable constants) become the node's inputs.
//
// Groups grow from a root (visited in reverse topological order) towards its producers: a producer joins when
// every consumer of its output is already a member and that output is no graph output. So only the root's output
// leaves the group, and no path can leave the group and come back (which would make the fused node a cycle).
#include <cfloat>
#include <algorithm>
#include <set>

#include "ops/fused_elementwise.h"
#include "ops/op_registry.h"
#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

namespace {

constexpr size_t kMaxRank = 8;  // the cuda kernel's broadcast index

struct Candidate {
  EwOp op = EwOp::kRelu;
  float alpha = 0.f, beta = 0.f;
  std::vector<int> operands;  // value ids read as operands a (and b)
};

bool is_float(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

// The scalar held by constant `v` when it is a one-element float constant.
bool scalar_constant(const Graph& g, int v, float& out) {
  const Value& val = g.value(v);
  if (!val.constant || val.constant->numel() != 1 || !is_float(val.dtype)) return false;
  out = val.constant->as_float()[0];
  return true;
}

// Reads node `n` as a fusable instruction; false when it is not an elementwise op a program can hold.
bool describe(const Graph& g, const Node& n, Candidate& c) {
  if (!op_traits(n.op).elementwise || !ew_op_from_name(n.op, c.op)) return false;
  if (n.outputs.size() != 1 || n.outputs[0] < 0) return false;
  const Value& y = g.value(n.outputs[0]);
  if (y.constant || !is_float(y.dtype) || y.shape.size() > kMaxRank) return false;
  const size_t operands = ew_is_binary(c.op) ? 2 : 1;
  if (ew_is_binary(c.op) ? n.inputs.size() != 2 : n.inputs.empty()) return false;
  for (size_t k = 0; k < operands; ++k) {
    const int v = n.inputs[k];
    if (v < 0 || g.value(v).dtype != y.dtype) return false;  // Pow with an integer exponent stays unfused
    c.operands.push_back(v);
  }
  switch (c.op) {
    case EwOp::kLeakyRelu: c.alpha = n.attrs.get_float("alpha", 0.01f); break;
    case EwOp::kHardSigmoid:
      c.alpha = n.attrs.get_float("alpha", 0.2f);
      c.beta = n.attrs.get_float("beta", 0.5f);
      break;
    case EwOp::kClip:
      c.alpha = -FLT_MAX;
      c.beta = FLT_MAX;
      if (g.opset < 11) {  // bounds are attributes
        if (n.inputs.size() != 1) return false;
        c.alpha = n.attrs.get_float("min", -FLT_MAX);
        c.beta = n.attrs.get_float("max", FLT_MAX);
      } else {  // optional constant scalar inputs
        if (n.inputs.size() > 3) return false;
        if (n.inputs.size() > 1 && n.inputs[1] >= 0 && !scalar_constant(g, n.inputs[1], c.alpha)) return false;
        if (n.inputs.size() > 2 && n.inputs[2] >= 0 && !scalar_constant(g, n.inputs[2], c.beta)) return false;
      }
      break;
    default:
      if (!ew_is_binary(c.op) && n.inputs.size() != 1) return false;
      break;
  }
  return true;
}

class GroupBuilder {
 public:
  GroupBuilder(Graph& g) : g_(g), prod_(g.producers()), consumers_(consumer_lists(g)), cand_(g.nodes.size()),
                           ok_(g.nodes.size(), 0), group_(g.nodes.size(), -1) {
    for (size_t i = 0; i < g.nodes.size(); ++i) ok_[i] = describe(g, g.nodes[i], cand_[i]) ? 1 : 0;
  }

  void run() {
    std::vector<Node> fused;         // one per group, placed at its root
    std::vector<int> fused_at(g_.nodes.size(), -1);
    std::vector<char> remove(g_.nodes.size(), 0);
    int next_group = 0;
    for (size_t r = g_.nodes.size(); r-- > 0;) {
      if (!ok_[r] || group_[r] >= 0) continue;
      const int gid = next_group++;
      std::vector<int> members = grow(int(r), gid);
      if (members.size() < 2) continue;
      std::sort(members.begin(), members.end());  // node order is topological
      fused_at[r] = int(fused.size());
      fused.push_back(make_node(members));
      for (int m : members) remove[size_t(m)] = 1;
    }
    if (fused.empty()) return;
    std::vector<Node> out;
    out.reserve(g_.nodes.size());
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (fused_at[i] >= 0) out.push_back(std::move(fused[size_t(fused_at[i])]));
      else if (!remove[i]) out.push_back(std::move(g_.nodes[i]));
    }
    g_.nodes = std::move(out);
  }

 private:
  // Members of the group rooted at `root`: producers join while every consumer of their output is a member.
  std::vector<int> grow(int root, int gid) {
    std::vector<int> members = {root};
    group_[size_t(root)] = gid;
    const DType t = g_.value(g_.nodes[size_t(root)].outputs[0]).dtype;
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t mi = 0; mi < members.size(); ++mi) {
        const std::vector<int> operands = cand_[size_t(members[mi])].operands;
        for (int v : operands) {
          const int p = prod_[size_t(v)];
          if (p < 0 || !ok_[size_t(p)] || group_[size_t(p)] >= 0) continue;
          if (is_graph_output(g_, v) || g_.value(v).dtype != t) continue;
          bool inside = true;
          for (int c : consumers_[size_t(v)]) inside = inside && group_[size_t(c)] == gid;
          if (!inside) continue;
          members.push_back(p);
          group_[size_t(p)] = gid;
          if (members.size() > kMaxEwInstructions || external_inputs(members).size() > kMaxEwInputs) {
            members.pop_back();  // too large for one kernel's registers: the value stays an input
            group_[size_t(p)] = kRejected;
            continue;
          }
          changed = true;
        }
      }
    }
    // A producer rejected for size may join a later group as its root.
    for (int& gr : group_)
      if (gr == kRejected) gr = -1;
    return members;
  }

  bool produced_inside(const std::vector<int>& members, int v) const {
    return std::find(members.begin(), members.end(), prod_[size_t(v)]) != members.end() && prod_[size_t(v)] >= 0;
  }

  // Operand b of a binary instruction becomes an immediate when it is a scalar constant (and a is not one).
  bool immediate_operand(const Candidate& c, size_t k, float& value) const {
    if (!ew_is_binary(c.op)) return false;
    float dummy;
    if (k == 1 && scalar_constant(g_, c.operands[0], dummy)) return false;
    return scalar_constant(g_, c.operands[k], value);
  }

  // Distinct values the members read from outside, in order of first use (members sorted or not).
  std::vector<int> external_inputs(std::vector<int> members) const {
    std::sort(members.begin(), members.end());
    std::vector<int> ext;
    for (int m : members) {
      const Candidate& c = cand_[size_t(m)];
      for (size_t k = 0; k < c.operands.size(); ++k) {
        const int v = c.operands[k];
        float imm;
        if (produced_inside(members, v) || immediate_operand(c, k, imm)) continue;
        if (std::find(ext.begin(), ext.end(), v) == ext.end()) ext.push_back(v);
      }
    }
    return ext;
  }

  Node make_node(const std::vector<int>& members) {
    const std::vector<int> ext = external_inputs(members);
    const int32_t n_in = int32_t(ext.size());
    EwProgram p;
    for (size_t k = 0; k < members.size(); ++k) {
      const Candidate& c = cand_[size_t(members[k])];
      EwInstr ins;
      ins.op = c.op;
      ins.alpha = c.alpha;
      ins.beta = c.beta;
      int32_t slots[2] = {kEwImmediate, kEwImmediate};
      for (size_t j = 0; j < c.operands.size(); ++j) {
        const int v = c.operands[j];
        float imm = 0.f;
        if (produced_inside(members, v)) {
          const auto at = std::find(members.begin(), members.end(), prod_[size_t(v)]) - members.begin();
          slots[j] = n_in + int32_t(at);
        } else if (immediate_operand(c, j, imm)) {
          (j == 0 ? ins.alpha : ins.beta) = imm;
        } else {
          slots[j] = int32_t(std::find(ext.begin(), ext.end(), v) - ext.begin());
        }
      }
      ins.a = slots[0];
      ins.b = slots[1];
      p.code.push_back(ins);
    }
    const Node& root = g_.nodes[size_t(members.back())];
    p.out_rank = int64_t(g_.value(root.outputs[0]).shape.size());
    Node n;
    n.name = root.name;  // the root is removed, so its name stays unique
    n.op = "FusedElementwise";
    n.inputs = ext;
    n.outputs = root.outputs;
    p.store(n.attrs);
    return n;
  }

  static constexpr int kRejected = -2;
  Graph& g_;
  std::vector<int> prod_;
  std::vector<std::vector<int>> consumers_;
  std::vector<Candidate> cand_;
  std::vector<char> ok_;
  std::vector<int> group_;
};

}  // namespace

void fuse_elementwise(Graph& g, const PassContext& ctx) {
  if (!ctx.caps.elementwise_chains) return;
  GroupBuilder(g).run();
}

}  // namespace trtcore::opt
