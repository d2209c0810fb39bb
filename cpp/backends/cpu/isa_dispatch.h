// Run-time choice of the cpu kernels' instruction-set level (isa.h): the best level this build has and this cpu
// runs, unless the environment variable TRTCORE_CPU_ISA names another (baseline, avx2, avx512).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_kernel.h"

namespace trtcore::cpu {

enum class IsaLevel { kBaseline, kAvx2, kAvx512 };

const char* isa_level_name(IsaLevel level);
// Levels compiled into this build, lowest first.
std::vector<IsaLevel> compiled_isa_levels();
// Whether this cpu (and its operating system) runs a level's instructions.
bool cpu_supports(IsaLevel level);
// The level new kernels use: TRTCORE_CPU_ISA where set (an unknown, absent or unsupported level is an error that
// says which levels are usable here), otherwise the best compiled level this cpu runs.
IsaLevel active_isa_level();
// "avx512 (compiled: baseline, avx2, avx512; int8 dot products: vnni)", for --version, inspect and verbose output.
std::string isa_description();
// AVX-512 VNNI (vpdpbusd), used by the int8 GEMM of the avx512 level where present.
bool cpu_has_avx512_vnni();

// A new kernel for `op` from `level`'s table where that level compiles it, from the baseline-only table
// otherwise; null when the cpu backend has no kernel for the op.
std::unique_ptr<CpuKernel> make_cpu_kernel(const std::string& op, IsaLevel level);

}  // namespace trtcore::cpu
