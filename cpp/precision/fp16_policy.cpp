// FP16 policy: which nodes compute in float16, and the Cast nodes that keep every edge's dtype consistent.
//
// Weighted ops (op_traits' Fp16Role::kWeighted: Conv, Gemm, MatMul) are the anchors: they run in FP16 when every
// float constant they read fits the float16 range. Followers (cheap elementwise, pooling and data-movement ops) run
// in FP16 when one of their float inputs already is FP16, so no cast is paid for them. Everything else (Softmax,
// reductions, exp/log/pow, LRN, normalisation, resampling) keeps FP32.
#include "precision/fp16_policy.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "ops/fused_elementwise.h"
#include "ops/op_registry.h"
#include "optimize/pass_util.h"
#include "trtcore/error.h"
#include "trtcore/half.h"

namespace trtcore {
namespace {

// A FusedElementwise node keeps its intermediates in float registers, so only what it stores matters: it follows
// its inputs into FP16 when every member op would, or only bounds or reorders values (op_traits' keeps_range);
// exp/log/pow/sqrt/reciprocal members keep it FP32, like the standalone ops.
Fp16Role fused_role(const Node& n) {
  for (const EwInstr& ins : EwProgram::from(n).code) {
    const OpTraits& t = op_traits(ew_op_name(ins.op));
    if (t.fp16 != Fp16Role::kFollower && !t.keeps_range) return Fp16Role::kFloat32Only;
  }
  return Fp16Role::kFollower;
}

constexpr float kHalfMax = 65504.f;

// "" when every float32 constant input of `n` converts to float16 without overflow, else the reason.
std::string constants_fit(const Node& n, const Graph& g) {
  for (int id : n.inputs) {
    if (id < 0) continue;
    const Value& v = g.value(id);
    if (!v.constant || v.dtype != DType::kFloat32) continue;
    const float* p = v.constant->data<float>();
    for (int64_t i = 0; i < v.constant->numel(); ++i)
      if (!std::isfinite(p[i]) || std::fabs(p[i]) > kHalfMax)
        return "constant '" + v.name + "' holds " + std::to_string(p[i]) + ", outside the float16 range";
  }
  return "";
}

// Gemm runs in FP16 only in the forms whose FP16 kernel exists: no C, or a bias row added with beta 1.
std::string gemm_form_ok(const Node& n, const Graph& g) {
  if (n.inputs.size() < 3 || n.inputs[2] < 0) return "";
  if (n.attrs.get_float("beta", 1.f) != 1.f) return "Gemm with beta != 1 and a C input stays float32";
  const Shape& c = g.value(n.inputs[2]).shape;
  const int64_t cols = g.value(n.outputs[0]).shape.back();
  const bool row = (c.size() == 1 && c[0] == cols) || (c.size() == 2 && c[0] == 1 && c[1] == cols);
  return row ? "" : "Gemm with a broadcast C input stays float32";
}

bool all_outputs_constant(const Node& n, const Graph& g) {
  for (int o : n.outputs)
    if (o >= 0 && !g.value(o).constant) return false;
  return true;
}

class Rewriter {
 public:
  explicit Rewriter(Graph& g) : g_(g) {
    for (const Node& n : g.nodes) names_.insert(n.name);
  }

  // The id of `v` as `want` (float32/float16): itself, a cached cast, or a new Cast appended to `out`.
  int as_dtype(int v, DType want, std::vector<Node>& out) {
    if (g_.value(v).dtype == want) return v;
    const auto key = std::make_pair(v, want);
    auto it = casts_.find(key);
    if (it != casts_.end()) return it->second;
    Value nv;
    const std::string suffix = want == DType::kFloat16 ? "/fp16" : "/fp32";
    nv.name = g_.unique_name(g_.value(v).name + suffix);
    nv.dtype = want;
    nv.shape = g_.value(v).shape;
    const int id = g_.add_value(std::move(nv));
    out.push_back(make_cast(v, id, want));
    casts_[key] = id;
    return id;
  }

