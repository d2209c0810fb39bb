// The supported ONNX ops, one X(Name) each. Both the op-definition table and the cpu kernel table expand this
// list, so adding an op is: one line here, infer_<Name> in cpp/ops/, make_cpu_<Name> in cpp/backends/cpu/.
#pragma once
// Internal ops only the optimizer creates: listed at the end of TRTCORE_OP_LIST, but the importer rejects them.
#define TRTCORE_INTERNAL_OP_LIST(X) X(FusedElementwise) X(QConv)
#define TRTCORE_OP_LIST(X) \
  X(Conv) X(ConvTranspose) X(BatchNormalization) \
  X(Relu) X(LeakyRelu) X(PRelu) X(Clip) X(Sigmoid) X(HardSigmoid) X(HardSwish) X(Tanh) \
  X(Exp) X(Log) X(Sqrt) X(Neg) X(Abs) X(Floor) X(Ceil) X(Reciprocal) X(Erf) X(Not) \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Min) X(Max) X(Sum) X(Mean) \
  X(Equal) X(Less) X(Greater) X(Where) \
  X(MaxPool) X(AveragePool) X(GlobalAveragePool) X(GlobalMaxPool) X(LRN) \
  X(Gemm) X(MatMul) X(Softmax) X(LogSoftmax) X(ReduceMean) X(ReduceSum) X(ReduceMax) \
  X(Flatten) X(Reshape) X(Transpose) X(Concat) X(Split) X(Slice) X(Pad) X(Resize) X(Upsample) X(DepthToSpace) \
  X(Squeeze) X(Unsqueeze) X(Shape) X(Size) X(Gather) X(Expand) X(Range) X(Tile) \
  X(Constant) X(ConstantOfShape) X(Cast) X(Identity) X(Dropout) \
  X(QuantizeLinear) X(DequantizeLinear) \
  TRTCORE_INTERNAL_OP_LIST(X)
