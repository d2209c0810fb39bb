// The ops whose cpu kernels are compiled once per instruction-set level (isa.h): the GEMM and convolution
// family, pooling, the transcendental element-wise ops and the quantizers. Their files are listed in
// cmake/cpu_backend.cmake.
#pragma once
#define TRTCORE_CPU_LEVEL_OP_LIST(X)                                                                         \
  X(Conv) X(ConvTranspose) X(Gemm) X(MatMul) X(QConv) X(MaxPool) X(AveragePool) X(GlobalMaxPool)              \
  X(GlobalAveragePool) X(Softmax) X(LogSoftmax) X(FusedElementwise) X(Relu) X(LeakyRelu) X(Clip) X(Sigmoid) \
  X(HardSigmoid) X(HardSwish) X(Tanh) X(Exp) X(Log) X(Sqrt) X(Neg) X(Abs) X(Floor) X(Ceil) X(Reciprocal)     \
  X(Erf) X(Not) X(QuantizeLinear) X(DequantizeLinear)
