// FusedElementwise (internal): evaluates the node's program per output element with the inputs broadcast
// numpy-style to the output. The plain reference: float math, float16 inputs/outputs converted around it.
#include "ops/fused_elementwise.h"
#include "backends/cpu/strided.h"

TRTCORE_CPU_NAMESPACE_BEGIN
namespace {

class FusedElementwiseKernel : public CpuKernel {
 public:
  void init(const Node& node, const Graph&) override { program_ = EwProgram::from(node); }

  void run(const std::vector<TensorView>& in, const std::vector<TensorView>& out, CpuContext& ctx) override {
    if (any_float16(in) || out[0].dtype == DType::kFloat16) {
      run_float16_as_float(in, out, ctx.threads, [&](const std::vector<TensorView>& i2,
                                                     const std::vector<TensorView>& o2) { run_float(i2, o2[0], ctx); });
      return;
    }
    run_float(in, out[0], ctx);
  }

 private:
  void run_float(const std::vector<TensorView>& in, const TensorView& y, CpuContext& ctx) const {
    const Shape& dims = y.shape;
    const size_t rank = dims.size(), n_in = in.size();
    std::vector<std::vector<int64_t>> strides(n_in);
    for (size_t k = 0; k < n_in; ++k) strides[k] = broadcast_strides(in[k].shape, dims);
    float* dst = y.as<float>();
    const int64_t total = y.numel();
    const int64_t cost = int64_t(program_.code.size()) + 1;
    parallel_ranges(ctx.threads, total, kTaskElements, total * cost, [&](int64_t begin, int64_t end) {
      // The multi-index of `begin`, then an odometer: operand offsets follow without a division per element.
      std::vector<int64_t> idx(rank, 0), off(n_in, 0);
      int64_t rem = begin;
      for (size_t a = rank; a-- > 0;) {
        idx[a] = rem % dims[a];
        rem /= dims[a];
        for (size_t k = 0; k < n_in; ++k) off[k] += idx[a] * strides[k][a];
      }
      std::vector<float> slots(n_in + program_.code.size());
      for (int64_t i = begin; i < end; ++i) {
        for (size_t k = 0; k < n_in; ++k) slots[k] = in[k].as<float>()[off[k]];
        dst[i] = evaluate(slots, n_in);
        for (size_t a = rank; a-- > 0;) {
          for (size_t k = 0; k < n_in; ++k) off[k] += strides[k][a];
          if (++idx[a] < dims[a]) break;
          for (size_t k = 0; k < n_in; ++k) off[k] -= idx[a] * strides[k][a];
          idx[a] = 0;
        }
      }
    });
  }

  // Runs the program over `slots` (inputs first, then one slot per instruction); returns the last result.
  float evaluate(std::vector<float>& slots, size_t n_in) const {
    float r = 0.f;
    for (size_t k = 0; k < program_.code.size(); ++k) {
      const EwInstr& ins = program_.code[k];
      if (ew_is_binary(ins.op)) {
        const float a = ins.a == kEwImmediate ? ins.alpha : slots[size_t(ins.a)];
        const float b = ins.b == kEwImmediate ? ins.beta : slots[size_t(ins.b)];
        r = ew_binary_ref(ins.op, a, b);
      } else {
        r = ew_unary_ref(ins.op, slots[size_t(ins.a)], ins.alpha, ins.beta);
      }
      slots[n_in + k] = r;
    }
    return r;
  }

  EwProgram program_;
};

}  // namespace
TRTCORE_CPU_NAMESPACE_END

TRTCORE_CPU_KERNEL_FACTORY(FusedElementwise, trtcore::cpu::FusedElementwiseKernel)
