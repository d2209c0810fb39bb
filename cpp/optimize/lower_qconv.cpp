// lower_qconv: DequantizeLinear(x_q) -> Conv(., DequantizeLinear(w_q)) [-> QuantizeLinear] becomes one QConv node
// (ops/qconv.cpp) that reads the int8 tensors directly and, when every reader of the Conv's output quantizes it with
// the same scale, writes the quantized output itself. Runs after the precision stage, for backends with int8 convs.
#include <cmath>

#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {
namespace {

// Dequantizations write float32, or float16 where the float layers around them run in FP16.
bool float_output(const Graph& g, const Node& dq) {
  const DType t = g.value(dq.outputs[0]).dtype;
  return t == DType::kFloat32 || t == DType::kFloat16;
}

bool constant_scalar(const Graph& g, int v) { return v >= 0 && g.value(v).is_constant() && numel(g.value(v).shape) == 1; }

// The DequantizeLinear producing `v` when it is a per-tensor dequantization of an 8-bit activation, else nullptr.
const Node* activation_dq(const Graph& g, const std::vector<int>& prod, int v) {
  if (v < 0 || prod[size_t(v)] < 0) return nullptr;
  const Node& dq = g.nodes[size_t(prod[size_t(v)])];
  if (dq.op != "DequantizeLinear" || !float_output(g, dq)) return nullptr;
  const DType t = g.value(dq.inputs[0]).dtype;
  if (t != DType::kInt8 && t != DType::kUInt8) return nullptr;
  if (!constant_scalar(g, dq.inputs[1])) return nullptr;
  if (dq.inputs.size() > 2 && dq.inputs[2] >= 0 && !constant_scalar(g, dq.inputs[2])) return nullptr;
  return &dq;
}

bool all_zero(const Tensor& t) {
  for (int64_t v : t.as_int64())
    if (v != 0) return false;
  return true;
}

// The DequantizeLinear of constant symmetric int8 weights (per tensor, or per output channel on axis 0).
const Node* weight_dq(const Graph& g, const std::vector<int>& prod, int v) {
  if (v < 0 || prod[size_t(v)] < 0) return nullptr;
  const Node& dq = g.nodes[size_t(prod[size_t(v)])];
  if (dq.op != "DequantizeLinear" || !float_output(g, dq)) return nullptr;
  const Value& w = g.value(dq.inputs[0]);
  if (!w.is_constant() || w.dtype != DType::kInt8 || w.shape.size() != 4) return nullptr;
  const Value& s = g.value(dq.inputs[1]);
  if (!s.is_constant() || s.dtype != DType::kFloat32) return nullptr;
  if (numel(s.shape) != 1 && !(numel(s.shape) == w.shape[0] && dq.attrs.get_int("axis", 1) == 0)) return nullptr;
  if (dq.inputs.size() > 2 && dq.inputs[2] >= 0) {
    const Value& z = g.value(dq.inputs[2]);
    if (!z.is_constant() || !all_zero(*z.constant)) return nullptr;
  }
  return &dq;
}

// The QuantizeLinear that every reader of `v` is (all with the same constant scale/zero point), or nullptr.
const Node* sole_quantizer(const Graph& g, const std::vector<std::vector<int>>& consumers, int v) {
  if (is_graph_output(g, v) || consumers[size_t(v)].empty()) return nullptr;
  const Node* first = nullptr;
  for (int c : consumers[size_t(v)]) {
    const Node& q = g.nodes[size_t(c)];
    if (q.op != "QuantizeLinear" || q.inputs[0] != v || !constant_scalar(g, q.inputs[1])) return nullptr;
    if (q.inputs.size() < 3 || !constant_scalar(g, q.inputs[2])) return nullptr;
    if (!first) {
      first = &q;
      continue;
    }
    const auto same = [&](size_t slot) {
      const Tensor& a = *g.value(first->inputs[slot]).constant;
      const Tensor& b = *g.value(q.inputs[slot]).constant;
      return a.dtype == b.dtype && a.bytes == b.bytes;
    };
    if (!same(1) || !same(2)) return nullptr;
  }
  return first;
}

// Whether a Conv is one tensor-core int8 convolutions run: ungrouped, input and output channels in fours, and a
// fused residual only when it is quantized too (`int8_residual`): the int8 kernels add an 8-bit residual (the int8
// GEMM as its C operand), a float one would keep a float tensor alive between int8 layers.
bool dense(const Graph& g, const Node& conv, bool int8_residual) {
  const Shape& w = g.value(conv.inputs[1]).shape;
  const bool residual = conv.inputs.size() > 3 && conv.inputs[3] >= 0;
  return w.size() == 4 && w[0] % 4 == 0 && w[1] % 4 == 0 && conv.attrs.get_int("group", 1) == 1 &&
         (!residual || int8_residual);
}

// A depthwise convolution (one input channel per group, as many outputs) between int8 tensors: one byte in and one
// out per element where the float form would dequantize to float16, convolve and quantize again (MobileNets'
// blocks), so it runs as an int8 QConv when its output is quantized too.
bool depthwise(const Graph& g, const Node& conv) {
  const Shape& w = g.value(conv.inputs[1]).shape;
  const int64_t group = conv.attrs.get_int("group", 1);
  const bool residual = conv.inputs.size() > 3 && conv.inputs[3] >= 0;
  return w.size() == 4 && group > 1 && w[1] == 1 && w[0] == group && !residual;
}

}  // namespace