  // A float16 copy of float32 constant `v` (shared by every node that reads it).
  int half_constant(int v) {
    auto it = half_consts_.find(v);
    if (it != half_consts_.end()) return it->second;
    const Value& src = g_.value(v);
    Tensor t(DType::kFloat16, src.constant->shape);
    const float* p = src.constant->data<float>();
    uint16_t* q = t.data<uint16_t>();
    for (int64_t i = 0; i < t.numel(); ++i) q[i] = float_to_half(p[i]);
    const std::string name = g_.unique_name(src.name + "/fp16");
    const int id = g_.add_constant(name, std::move(t));
    half_consts_[v] = id;
    return id;
  }

  Node make_cast(int from, int to, DType want) {
    Node c;
    std::string base = g_.value(to).name + "/cast";
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    c.name = name;
    c.op = "Cast";
    c.inputs = {from};
    c.outputs = {to};
    c.attrs.set("to", int64_t(want));
    ++casts_inserted;
    return c;
  }

  int casts_inserted = 0;

 private:
  Graph& g_;
  std::set<std::string> names_;
  std::map<std::pair<int, DType>, int> casts_;
  std::map<int, int> half_consts_;
};

// Casts next to quantization nodes fold into them, with the same results: a DequantizeLinear whose only reader is
// a Cast to float16 writes float16 itself (output_dtype; the product is still computed in float32 and rounded
// once), and a QuantizeLinear reads float16 data directly instead of through a Cast to float32 (exact). Returns the
// casts removed.
int fold_qdq_casts(Graph& g) {
  const std::vector<std::vector<int>> readers = opt::consumer_lists(g);
  const std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  const auto is_cast_to = [](const Node& n, DType t) {
    return n.op == "Cast" && n.attrs.get_int("to", 0) == int64_t(t);
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& c = g.nodes[i];
    const int in = c.inputs.empty() ? -1 : c.inputs[0];
    if (in < 0 || opt::is_graph_output(g, in) || g.value(in).constant) continue;
    const std::vector<int>& in_readers = readers[size_t(in)];
    if (is_cast_to(c, DType::kFloat16) && prod[size_t(in)] >= 0 && in_readers.size() == 1) {
      Node& dq = g.nodes[size_t(prod[size_t(in)])];
      if (dq.op != "DequantizeLinear" || g.value(in).dtype != DType::kFloat32) continue;
      dq.outputs[0] = c.outputs[0];
      dq.attrs.set("output_dtype", int64_t(DType::kFloat16));
      remove[i] = 1;
    } else if (is_cast_to(c, DType::kFloat32) && g.value(in).dtype == DType::kFloat16) {
      const int out = c.outputs[0];
      bool only_quantizers = !opt::is_graph_output(g, out) && !readers[size_t(out)].empty();
      for (int r : readers[size_t(out)]) {
        const Node& q = g.nodes[size_t(r)];
        only_quantizers = only_quantizers && q.op == "QuantizeLinear" && q.inputs[0] == out &&
                          std::count(q.inputs.begin(), q.inputs.end(), out) == 1;
      }
      if (!only_quantizers) continue;
      for (int r : readers[size_t(out)]) g.nodes[size_t(r)].inputs[0] = in;
      remove[i] = 1;
    }
  }
  opt::erase_nodes(g, remove);
  return int(std::count(remove.begin(), remove.end(), 1));
}

}  // namespace

// "" when no non-constant tensor of `n` was observed beyond kFp16SafeRange, else the reason naming it.
static std::string out_of_range(const Node& n, const Graph& g, const std::map<std::string, float>& ranges) {
  for (const std::vector<int>* ids : {&n.inputs, &n.outputs})
    for (int id : *ids) {
      if (id < 0 || g.value(id).constant) continue;
      auto it = ranges.find(g.value(id).name);
      if (it != ranges.end() && !(it->second <= kFp16SafeRange))
        return "tensor '" + it->first + "' reaches " + std::to_string(it->second) +
               " on the calibration samples, beyond float16's safe range";
    }
  return "";
}

Fp16Report apply_fp16_policy(Graph& g, IoPrecision io, const std::map<std::string, float>& ranges) {
  Fp16Report report;
  Rewriter rw(g);
  std::set<int> lowered;  // values whose dtype this stage changed to float16

  if (io == IoPrecision::kFloat16)
    for (int id : g.inputs)
      if (g.value(id).dtype == DType::kFloat32) {
        g.value(id).dtype = DType::kFloat16;
        lowered.insert(id);
      }

  std::vector<Node> out;
  out.reserve(g.nodes.size() * 2);
  const std::vector<Node> nodes = g.nodes;
  for (Node n : nodes) {
    if (all_outputs_constant(n, g)) {  // folded: its outputs are constants, nothing runs
      out.push_back(std::move(n));
      continue;
    }
    Fp16Decision d;
    d.node = n.name;
    const Fp16Role role = n.op == "FusedElementwise" ? fused_role(n) : op_traits(n.op).fp16;
    bool fp16 = false;
    if (role != Fp16Role::kFloat32Only) {
      bool has_half_input = false;
      for (int id : n.inputs)
        if (id >= 0 && !g.value(id).constant && g.value(id).dtype == DType::kFloat16) has_half_input = true;
      std::string why = constants_fit(n, g);
      if (why.empty() && n.op == "Gemm") why = gemm_form_ok(n, g);
      if (role == Fp16Role::kFollower && !has_half_input) why = "no float16 input";
      if (why.empty() && !ranges.empty()) {
        why = out_of_range(n, g, ranges);
        d.range_guard = !why.empty();
      }
      fp16 = why.empty();
      d.reason = why;
    }
    if (fp16) {
      for (int& id : n.inputs) {
        if (id < 0 || g.value(id).dtype != DType::kFloat32) continue;
        id = g.value(id).constant ? rw.half_constant(id) : rw.as_dtype(id, DType::kFloat16, out);
      }
      for (int o : n.outputs)
        if (o >= 0 && g.value(o).dtype == DType::kFloat32) {
          g.value(o).dtype = DType::kFloat16;
          lowered.insert(o);
        }
      ++report.fp16_nodes;
    } else {
      for (int& id : n.inputs)
        if (id >= 0 && lowered.count(id)) id = rw.as_dtype(id, DType::kFloat32, out);
    }
    d.fp16 = fp16;
    report.decisions.push_back(d);
    out.push_back(std::move(n));
  }

  // Graph outputs: float32 unless --io-half. The producer writes a renamed value; a Cast fills the named output.
  for (int o : g.outputs) {
    Value& v = g.value(o);
    if (v.constant) continue;
    bool is_input = false;
    for (int i : g.inputs) is_input = is_input || i == o;
    if (is_input) continue;
    DType want;
    if (lowered.count(o) && io == IoPrecision::kFloat32) want = DType::kFloat32;
    else if (!lowered.count(o) && v.dtype == DType::kFloat32 && io == IoPrecision::kFloat16) want = DType::kFloat16;
    else continue;
    Value inner;
    inner.name = g.unique_name(v.name + (v.dtype == DType::kFloat16 ? "/fp16" : "/fp32"));
    inner.dtype = v.dtype;
    inner.shape = v.shape;
    const int id = g.add_value(std::move(inner));
    for (Node& n : out) {
      for (int& i : n.inputs)
        if (i == o) i = id;
      for (int& i : n.outputs)
        if (i == o) i = id;
    }
    g.value(o).dtype = want;
    out.push_back(rw.make_cast(id, o, want));
  }

  g.nodes = std::move(out);
  report.casts_inserted = rw.casts_inserted - fold_qdq_casts(g);
  g.remove_unused_values();  // float32 originals of converted weights
  infer_shapes(g);  // checks every node's dtypes agree after the rewrite
  return report;
}

}  // namespace trtcore
