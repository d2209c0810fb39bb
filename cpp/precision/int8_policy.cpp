// INT8 policy (see int8_policy.h). Placement follows TensorRT's recommendations: Q/DQ on the inputs of weighted
// ops only, never on their outputs; one shared pair per tensor so every reader sees the same scale; a quantizer
// after a MaxPool moves in front of it.
#include "precision/int8_policy.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "ops/op_registry.h"
#include "optimize/pass_util.h"
#include "trtcore/error.h"

namespace trtcore {
namespace {

// The axis of the output channels of a weighted node's constant weights, or -1 when the node is not quantizable.
int weight_axis(const Node& n, const Graph& g) {
  if (!op_traits(n.op).int8_weighted || n.inputs.size() < 2 || n.inputs[1] < 0) return -1;
  const Value& w = g.value(n.inputs[1]);
  if (!w.constant || w.dtype != DType::kFloat32 || g.value(n.inputs[0]).dtype != DType::kFloat32) return -1;
  if (n.op == "Conv") return w.shape.size() >= 3 ? 0 : -1;
  if (n.op == "Gemm") return w.shape.size() == 2 ? (n.attrs.get_int("transB", 0) ? 0 : 1) : -1;
  if (n.op == "MatMul") return w.shape.size() == 2 ? 1 : -1;
  return -1;
}

float scale_of(float amax) { return std::isfinite(amax) && amax > 0 ? amax / 127.f : 1.f; }

class Rewriter {
 public:
  Rewriter(Graph& g, const std::map<std::string, float>& scales) : g_(g), scales_(scales) {}

  // The dequantized stand-in of activation `v` (creating its Q/DQ pair once), or -1 without a scale.
  int dequantized(int v, std::vector<Node>& out) {
    auto it = dq_of_.find(v);
    if (it != dq_of_.end()) return it->second;
    const std::string name = g_.value(v).name;
    auto s = scales_.find(name);
    if (s == scales_.end()) return -1;
    const int scale = scalar(name + "_scale", s->second);
    Tensor zp(DType::kInt8, {});
    zp.data<int8_t>()[0] = 0;
    const int zero = g_.add_constant(g_.unique_name(name + "_zero_point"), std::move(zp));
    const int q = add_like(v, name + "_quantized", DType::kInt8);
    const int d = add_like(v, name + "_dequantized", DType::kFloat32);
    out.push_back(make("QuantizeLinear", name + "_QuantizeLinear", {v, scale, zero}, q));
    out.push_back(make("DequantizeLinear", name + "_DequantizeLinear", {q, scale, zero}, d));
    ++pairs_;
    return dq_of_[v] = d;
  }

  // int8 weights with per-channel scales along `axis`, behind a DequantizeLinear; returns the dequantized value.
  int quantized_weights(int w, int axis, std::vector<Node>& out, std::vector<float>* rounding = nullptr) {
    const Value& wv = g_.value(w);
    const Shape shape = wv.shape;
    const float* p = wv.constant->data<float>();
    const int64_t channels = shape[size_t(axis)];
    int64_t inner = 1;
    for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    std::vector<float> amax(size_t(channels), 0.f);
    for (int64_t i = 0; i < numel(shape); ++i) {
      const size_t c = size_t((i / inner) % channels);
      amax[c] = std::max(amax[c], std::fabs(p[i]));
    }
    Tensor q(DType::kInt8, shape), s(DType::kFloat32, {channels}), z(DType::kInt8, {channels});
    for (int64_t c = 0; c < channels; ++c) s.data<float>()[c] = scale_of(amax[size_t(c)]);
    std::fill(z.bytes.begin(), z.bytes.end(), 0);
    for (int64_t i = 0; i < numel(shape); ++i) {
      const float r = std::nearbyint(p[i] / s.data<float>()[(i / inner) % channels]);
      q.data<int8_t>()[i] = int8_t(std::clamp(r, -127.f, 127.f));
    }
    if (rounding) {  // what the int8 weights compute minus the float weights
      rounding->resize(size_t(numel(shape)));
      for (int64_t i = 0; i < numel(shape); ++i)
        (*rounding)[size_t(i)] = float(q.data<int8_t>()[i]) * s.data<float>()[(i / inner) % channels] - p[i];
    }
    const std::string name = wv.name;
    const int qi = g_.add_constant(g_.unique_name(name + "_int8"), std::move(q));
    const int si = g_.add_constant(g_.unique_name(name + "_scale"), std::move(s));
    const int zi = g_.add_constant(g_.unique_name(name + "_zero_point"), std::move(z));
    const int d = add_like(w, name + "_dequantized", DType::kFloat32);
    g_.value(d).constant = nullptr;
    Node dq = make("DequantizeLinear", name + "_DequantizeLinear", {qi, si, zi}, d);
    dq.attrs.set("axis", int64_t(axis));
    out.push_back(std::move(dq));
    return d;
  }

