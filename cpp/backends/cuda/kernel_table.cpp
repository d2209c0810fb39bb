// The cuda kernel table: one X(Op) per op with a GPU kernel. Adding an op = its .cu file + one line here.
// (An explicit list, not weak symbols or static registrars: objects in a static library are linked only when
// something references them.)
#include "backends/cuda/cuda_kernel.h"

#define TRTCORE_CUDA_OPS(X) \
  X(Conv) X(Gemm) X(MatMul) \
  X(MaxPool) X(AveragePool) X(GlobalAveragePool) X(GlobalMaxPool) \
  X(Softmax) X(LogSoftmax) X(Concat) X(BatchNormalization) X(LRN) \
  X(ReduceSum) X(ReduceMean) X(ReduceMax) \
  X(Reshape) X(Flatten) X(Squeeze) X(Unsqueeze) X(Identity) X(Dropout) \
  X(Relu) X(LeakyRelu) X(Clip) X(Sigmoid) X(HardSigmoid) X(HardSwish) X(Tanh) X(Exp) X(Log) X(Sqrt) X(Neg) \
  X(Abs) X(Floor) X(Ceil) X(Reciprocal) X(Erf) X(Not) X(PRelu) \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Equal) X(Less) X(Greater) X(Sum) X(Mean) X(Min) X(Max) X(Where) \
  X(Transpose) X(Slice) X(Pad) X(DepthToSpace) X(Gather) X(Cast) X(Split) X(Expand) X(Tile) \
  X(ConvTranspose) X(Resize) X(Upsample) X(FusedElementwise) X(QuantizeLinear) X(DequantizeLinear) X(QConv)

#define TRTCORE_DECLARE_CUDA(Name) std::unique_ptr<::trtcore::cuda::CudaKernel> make_cuda_##Name();
TRTCORE_CUDA_OPS(TRTCORE_DECLARE_CUDA)
#undef TRTCORE_DECLARE_CUDA

namespace trtcore::cuda {

const std::vector<KernelDef>& all_cuda_kernels() {
  static const std::vector<KernelDef> table = [] {
    std::vector<KernelDef> t;
#define TRTCORE_CUDA_ENTRY(Name) t.push_back(KernelDef{#Name, &::make_cuda_##Name});
    TRTCORE_CUDA_OPS(TRTCORE_CUDA_ENTRY)
#undef TRTCORE_CUDA_ENTRY
    return t;
  }();
  return table;
}

const KernelDef* find_cuda_kernel(const std::string& op) {
  for (const KernelDef& d : all_cuda_kernels())
    if (op == d.op) return &d;
  return nullptr;
}

}  // namespace trtcore::cuda
