// pool_before_quantize: the INT8 policy moves a quantizer in front of MaxPool (TensorRT's placement) so that the
// pool reads the 8-bit tensor an int8 convolution writes. Where no int8 kernel took that quantizer in (its input is
// still float: the 3-channel stem on cuda runs in float), the standalone quantizer would read and write the
// unpooled tensor; pooling the float tensor first and quantizing the pooled one gives the same values (max commutes
// with a non-decreasing quantizer) and moves a quarter of the elements through the quantizer.
#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {
namespace {

bool float_type(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

}  // namespace

void pool_before_quantize(Graph& g, const PassContext& ctx) {
  if (ctx.caps.int8_weights) return;  // a backend that takes the Q/DQ graph as it is places its own quantizers
  bool moved = false;
  for (bool changed = true; changed;) {
    changed = false;
    const std::vector<std::vector<int>> readers = consumer_lists(g);
    for (size_t i = 0; i < g.nodes.size() && !changed; ++i) {
      Node& q = g.nodes[i];
      if (!monotonic_quantizer(g, q) || !float_type(g.value(q.inputs[0]).dtype)) continue;
      const int qv = q.outputs[0];
      if (is_graph_output(g, qv) || readers[size_t(qv)].size() != 1) continue;
      Node& pool = g.nodes[size_t(readers[size_t(qv)][0])];
      if (pool.op != "MaxPool" || pool.inputs[0] != qv || (pool.outputs.size() > 1 && pool.outputs[1] >= 0)) continue;
      // float -> MaxPool -> pooled (float) -> Q -> the pool's old 8-bit output
      const int u = q.inputs[0], out = pool.outputs[0];
      Value pooled;
      pooled.name = g.unique_name(g.value(u).name + "_pooled");
      pooled.dtype = g.value(u).dtype;
      pooled.shape = g.value(out).shape;
      const int pv = g.add_value(std::move(pooled));
      pool.inputs[0] = u;
      pool.outputs[0] = pv;
      q.inputs[0] = pv;
      q.outputs[0] = out;
      moved = changed = true;
    }
  }
  if (moved) {
    g.topo_sort();
    g.remove_unused_values();
  }
}

}  // namespace trtcore::opt
