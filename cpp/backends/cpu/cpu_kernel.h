// The cpu backend's kernel interface: the plain, obviously correct reference every other backend is tested against.
// One file per op (or small family) under cpp/backends/cpu/; kernel_table.cpp lists them all.
#pragma once
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/isa.h"
#include "trtcore/error.h"
#include "trtcore/graph.h"
#include "trtcore/tensor.h"

namespace trtcore::cpu {

struct CpuContext {
  int threads = 1;  // OpenMP threads to use
};

class CpuKernel {
 public:
  virtual ~CpuKernel() = default;
  // Called once at build/load with the node and graph (constant inputs such as weights are visible here:
  // pre-pack them). Shapes in `g` are those of the maximum batch.
  virtual void init(const Node& node, const Graph& g) { (void)node; (void)g; }
  // Inputs/outputs carry the shapes of this run (batch may be below the maximum); absent optional inputs have
  // data == nullptr. Output buffers are preallocated with the inferred shapes.
  virtual void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) = 0;
};

// For kernels that compute in float32 only (Conv, ConvTranspose, Gemm, MatMul, BatchNormalization, Softmax): every present input (weights and bias included, or their bytes would be
// read as floats) must be float32. Throws kUnsupported naming the node and the input.
inline void require_float32_inputs(const Node& node, const Graph& g) {
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] < 0) continue;
    const Value& v = g.value(node.inputs[i]);
    if (v.dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, node.describe(), ": the cpu backend runs ", node.op, " in float32 only; input ", i,
           " '", v.name, "' is ", dtype_name(v.dtype));
  }
}

using KernelFactory = std::unique_ptr<CpuKernel> (*)();

struct KernelDef {
  const char* op;
  KernelFactory make;
};

const KernelDef* find_cpu_kernel(const std::string& op);
const std::vector<KernelDef>& all_cpu_kernels();

// memcpy/memset for tensor data: an empty tensor's storage may be null, which the C library forbids even for 0 bytes.
inline void copy_bytes(void* dst, const void* src, size_t n) {
  if (n) std::memcpy(dst, src, n);
}
inline void fill_bytes(void* dst, int value, size_t n) {
  if (n) std::memset(dst, value, n);
}

// Runs one node on constant inputs (constant folding): returns its outputs. The runtime hands it to import and
// optimize as their NodeEvaluator.
std::vector<Tensor> evaluate_node(const Node& node, const Graph& g);

}  // namespace trtcore::cpu

// Helper for kernel files: `TRTCORE_CPU_KERNEL_FACTORY(Relu, ReluKernel)` defines make_cpu_Relu(), in the level's
// namespace for the kernels compiled once per instruction-set level (level_table.cpp lists those).
#if defined(TRTCORE_CPU_ISA)
#define TRTCORE_CPU_KERNEL_FACTORY(OpName, Class)                                                     \
  TRTCORE_CPU_NAMESPACE_BEGIN                                                                         \
  std::unique_ptr<CpuKernel> make_cpu_##OpName() { return std::make_unique<Class>(); } \
  TRTCORE_CPU_NAMESPACE_END
#else
#define TRTCORE_CPU_KERNEL_FACTORY(OpName, Class) \
  std::unique_ptr<::trtcore::cpu::CpuKernel> make_cpu_##OpName() { return std::make_unique<Class>(); }
#endif
