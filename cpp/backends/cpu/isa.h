// Instruction-set levels of the cpu kernels. The hot kernels (GEMM, convolutions, pooling, the vec_math users;
// cpu_kernels.cmake lists them) are compiled once per level into the namespace trtcore::cpu::<level>, and
// isa_dispatch.cpp picks one level at run time from CPUID (TRTCORE_CPU_ISA overrides it). Everything else in the
// cpu backend is compiled once, for the baseline of the target architecture.
//
// A level's code is compiled between TRTCORE_CPU_NAMESPACE_BEGIN and TRTCORE_CPU_NAMESPACE_END, which open its
// namespace and switch the compiler's target options there (GCC's target pragma, clang's attribute push) rather
// than for the whole file: standard and core headers, included before, then stay baseline code, so no inline
// function or template shared with baseline code is ever emitted with AVX instructions. Consequently no #include
// may appear between BEGIN and END.
#pragma once

// Set by the build for each level's objects: TRTCORE_CPU_ISA (the namespace) and TRTCORE_CPU_LEVEL_<NAME>.
#if defined(TRTCORE_CPU_LEVEL_AVX512)
#define TRTCORE_CPU_AVX2 1
#define TRTCORE_CPU_AVX512 1
#define TRTCORE_CPU_TARGET "avx,avx2,fma,bmi,bmi2,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512cd"
#elif defined(TRTCORE_CPU_LEVEL_AVX2)
#define TRTCORE_CPU_AVX2 1
#define TRTCORE_CPU_AVX512 0
#define TRTCORE_CPU_TARGET "avx,avx2,fma,bmi,bmi2,popcnt"
#else
#define TRTCORE_CPU_AVX2 0
#define TRTCORE_CPU_AVX512 0
#endif

#define TRTCORE_CPU_PRAGMA_STR(x) _Pragma(#x)
#define TRTCORE_CPU_PRAGMA(x) TRTCORE_CPU_PRAGMA_STR(x)  // expands TRTCORE_CPU_TARGET inside x first
#if defined(TRTCORE_CPU_TARGET) && defined(__clang__)
#define TRTCORE_CPU_TARGET_PUSH \
  TRTCORE_CPU_PRAGMA(clang attribute push(__attribute__((target(TRTCORE_CPU_TARGET))), apply_to = function))
#define TRTCORE_CPU_TARGET_POP TRTCORE_CPU_PRAGMA(clang attribute pop)
#elif defined(TRTCORE_CPU_TARGET) && defined(__GNUC__)
#define TRTCORE_CPU_TARGET_PUSH TRTCORE_CPU_PRAGMA(GCC push_options) TRTCORE_CPU_PRAGMA(GCC target(TRTCORE_CPU_TARGET))
#define TRTCORE_CPU_TARGET_POP TRTCORE_CPU_PRAGMA(GCC pop_options)
#else
#define TRTCORE_CPU_TARGET_PUSH
#define TRTCORE_CPU_TARGET_POP
#endif

#if defined(TRTCORE_CPU_ISA)
#define TRTCORE_CPU_NAMESPACE_BEGIN \
  TRTCORE_CPU_TARGET_PUSH namespace trtcore::cpu { inline namespace TRTCORE_CPU_ISA {
#define TRTCORE_CPU_NAMESPACE_END \
  }                               \
  }                               \
  TRTCORE_CPU_TARGET_POP
#else
// Baseline-only files that include a level header (strided.h, sgemm.h) see its declarations in trtcore::cpu.
#define TRTCORE_CPU_NAMESPACE_BEGIN namespace trtcore::cpu {
#define TRTCORE_CPU_NAMESPACE_END }
#endif
