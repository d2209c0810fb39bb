// FusedElementwise (internal): one thread per output element runs the node's program (same definitions as the cpu
// reference, cpp/ops/fused_elementwise.cpp). The program is the same for every thread, so its opcode and slot
// switches never diverge; every slot access uses a constant index, so the slots stay in registers. float32 or
// float16 storage, float math; the inputs are broadcast to the output with the shared Access helper.
#include <cuda_fp16.h>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/elementwise.cuh"
#include "ops/fused_elementwise.h"

namespace trtcore::cuda {
namespace {

constexpr int kInputs = int(kMaxEwInputs);
constexpr int kInstrs = int(kMaxEwInstructions);
constexpr int kSlots = kInputs + kInstrs;  // device slots: inputs at 0.., instruction k's result at kInputs + k

struct DeviceInstr {
  int32_t op, a, b;  // a/b: device slot, or kEwImmediate
  float alpha, beta;
};

struct DeviceProgram {
  int32_t num_inputs = 0, num_instrs = 0;
  DeviceInstr code[kInstrs];
};

template <class T>
struct DeviceOperands {
  const T* ptr[kInputs];
  Access access[kInputs];
};

// A case per slot: the register array is only ever indexed by constants.
#define TRTCORE_EW_READ(j) case j: return r[j];
__device__ __forceinline__ float read_slot(int32_t s, const float (&r)[kSlots], float immediate) {
  switch (s) {
    TRTCORE_EW_READ(0) TRTCORE_EW_READ(1) TRTCORE_EW_READ(2) TRTCORE_EW_READ(3) TRTCORE_EW_READ(4)
    TRTCORE_EW_READ(5) TRTCORE_EW_READ(6) TRTCORE_EW_READ(7) TRTCORE_EW_READ(8) TRTCORE_EW_READ(9)
    TRTCORE_EW_READ(10) TRTCORE_EW_READ(11) TRTCORE_EW_READ(12) TRTCORE_EW_READ(13) TRTCORE_EW_READ(14)
    TRTCORE_EW_READ(15) TRTCORE_EW_READ(16) TRTCORE_EW_READ(17) TRTCORE_EW_READ(18) TRTCORE_EW_READ(19)
    TRTCORE_EW_READ(20) TRTCORE_EW_READ(21) TRTCORE_EW_READ(22) TRTCORE_EW_READ(23)
    default: return immediate;
  }
}
#undef TRTCORE_EW_READ
static_assert(kSlots == 24, "read_slot and write_result list every slot");

#define TRTCORE_EW_WRITE(k) case k: r[kInputs + k] = v; break;
__device__ __forceinline__ void write_result(int k, float (&r)[kSlots], float v) {
  switch (k) {
    TRTCORE_EW_WRITE(0) TRTCORE_EW_WRITE(1) TRTCORE_EW_WRITE(2) TRTCORE_EW_WRITE(3) TRTCORE_EW_WRITE(4)
    TRTCORE_EW_WRITE(5) TRTCORE_EW_WRITE(6) TRTCORE_EW_WRITE(7) TRTCORE_EW_WRITE(8) TRTCORE_EW_WRITE(9)
    TRTCORE_EW_WRITE(10) TRTCORE_EW_WRITE(11) TRTCORE_EW_WRITE(12) TRTCORE_EW_WRITE(13) TRTCORE_EW_WRITE(14)
    TRTCORE_EW_WRITE(15)
    default: break;
  }
}
#undef TRTCORE_EW_WRITE

__device__ __forceinline__ float apply_op(int32_t op, float a, float b, float alpha, float beta) {
  switch (EwOp(op)) {
    case EwOp::kRelu: return a < 0.f ? 0.f : a;  // NaN propagates, as on the cpu
    case EwOp::kLeakyRelu: return a >= 0.f ? a : alpha * a;
    case EwOp::kClip: {  // comparisons, not fminf/fmaxf, so NaN propagates as on the cpu
      const float y = a < alpha ? alpha : a;
      return y > beta ? beta : y;
    }
    case EwOp::kSigmoid: return 1.f / (1.f + expf(-a));
    case EwOp::kHardSigmoid: return fmaxf(0.f, fminf(1.f, alpha * a + beta));
    case EwOp::kHardSwish: return a * fmaxf(0.f, fminf(1.f, a / 6.f + 0.5f));
    case EwOp::kTanh: return tanhf(a);
    case EwOp::kExp: return expf(a);
    case EwOp::kLog: return logf(a);
    case EwOp::kSqrt: return sqrtf(a);
    case EwOp::kNeg: return -a;
    case EwOp::kAbs: return fabsf(a);
    case EwOp::kFloor: return floorf(a);
    case EwOp::kCeil: return ceilf(a);
    case EwOp::kReciprocal: return 1.f / a;
    case EwOp::kErf: return erff(a);
    case EwOp::kAdd: return a + b;
    case EwOp::kSub: return a - b;
    case EwOp::kMul: return a * b;
    case EwOp::kDiv: return a / b;
    case EwOp::kPow: return powf(a, b);
    case EwOp::kMin: return b < a ? b : a;
    case EwOp::kMax: return b > a ? b : a;
    default: return a;
  }
}

template <class T>
__global__ void fused_elementwise_kernel(const __grid_constant__ DeviceOperands<T> ops,
                                         const __grid_constant__ DeviceProgram prog, T* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float r[kSlots];
#pragma unroll
    for (int j = 0; j < kSlots; ++j) r[j] = 0.f;
#pragma unroll
    for (int j = 0; j < kInputs; ++j)
      if (j < prog.num_inputs) r[j] = load_float(ops.ptr[j][ops.access[j](i)]);
    float last = 0.f;
    for (int k = 0; k < prog.num_instrs; ++k) {
      const DeviceInstr& ins = prog.code[k];
      const float a = read_slot(ins.a, r, ins.alpha);
      const float b = read_slot(ins.b, r, ins.beta);
      last = apply_op(ins.op, a, b, ins.alpha, ins.beta);
      write_result(k, r, last);
    }
    y[i] = store_as<T>(last);
  }
}

class FusedElementwiseKernel : public CudaKernel {
 public:
  std::string check(const Node& node, const Graph& g) const override {
    std::string why = check_dtypes(node, g, {DType::kFloat32, DType::kFloat16});
    if (!why.empty()) return why;
    const DType t = g.value(node.outputs.at(0)).dtype;
    for (int id : node.inputs)
      if (id < 0 || g.value(id).dtype != t) return "every input must be present and of the output's type";
    if (node.inputs.size() > kMaxEwInputs) return "more inputs than the cuda kernel holds in registers";
    if (g.value(node.outputs[0]).shape.size() > size_t(kMaxRank)) return "output rank above " + std::to_string(kMaxRank);
    try {
      if (EwProgram::from(node).code.size() > kMaxEwInstructions)
        return "more instructions than the cuda kernel holds in registers";
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  // Elementwise over the whole buffer when nothing is broadcast except scalars: any storage layout.
  LayoutRule layout_rule(const Node& node, const Graph& g) const override {
    const Shape& out = g.value(node.outputs[0]).shape;
    if (node.inputs.empty() || g.value(node.inputs[0]).shape != out) return LayoutRule::kNchwOnly;
    for (size_t k = 1; k < node.inputs.size(); ++k)
      if (numel(g.value(node.inputs[k]).shape) != 1) return LayoutRule::kNchwOnly;
    return LayoutRule::kSameLayout;
  }

  std::string precision() const override { return storage_ == DType::kFloat16 ? "fp16" : "fp32"; }

  void init(const Node& node, const Graph& g, CudaInitContext&) override {
    where_ = node.describe();
    storage_ = g.value(node.outputs[0]).dtype;
    const EwProgram p = EwProgram::from(node);
    const int32_t n_in = int32_t(node.inputs.size());
    if (n_in > kInputs || p.code.size() > size_t(kInstrs))
      fail(ErrorKind::kUnsupported, where_, ": program too large for the cuda kernel");
    // Node slots (inputs, then results) become device slots (results start at kInputs).
    auto device_slot = [&](int32_t s) { return s == kEwImmediate || s < n_in ? s : kInputs + (s - n_in); };
    prog_.num_inputs = n_in;
    prog_.num_instrs = int32_t(p.code.size());
    for (size_t k = 0; k < p.code.size(); ++k) {
      const EwInstr& in = p.code[k];
      // A unary op's b is never used: point it at the immediate so the read costs nothing.
      prog_.code[k] = DeviceInstr{int32_t(in.op), device_slot(in.a), ew_is_binary(in.op) ? device_slot(in.b) : kEwImmediate,
                                  in.alpha, in.beta};
    }
  }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CudaRunContext& ctx) override {
    const TensorView& y = out[0];
    const int64_t n = y.numel();
    if (n == 0) return;
    if (y.dtype == DType::kFloat16) launch<__half>(in, y, n, ctx.stream);
    else launch<float>(in, y, n, ctx.stream);
  }

 private:
  template <class T>
  void launch(const std::vector<TensorView>& in, const TensorView& y, int64_t n, cudaStream_t stream) const {
    DeviceOperands<T> ops{};
    for (size_t k = 0; k < in.size(); ++k) {
      ops.ptr[k] = in[k].as<T>();
      ops.access[k] = make_access(in[k].shape, y.shape, where_);
    }
    fused_elementwise_kernel<T><<<grid_for(n), kBlockSize, 0, stream>>>(ops, prog_, y.as<T>(), n);
    TRTCORE_CUDA_LAUNCH_CHECK(where_, fused_elementwise_kernel<T>);
  }

  std::string where_;
  DType storage_ = DType::kFloat32;
  DeviceProgram prog_;
};

}  // namespace
}  // namespace trtcore::cuda

TRTCORE_CUDA_KERNEL_FACTORY(FusedElementwise, trtcore::cuda::FusedElementwiseKernel)
