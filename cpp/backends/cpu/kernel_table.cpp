#include "backends/cpu/cpu_kernel.h"
#include "ops/op_list.h"

#define TRTCORE_DECLARE_CPU(Name) std::unique_ptr<::trtcore::cpu::CpuKernel> make_cpu_##Name();
TRTCORE_OP_LIST(TRTCORE_DECLARE_CPU)

namespace trtcore::cpu {

const std::vector<KernelDef>& all_cpu_kernels() {
  static const std::vector<KernelDef> table = [] {
    std::vector<KernelDef> t;
#define TRTCORE_CPU_ENTRY(Name) \
    t.push_back(KernelDef{#Name, &::make_cpu_##Name});
    TRTCORE_OP_LIST(TRTCORE_CPU_ENTRY)
#undef TRTCORE_CPU_ENTRY
    return t;
  }();
  return table;
}

const KernelDef* find_cpu_kernel(const std::string& op) {
  for (const KernelDef& d : all_cpu_kernels())
    if (op == d.op) return &d;
  return nullptr;
}

std::vector<Tensor> evaluate_node(const Node& node, const Graph& g) {
  const KernelDef* def = find_cpu_kernel(node.op);
  if (!def) fail(ErrorKind::kUnsupported, node.describe(), ": no cpu kernel to evaluate it");
  std::unique_ptr<CpuKernel> k = def->make();
  k->init(node, g);
  std::vector<TensorView> in, out;
  for (int id : node.inputs) {
    TensorView v;
    if (id >= 0) {
      const Value& val = g.value(id);
      if (!val.constant) fail(ErrorKind::kRuntime, node.describe(), ": input '", val.name, "' is not constant");
      v.dtype = val.dtype;
      v.shape = val.shape;
      v.data = const_cast<uint8_t*>(val.constant->bytes.data());
    }
    in.push_back(v);
  }
  std::vector<Tensor> results;
  results.reserve(node.outputs.size());
  for (int id : node.outputs) {
    if (id < 0) {
      results.emplace_back();  // absent optional output
      continue;
    }
    const Value& val = g.value(id);
    results.emplace_back(val.dtype, val.shape);
  }
  for (size_t k = 0; k < results.size(); ++k)
    out.push_back(node.outputs[k] < 0 ? TensorView{}
                                      : TensorView{results[k].dtype, results[k].shape, results[k].bytes.data()});
  CpuContext ctx;
  k->run(in, out, ctx);
  return results;
}

}  // namespace trtcore::cpu
