// What the precision policies and the optimizer need to know about each op, listed once (read through
// op_traits() in op_registry.h). Every name must be an op of op_list.h: a typo fails to compile.
#pragma once

// FP16: weighted ops anchor float16 regions (their kernels have FP16 forms).
#define TRTCORE_FP16_WEIGHTED_OPS(X) X(Conv) X(Gemm) X(MatMul)
// FP16: ops that join a float16 region when one of their inputs is float16 — elementwise math computed in float and
// stored as half, pools (max is exact; averages accumulate in float) and data movement (any element size).
#define TRTCORE_FP16_FOLLOWER_OPS(X) \
  X(Relu) X(LeakyRelu) X(Clip) X(Sigmoid) X(HardSigmoid) X(HardSwish) X(Tanh) X(Add) X(Sub) X(Mul) X(Div) \
  X(MaxPool) X(AveragePool) X(GlobalAveragePool) X(GlobalMaxPool) \
  X(Reshape) X(Flatten) X(Squeeze) X(Unsqueeze) X(Identity) X(Transpose) X(Concat) X(Split) X(Slice) \
  X(DepthToSpace) X(Expand) X(Tile)
// Ops whose output magnitude never exceeds their inputs' (they bound or reorder values): FP16-safe inside a fused
// elementwise chain even where the standalone op keeps float32.
#define TRTCORE_KEEPS_RANGE_OPS(X) X(Erf) X(Neg) X(Abs) X(Floor) X(Ceil) X(Min) X(Max)
// Elementwise ops (one output element from the same-index, broadcast input elements): fuse_elementwise's members.
#define TRTCORE_ELEMENTWISE_OPS(X) \
  X(Relu) X(LeakyRelu) X(Clip) X(Sigmoid) X(HardSigmoid) X(HardSwish) X(Tanh) X(Exp) X(Log) X(Sqrt) X(Neg) X(Abs) \
  X(Floor) X(Ceil) X(Reciprocal) X(Erf) X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Min) X(Max)
// Activations a Conv/ConvTranspose/Gemm can apply in its output pass (fuse_activation).
#define TRTCORE_ACTIVATION_OPS(X) X(Relu) X(LeakyRelu) X(Clip) X(Sigmoid) X(HardSigmoid) X(HardSwish) X(Tanh)
// INT8: ops whose data input is quantized per tensor and whose constant weights per output channel.
#define TRTCORE_INT8_WEIGHTED_OPS(X) X(Conv) X(Gemm) X(MatMul)
