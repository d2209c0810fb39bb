// Picks the instruction-set level of the cpu kernels at run time (CPUID through the compiler's cpu-feature
// builtins) so one build runs on any cpu of its architecture and uses AVX2 / AVX-512 where present.
#include "backends/cpu/isa_dispatch.h"

#include <cstdlib>

#include "backends/cpu/level_ops.h"
#include "trtcore/error.h"

// Each compiled level's table (level_table.cpp, compiled once per level).
#define TRTCORE_DECLARE_LEVEL_TABLE(ns) \
  namespace trtcore::cpu::ns {          \
  const std::vector<KernelDef>& level_kernels(); \
  }
#if defined(TRTCORE_CPU_HAS_BASELINE)
TRTCORE_DECLARE_LEVEL_TABLE(baseline)
#endif
#if defined(TRTCORE_CPU_HAS_AVX2)
TRTCORE_DECLARE_LEVEL_TABLE(avx2)
#endif
#if defined(TRTCORE_CPU_HAS_AVX512)
TRTCORE_DECLARE_LEVEL_TABLE(avx512)
#endif
#undef TRTCORE_DECLARE_LEVEL_TABLE

namespace trtcore::cpu {
namespace {

constexpr IsaLevel kAllLevels[] = {IsaLevel::kBaseline, IsaLevel::kAvx2, IsaLevel::kAvx512};

const std::vector<KernelDef>* level_table(IsaLevel level) {
  switch (level) {
#if defined(TRTCORE_CPU_HAS_BASELINE)
    case IsaLevel::kBaseline: return &baseline::level_kernels();
#endif
#if defined(TRTCORE_CPU_HAS_AVX2)
    case IsaLevel::kAvx2: return &avx2::level_kernels();
#endif
#if defined(TRTCORE_CPU_HAS_AVX512)
    case IsaLevel::kAvx512: return &avx512::level_kernels();
#endif
    default: return nullptr;
  }
}

bool detect(IsaLevel level) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
                    __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
                    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  switch (level) {
    case IsaLevel::kBaseline: return true;
    case IsaLevel::kAvx2: return avx2;
    case IsaLevel::kAvx512:
      return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512cd");
  }
  return false;
#else
  return level == IsaLevel::kBaseline;  // other architectures build one level
#endif
}

std::string usable_levels() {
  std::string s;
  for (IsaLevel l : compiled_isa_levels())
    if (cpu_supports(l)) s += std::string(s.empty() ? "" : ", ") + isa_level_name(l);
  return s.empty() ? "none" : s;
}

}  // namespace

const char* isa_level_name(IsaLevel level) {
  switch (level) {
    case IsaLevel::kBaseline: return "baseline";
    case IsaLevel::kAvx2: return "avx2";
    case IsaLevel::kAvx512: return "avx512";
  }
  return "unknown";
}

std::vector<IsaLevel> compiled_isa_levels() {
  std::vector<IsaLevel> out;
  for (IsaLevel l : kAllLevels)
    if (level_table(l)) out.push_back(l);
  return out;
}

bool cpu_supports(IsaLevel level) {
  static const bool supported[3] = {detect(IsaLevel::kBaseline), detect(IsaLevel::kAvx2), detect(IsaLevel::kAvx512)};
  return supported[int(level)];
}

bool cpu_has_avx512_vnni() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const bool vnni = cpu_supports(IsaLevel::kAvx512) && __builtin_cpu_supports("avx512vnni");
  return vnni;
#else
  return false;
#endif
}

IsaLevel active_isa_level() {
  const char* env = std::getenv("TRTCORE_CPU_ISA");
  const std::string wanted = env ? env : "";
  if (!wanted.empty() && wanted != "auto") {
    for (IsaLevel l : kAllLevels) {
      if (wanted != isa_level_name(l)) continue;
      if (!level_table(l))
        fail(ErrorKind::kInvalidArgument, "TRTCORE_CPU_ISA=", wanted, ": this build has no ", wanted,
             " kernels (usable here: ", usable_levels(), ")");
      if (!cpu_supports(l))
        fail(ErrorKind::kInvalidArgument, "TRTCORE_CPU_ISA=", wanted, ": this cpu does not run ", wanted,
             " instructions (usable here: ", usable_levels(), ")");
      return l;
    }
    fail(ErrorKind::kInvalidArgument, "TRTCORE_CPU_ISA='", wanted,
         "' is not a level (expected auto, baseline, avx2 or avx512; usable here: ", usable_levels(), ")");
  }
  const std::vector<IsaLevel> levels = compiled_isa_levels();
  for (auto it = levels.rbegin(); it != levels.rend(); ++it)
    if (cpu_supports(*it)) return *it;
  fail(ErrorKind::kUnsupported, "this cpu runs none of the instruction-set levels this build has (",
       levels.empty() ? std::string("none") : isa_level_name(levels.front()), " and up)");
}

std::string isa_description() {
  std::string compiled;
  for (IsaLevel l : compiled_isa_levels()) compiled += std::string(compiled.empty() ? "" : ", ") + isa_level_name(l);
  std::string s = std::string(isa_level_name(active_isa_level())) + " (compiled: " + compiled;
  if (active_isa_level() == IsaLevel::kAvx512) s += cpu_has_avx512_vnni() ? "; int8: vnni" : "; int8: no vnni";
  return s + ")";
}

std::unique_ptr<CpuKernel> make_cpu_kernel(const std::string& op, IsaLevel level) {
  if (const std::vector<KernelDef>* table = level_table(level))
    for (const KernelDef& d : *table)
      if (op == d.op) return d.make();
  for (const KernelDef& d : all_cpu_kernels())
    if (op == d.op) return d.make();
  return nullptr;
}

}  // namespace trtcore::cpu

// The generic table's entries for the per-level ops (kernel_table.cpp): the active level's kernel.
#define TRTCORE_DISPATCH_LEVEL_KERNEL(Name)                                                  \
  std::unique_ptr<::trtcore::cpu::CpuKernel> make_cpu_##Name() {                             \
    for (const ::trtcore::cpu::KernelDef& d : *::trtcore::cpu::level_table(::trtcore::cpu::active_isa_level())) \
      if (std::string(d.op) == #Name) return d.make();                                       \
    return nullptr;                                                                          \
  }
TRTCORE_CPU_LEVEL_OP_LIST(TRTCORE_DISPATCH_LEVEL_KERNEL)
#undef TRTCORE_DISPATCH_LEVEL_KERNEL
