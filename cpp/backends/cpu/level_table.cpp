// One level's kernel table (compiled once per instruction-set level, like the kernels it lists).
#include <memory>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/isa.h"
#include "backends/cpu/level_ops.h"

TRTCORE_CPU_NAMESPACE_BEGIN

#define TRTCORE_DECLARE_LEVEL_KERNEL(Name) std::unique_ptr<CpuKernel> make_cpu_##Name();
TRTCORE_CPU_LEVEL_OP_LIST(TRTCORE_DECLARE_LEVEL_KERNEL)
#undef TRTCORE_DECLARE_LEVEL_KERNEL

const std::vector<KernelDef>& level_kernels() {
  static const std::vector<KernelDef> table = [] {
    std::vector<KernelDef> t;
#define TRTCORE_LEVEL_ENTRY(Name) t.push_back(KernelDef{#Name, &make_cpu_##Name});
    TRTCORE_CPU_LEVEL_OP_LIST(TRTCORE_LEVEL_ENTRY)
#undef TRTCORE_LEVEL_ENTRY
    return t;
  }();
  return table;
}

TRTCORE_CPU_NAMESPACE_END
