// The elementwise unary ops, shared by the cpu reference and the cuda kernels so both list them the same way.
#pragma once

namespace trtcore {

enum class UnaryOp {
  kRelu, kLeakyRelu, kClip, kSigmoid, kHardSigmoid, kHardSwish, kTanh, kExp, kLog, kSqrt, kNeg, kAbs, kFloor,
  kCeil, kReciprocal, kErf, kNot
};

// Ops that also take integer tensors (inference rejects the rest; this keeps instantiations small).
constexpr bool takes_ints(UnaryOp op) {
  return op == UnaryOp::kRelu || op == UnaryOp::kNeg || op == UnaryOp::kAbs || op == UnaryOp::kClip;
}

}  // namespace trtcore
