// fuse_conv_residual: Add(conv(x), r) becomes one Conv with r as its 4th (residual) input, so backends compute
// act(conv(x) + bias + r) in one kernel (ResNet's shortcut).
#include <vector>

#include "optimize/pass_util.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

void fuse_conv_residual(Graph& g, const PassContext& ctx) {
  if (!ctx.caps.conv_residual) return;
  std::vector<int> consumers = g.consumer_counts();
  std::vector<int> prod = g.producers();
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& add = g.nodes[i];
    if (!(add.op == "Add" || add.op == "Sum") || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    const int out = add.outputs[0];
    if (out < 0 || add.inputs[0] < 0 || add.inputs[1] < 0 || add.inputs[0] == add.inputs[1]) continue;
    for (int slot = 0; slot < 2; ++slot) {
      const int x = add.inputs[size_t(slot)], r = add.inputs[size_t(1 - slot)];
      const int p = prod[size_t(x)];
      if (p < 0 || remove[size_t(p)]) continue;
      Node& conv = g.nodes[size_t(p)];
      if (conv.op != "Conv" || has_fusion(conv) || conv.outputs.size() != 1 || conv.inputs.size() < 2) continue;
      // With one consumer (this Add), nothing downstream of the Conv can feed `r`: no cycle can form.
      if (consumers[size_t(x)] != 1 || g.value(r).is_constant()) continue;
      const Value& vx = g.value(x);
      const Value& vr = g.value(r);
      const Value& vo = g.value(out);
      if (vx.shape != vr.shape || vx.shape != vo.shape || vx.dtype != vr.dtype || vx.dtype != vo.dtype) continue;
      if (vx.dtype != DType::kFloat32 && vx.dtype != DType::kFloat16) continue;
      // Backends get an explicit (zero) bias so the residual is always input 3 next to a real bias.
      if (conv.inputs.size() < 3 || conv.inputs[2] < 0) {
        const Tensor* w = float_constant(g, conv.inputs[1]);
        if (!w || vx.shape.size() < 2) continue;
        const int64_t channels = vx.shape[1];  // read before add_float_constant grows g.values
        conv.inputs.resize(3, -1);
        conv.inputs[2] = add_float_constant(g, conv.name + "_bias", {channels},
                                            std::vector<float>(size_t(channels), 0.f));
      }
      conv.inputs.push_back(r);
      conv.outputs[0] = out;
      prod[size_t(out)] = p;
      prod[size_t(x)] = -1;
      consumers[size_t(x)] = 0;
      // The fused Conv reads `r`, which may be computed after the Conv's old position: move it to the Add's.
      std::swap(g.nodes[size_t(p)], g.nodes[i]);
      remove[size_t(p)] = 1;
      prod[size_t(out)] = int(i);
      break;
    }
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
