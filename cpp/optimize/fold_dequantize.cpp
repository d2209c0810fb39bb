// fold_dequantize: a DequantizeLinear of constant weights that no int8 kernel took is computed once into float32
// (or float16) weights (the optimizer keeps these nodes until lowering so int8 kernels can read the int8 tensors).
#include "ops/quant_params.h"
#include "optimize/pass_util.h"
#include "trtcore/half.h"
#include "trtcore/passes.h"

namespace trtcore::opt {

void fold_dequantize(Graph& g, const PassContext& ctx) {
  if (ctx.caps.int8_weights) return;
  std::vector<char> remove(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != "DequantizeLinear") continue;
    bool constant = true;
    for (int in : n.inputs) constant = constant && (in < 0 || g.value(in).is_constant());
    Value& out = g.value(n.outputs[0]);
    if (!constant || (out.dtype != DType::kFloat32 && out.dtype != DType::kFloat16)) continue;
    const Tensor& x = *g.value(n.inputs[0]).constant;
    const std::vector<float> scale = g.value(n.inputs[1]).constant->as_float();
    const bool has_zp = n.inputs.size() > 2 && n.inputs[2] >= 0;
    const std::vector<int64_t> zp = has_zp ? g.value(n.inputs[2]).constant->as_int64() : std::vector<int64_t>{0};
    const QuantAxis q = resolve_quant_axis(x.shape, g.value(n.inputs[1]).shape, n.attrs.get_int("axis", 1), n.describe());
    const std::vector<int64_t> xi = x.as_int64();
    Tensor y(out.dtype, x.shape);
    for (int64_t k = 0; k < x.numel(); ++k) {
      const int64_t c = q.channel_of(k);
      const float v = float(xi[size_t(k)] - zp[size_t(zp.size() == 1 ? 0 : c)]) * scale[size_t(c)];
      if (out.dtype == DType::kFloat16) y.data<uint16_t>()[k] = float_to_half(v);  // rounded once, as on the device
      else y.data<float>()[k] = v;
    }
    out.constant = std::make_shared<const Tensor>(std::move(y));
    remove[i] = 1;
  }
  erase_nodes(g, remove);
}

}  // namespace trtcore::opt