  int pairs() const { return pairs_; }

 private:
  int scalar(const std::string& base, float scale) {
    Tensor t(DType::kFloat32, {});
    t.data<float>()[0] = std::isfinite(scale) && scale > 0 ? scale : 1.f;  // Q/DQ consumers refuse scale <= 0
    return g_.add_constant(g_.unique_name(base), std::move(t));
  }
  int add_like(int v, const std::string& base, DType t) {
    Value nv;
    nv.name = g_.unique_name(base);
    nv.dtype = t;
    nv.shape = g_.value(v).shape;
    return g_.add_value(std::move(nv));
  }
  Node make(const std::string& op, const std::string& base, std::vector<int> ins, int out) {
    Node n;
    n.name = base;
    for (int i = 1; taken_.count(n.name) || g_.unique_name(n.name) != n.name; ++i)
      n.name = base + "_" + std::to_string(i);
    taken_.insert(n.name);
    n.op = op;
    n.inputs = std::move(ins);
    n.outputs = {out};
    return n;
  }

  Graph& g_;
  const std::map<std::string, float>& scales_;
  std::map<int, int> dq_of_;
  std::set<std::string> taken_;  // node names given out before the new node list replaces the graph's
  int pairs_ = 0;
};

// Bias correction (Nagel et al. 2019, "Data-Free Quantization", section 4.2): the int8 weights W_q compute
// y + (W_q - W) x; its expected value over the calibration samples, (W_q - W) E[x] with E[x] per input channel, is
// subtracted from the bias. Zero padding at the borders is ignored (the shift is the interior one). Returns whether
// `n` was corrected (Conv with any group; Gemm with alpha 1 and a bias per output, or none).
bool correct_bias(Graph& g, Node& n, const std::vector<float>& err, const Shape& w_shape,
                  const std::vector<float>& mean) {
  std::vector<double> shift;
  if (n.op == "Conv") {
    const int64_t outs = w_shape[0], cin_pg = w_shape[1], group = n.attrs.get_int("group", 1);
    const int64_t taps = int64_t(err.size()) / (outs * cin_pg), out_pg = outs / group;
    if (int64_t(mean.size()) != cin_pg * group) return false;
    shift.assign(size_t(outs), 0.0);
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t c = 0; c < cin_pg; ++c) {
        double e = 0;
        for (int64_t k = 0; k < taps; ++k) e += err[size_t((o * cin_pg + c) * taps + k)];
        shift[size_t(o)] += e * mean[size_t((o / out_pg) * cin_pg + c)];
      }
  } else if (n.op == "Gemm") {
    if (n.attrs.get_float("alpha", 1.f) != 1.f) return false;
    const bool trans_b = n.attrs.get_int("transB", 0) != 0;
    const int64_t ins = trans_b ? w_shape[1] : w_shape[0], outs = trans_b ? w_shape[0] : w_shape[1];
    if (int64_t(mean.size()) != ins) return false;
    shift.assign(size_t(outs), 0.0);
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t i = 0; i < ins; ++i)
        shift[size_t(o)] += double(err[size_t(trans_b ? o * ins + i : i * outs + o)]) * mean[size_t(i)];
  } else {
    return false;
  }
  const int64_t outs = int64_t(shift.size());
  std::vector<float> bias(size_t(outs), 0.f);
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  if (has_bias) {
    const Value& b = g.value(n.inputs[2]);
    if (!b.constant || b.dtype != DType::kFloat32 || b.constant->numel() != outs) return false;
    if (n.op == "Gemm" && n.attrs.get_float("beta", 1.f) != 1.f) return false;
    std::copy(b.constant->data<float>(), b.constant->data<float>() + outs, bias.begin());
  }
  for (int64_t o = 0; o < outs; ++o) bias[size_t(o)] -= float(shift[size_t(o)]);
  Tensor t(DType::kFloat32, {outs});
  std::copy(bias.begin(), bias.end(), t.data<float>());
  const std::string base = has_bias ? g.value(n.inputs[2]).name : n.name + "_bias";
  if (n.inputs.size() < 3) n.inputs.resize(3, -1);
  n.inputs[2] = g.add_constant(g.unique_name(base + "_corrected"), std::move(t));
  return true;
}

