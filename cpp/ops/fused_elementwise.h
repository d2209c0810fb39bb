// FusedElementwise: an internal op (created by the fuse_elementwise pass, never imported) that evaluates a small
// program of elementwise instructions per output element. Shared by the pass, shape inference, the FP16 policy
// and the cpu/cuda kernels.
//
// Attributes:
//   "program"    ints, 3 per instruction: opcode (EwOp), operand a, operand b
//   "immediates" floats, 2 per instruction: alpha, beta (op parameters, or the value of an immediate operand)
//   "out_rank"   int: the output's rank (scalar constants folded into immediates may have raised it)
//   "fused_ops"  string: the member ops, "Div+Erf+Add+Mul+Mul" (for layer labels)
// Operand slots: 0..num_inputs-1 are the node's inputs; num_inputs + k is instruction k's result; kImmediate
// reads the instruction's alpha (operand a) or beta (operand b). The last instruction's result is the output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "trtcore/graph.h"

namespace trtcore {

// Opcode numbers are stored in plan files: append only, never renumber.
enum class EwOp : int32_t {
  kRelu = 0, kLeakyRelu = 1, kClip = 2, kSigmoid = 3, kHardSigmoid = 4, kHardSwish = 5, kTanh = 6, kExp = 7,
  kLog = 8, kSqrt = 9, kNeg = 10, kAbs = 11, kFloor = 12, kCeil = 13, kReciprocal = 14, kErf = 15,
  kAdd = 16, kSub = 17, kMul = 18, kDiv = 19, kPow = 20, kMin = 21, kMax = 22,
  kCount = 23
};

constexpr bool ew_is_binary(EwOp op) { return int32_t(op) >= int32_t(EwOp::kAdd) && op != EwOp::kCount; }

// The ONNX op an opcode stands for ("Erf"); ew_op_from_name returns false for ops a fused program cannot hold.
const char* ew_op_name(EwOp op);
bool ew_op_from_name(const std::string& name, EwOp& op);

constexpr int32_t kEwImmediate = -1;
// Limits that keep a program in the cuda kernel's registers; the pass splits larger groups.
constexpr size_t kMaxEwInputs = 8;
constexpr size_t kMaxEwInstructions = 16;
constexpr int64_t kMaxEwRank = 8;  // out_rank (a plan may claim any)

struct EwInstr {
  EwOp op = EwOp::kRelu;
  int32_t a = 0, b = kEwImmediate;
  float alpha = 0.f, beta = 0.f;
};

struct EwProgram {
  std::vector<EwInstr> code;
  int64_t out_rank = 0;

  // Reads the node's attributes; throws kInvalidArgument naming the node when they are malformed or an operand
  // refers to neither an input nor an earlier instruction.
  static EwProgram from(const Node& node);
  void store(Attrs& attrs) const;  // writes all four attributes
  std::string label() const;       // "Div+Erf+Add+Mul+Mul"
};

// The scalar reference definitions (float math; the cpu kernel uses them, the cuda kernel mirrors them).
float ew_unary_ref(EwOp op, float x, float alpha, float beta);
float ew_binary_ref(EwOp op, float a, float b);

}  // namespace trtcore