void lower_qconv(Graph& g, const PassContext& ctx) {
  if (ctx.caps.int8_conv == Int8Convs::kNone) return;
  const std::vector<int> prod = g.producers();
  const std::vector<std::vector<int>> consumers = consumer_lists(g);
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (n.op != "Conv" || n.inputs.size() < 2 || g.value(n.inputs[0]).shape.size() != 4) continue;
    const Node* xdq = activation_dq(g, prod, n.inputs[0]);
    const Node* wdq = weight_dq(g, prod, n.inputs[1]);
    if (!xdq || !wdq) continue;
    const auto input = [](const Node& node, size_t k) { return k < node.inputs.size() ? node.inputs[k] : -1; };
    // a residual dequantized from 8 bits (the skip connection's shared quantizer) is read in its 8-bit form
    const Node* rdq = activation_dq(g, prod, input(n, 3));
    const Node* q = sole_quantizer(g, consumers, n.outputs[0]);
    if (ctx.caps.int8_conv == Int8Convs::kDense && !dense(g, n, rdq != nullptr) && !(q && depthwise(g, n))) continue;
    // a residual convolution writing float (ResNet's last block, before the pooling) has no fast int8 form: the int8
    // GEMM writes int8 only and the graph API offers no engine with both; it stays a float convolution
    if (ctx.caps.int8_conv == Int8Convs::kDense && input(n, 3) >= 0 && !q) continue;
    const int absent = -1;
    std::vector<int> ins = {xdq->inputs[0], xdq->inputs[1], input(*xdq, 2), wdq->inputs[0], wdq->inputs[1],
                            input(*wdq, 2), absent, absent, input(n, 2), input(n, 3)};
    if (rdq) {
      ins[9] = rdq->inputs[0];
      ins.push_back(rdq->inputs[1]);
      ins.push_back(input(*rdq, 2));
    }
    const int out = n.outputs[0];
    if (q) {
      ins[6] = q->inputs[1];
      ins[7] = q->inputs[2];
      // the QConv writes the first quantizer's output (keeping its name) and the readers of the others read it too
      const int qout = q->outputs[0];
      for (int c : consumers[size_t(out)]) {
        if (g.nodes[size_t(c)].outputs[0] != qout) replace_uses(g, g.nodes[size_t(c)].outputs[0], qout);
        remove[size_t(c)] = 1;
      }
      n.outputs[0] = qout;
    } else if (g.value(out).dtype == DType::kFloat16) {
      n.attrs.set("float_out", std::string("float16"));  // a plan's loader infers the stored type again
    }
    n.op = "QConv";
    n.inputs = ins;
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