// TensorRT's move of a quantizer across MaxPool: max commutes with a monotonic per-tensor quantizer, so
// MaxPool -> Q becomes Q -> MaxPool on the 8-bit tensor (the same values), and the pool moves a quarter of the bytes.
int quantize_before_max_pools(Graph& g) {
  int moved = 0;
  for (bool changed = true; changed;) {
    changed = false;
    const std::vector<int> prod = g.producers();
    const std::vector<std::vector<int>> readers = opt::consumer_lists(g);
    for (Node& q : g.nodes) {
      if (!opt::monotonic_quantizer(g, q)) continue;
      const int v = q.inputs[0];
      if (prod[size_t(v)] < 0 || opt::is_graph_output(g, v) || readers[size_t(v)].size() != 1) continue;
      Node& pool = g.nodes[size_t(prod[size_t(v)])];
      if (pool.op != "MaxPool" || (pool.outputs.size() > 1 && pool.outputs[1] >= 0)) continue;
      const int u = pool.inputs[0], out = q.outputs[0];
      if (g.value(u).dtype != DType::kFloat32) continue;
      Value qv;
      qv.name = g.unique_name(g.value(u).name + "_quantized");
      qv.dtype = g.value(out).dtype;
      qv.shape = g.value(u).shape;
      const int qu = g.add_value(std::move(qv));
      q.inputs[0] = u;
      q.outputs[0] = qu;
      pool.inputs[0] = qu;
      pool.outputs[0] = out;
      ++moved;
      changed = true;
      break;  // producers and readers changed: look again
    }
  }
  if (moved) {
    g.topo_sort();
    g.remove_unused_values();
  }
  return moved;
}

}  // namespace

std::vector<std::string> int8_observed_tensors(const Graph& g) {
  std::vector<std::string> names;
  const auto add = [&](int v) {
    if (v >= 0 && !g.value(v).is_constant() &&
        std::find(names.begin(), names.end(), g.value(v).name) == names.end())
      names.push_back(g.value(v).name);
  };
  for (const Node& n : g.nodes) {
    if (weight_axis(n, g) < 0) continue;
    add(n.inputs[0]);
    if (n.op == "Conv" && n.inputs.size() > 3) add(n.inputs[3]);
  }
  return names;
}

Int8Report apply_int8_policy(Graph& g, const std::map<std::string, float>& scales, const Int8Options& opt) {
  Int8Report report;
  Rewriter rw(g, scales);
  std::vector<Node> nodes;
  std::vector<Node> old = g.nodes;  // the graph keeps its nodes meanwhile, so new names cannot collide with them
  for (Node& n : old) {
    const int axis = weight_axis(n, g);
    if (axis < 0) {
      nodes.push_back(std::move(n));
      continue;
    }
    Int8Decision d{n.name, false, "", Int8FloatCause::kNone};
    const bool sensitive =
        std::find(opt.sensitive_layers.begin(), opt.sensitive_layers.end(), n.name) != opt.sensitive_layers.end();
    const bool excluded = sensitive ||
        std::find(opt.exclude_layers.begin(), opt.exclude_layers.end(), n.name) != opt.exclude_layers.end();
    const int x = excluded ? -1 : rw.dequantized(n.inputs[0], nodes);
    if (excluded) {
      d.cause = sensitive ? Int8FloatCause::kSensitive : Int8FloatCause::kExcluded;
      d.reason = sensitive ? "among the " + std::to_string(opt.sensitive_layers.size()) +
                                 (opt.sensitive_layers.size() == 1 ? " layer" : " layers") +
                                 " most sensitive to INT8 (--int8-float-layers)"
                           : "excluded by --exclude-layers";
    } else if (x < 0) {
      d.cause = Int8FloatCause::kNoScale;
      d.reason = "no calibration scale for its input '" + g.value(n.inputs[0]).name + "'";
    } else {
      const std::string input_name = g.value(n.inputs[0]).name;
      const Shape w_shape = g.value(n.inputs[1]).shape;
      const std::vector<float>* mean = nullptr;
      if (opt.channel_means) {
        auto it = opt.channel_means->find(input_name);
        if (it != opt.channel_means->end()) mean = &it->second;
      }
      std::vector<float> rounding;
      n.inputs[0] = x;
      n.inputs[1] = rw.quantized_weights(n.inputs[1], axis, nodes, mean ? &rounding : nullptr);
      if (mean && correct_bias(g, n, rounding, w_shape, *mean)) ++report.bias_corrected;
      if (n.op == "Conv" && n.inputs.size() > 3 && n.inputs[3] >= 0) {
        const int r = rw.dequantized(n.inputs[3], nodes);
        if (r >= 0) n.inputs[3] = r;  // a residual without a scale stays float: still correct, only slower
      }
      d.int8 = true;
      ++report.int8_layers;
    }
    report.decisions.push_back(d);
    nodes.push_back(std::move(n));
  }
  g.nodes = std::move(nodes);
  report.qdq_pairs = rw.pairs();
  report.int8_max_pools = quantize_before_max_pools(g);
  return report;
}

}  // namespace trtcore
