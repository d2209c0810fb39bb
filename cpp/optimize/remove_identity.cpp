// remove_identity: nodes that hand their input through unchanged (Identity, inference Dropout, Cast to the same
// type, shape ops that keep the shape, single-input Concat) are rewired away.
#include "optimize/pass_util.h"
#include "trtcore/error.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

static bool is_shape_op(const std::string& op) {
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze";
}

// The input that the node passes through, or -1 when the node does real work.
static int pass_through_input(const Graph& g, const Node& n, const std::vector<int>& consumers,
                              const std::vector<Shape>* small_batch) {
  if (n.inputs.empty() || n.inputs[0] < 0 || n.outputs.empty() || n.outputs[0] < 0) return -1;
  const int in = n.inputs[0], out = n.outputs[0];
  for (size_t k = 1; k < n.outputs.size(); ++k) {
    const int extra = n.outputs[k];
    if (extra >= 0 && (consumers[size_t(extra)] > 0)) return -1;  // e.g. a Dropout mask someone reads
  }
  const Value& vi = g.value(in);
  const Value& vo = g.value(out);
  if (n.op == "Identity" || n.op == "Dropout") return in;
  if (vi.dtype != vo.dtype || vi.shape != vo.shape || vi.dtype == DType::kUndefined) return -1;
  if (n.op == "Cast") return in;
  if (n.op == "Concat") return n.inputs.size() == 1 ? in : -1;
  if (is_shape_op(n.op)) {
    // Same shape at the maximum batch could still differ at a smaller batch ([6,x] -> [6,-1] with batch 6).
    if (small_batch && (*small_batch)[size_t(in)] != (*small_batch)[size_t(out)]) return -1;
    if (g.has_batch_axis && g.max_batch > 1 && !small_batch) return -1;
    return in;
  }
  return -1;
}

void remove_identity(Graph& g, const PassContext&) {
  std::vector<Shape> small;
  bool have_small = false;
  if (g.has_batch_axis && g.max_batch > 1) {
    try {
      small = shapes_for_batch(g, 1);
      have_small = true;
    } catch (const Error&) {
      have_small = false;  // shape ops then stay: removing them is only safe when both batches agree
    }
  }
  std::vector<int> consumers = g.consumer_counts();  // graph outputs count as a consumer
  std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const int in = pass_through_input(g, n, consumers, have_small ? &small : nullptr);
    if (in < 0) continue;
    const int out = n.outputs[0];
    if (!is_graph_output(g, out)) {
      replace_uses(g, out, in);
      consumers[size_t(in)] += consumers[size_t(out)] - 1;
      consumers[size_t(out)] = 0;
      remove[i] = 1;
      continue;
    }
    // The graph output keeps its name: the producer of `in` writes `out` directly, when nothing else reads `in`.
    const int p = prod[size_t(in)];
    if (p < 0 || consumers[size_t(in)] != 1 || is_graph_output(g, in) || g.value(in).is_constant()) continue;
    for (int& o : g.nodes[size_t(p)].outputs)
      if (o == in) o = out;
    prod[size_t(out)] = p;
    prod[size_t(in)] = -1;
    consumers[size_t(in)] = 0;
    remove[i] = 1;
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
