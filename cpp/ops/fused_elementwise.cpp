// FusedElementwise (internal): program encoding, validation, shape inference and the scalar reference math.
#include "ops/fused_elementwise.h"

#include <cmath>

#include "ops/op_registry.h"

namespace trtcore {

namespace {

// min(1, max(0, y)) by comparisons: fmax/fmin would drop a NaN, ONNX's HardSigmoid/HardSwish keep it
float clamp01_nan(float y) { return y < 0.f ? 0.f : (y > 1.f ? 1.f : y); }

struct OpName {
  EwOp op;
  const char* name;
};

constexpr OpName kNames[] = {
    {EwOp::kRelu, "Relu"}, {EwOp::kLeakyRelu, "LeakyRelu"}, {EwOp::kClip, "Clip"}, {EwOp::kSigmoid, "Sigmoid"},
    {EwOp::kHardSigmoid, "HardSigmoid"}, {EwOp::kHardSwish, "HardSwish"}, {EwOp::kTanh, "Tanh"},
    {EwOp::kExp, "Exp"}, {EwOp::kLog, "Log"}, {EwOp::kSqrt, "Sqrt"}, {EwOp::kNeg, "Neg"}, {EwOp::kAbs, "Abs"},
    {EwOp::kFloor, "Floor"}, {EwOp::kCeil, "Ceil"}, {EwOp::kReciprocal, "Reciprocal"}, {EwOp::kErf, "Erf"},
    {EwOp::kAdd, "Add"}, {EwOp::kSub, "Sub"}, {EwOp::kMul, "Mul"}, {EwOp::kDiv, "Div"}, {EwOp::kPow, "Pow"},
    {EwOp::kMin, "Min"}, {EwOp::kMax, "Max"},
};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == size_t(EwOp::kCount), "name every opcode");

}  // namespace

const char* ew_op_name(EwOp op) {
  for (const OpName& n : kNames)
    if (n.op == op) return n.name;
  return "?";
}

bool ew_op_from_name(const std::string& name, EwOp& op) {
  for (const OpName& n : kNames)
    if (name == n.name) {
      op = n.op;
      return true;
    }
  return false;
}

EwProgram EwProgram::from(const Node& node) {
  const std::vector<int64_t> ints = node.attrs.get_ints("program");
  const std::vector<float> imm = node.attrs.get_floats("immediates");
  const std::string who = node.describe();
  if (ints.empty() || ints.size() % 3 != 0)
    fail(ErrorKind::kInvalidArgument, who, ": attribute 'program' must hold 3 ints per instruction, got ",
         ints.size());
  const size_t n = ints.size() / 3;
  if (imm.size() != 2 * n)
    fail(ErrorKind::kInvalidArgument, who, ": attribute 'immediates' must hold ", 2 * n, " floats, got ", imm.size());
  const int64_t num_inputs = int64_t(node.inputs.size());
  EwProgram p;
  p.out_rank = node.attrs.get_int("out_rank", 0);
  p.code.resize(n);
  for (size_t k = 0; k < n; ++k) {
    EwInstr& in = p.code[k];
    const int64_t op = ints[3 * k];
    if (op < 0 || op >= int64_t(EwOp::kCount))
      fail(ErrorKind::kInvalidArgument, who, ": instruction ", k, " has unknown opcode ", op);
    in.op = EwOp(op);
    const int64_t limit = num_inputs + int64_t(k);  // inputs and earlier results
    const int64_t a = ints[3 * k + 1], b = ints[3 * k + 2];
    const bool binary = ew_is_binary(in.op);
    const bool a_ok = (a >= 0 && a < limit) || (binary && a == kEwImmediate);
    const bool b_ok = binary ? (b >= 0 && b < limit) || b == kEwImmediate : b == kEwImmediate;
    if (!a_ok || !b_ok || (binary && a == kEwImmediate && b == kEwImmediate))
      fail(ErrorKind::kInvalidArgument, who, ": instruction ", k, " (", ew_op_name(in.op), ") reads slots ", a, ", ",
           b, "; expected inputs or earlier results below ", limit);
    in.a = int32_t(a);
    in.b = int32_t(b);
    in.alpha = imm[2 * k];
    in.beta = imm[2 * k + 1];
  }
  return p;
}

void EwProgram::store(Attrs& attrs) const {
  std::vector<int64_t> ints;
  std::vector<float> imm;
  for (const EwInstr& in : code) {
    ints.insert(ints.end(), {int64_t(in.op), int64_t(in.a), int64_t(in.b)});
    imm.insert(imm.end(), {in.alpha, in.beta});
  }
  attrs.set("program", ints);
  attrs.set("immediates", imm);
  attrs.set("out_rank", out_rank);
  attrs.set("fused_ops", label());
}

std::string EwProgram::label() const {
  std::string s;
  for (const EwInstr& in : code) s += (s.empty() ? "" : "+") + std::string(ew_op_name(in.op));
  return s;
}

float ew_unary_ref(EwOp op, float x, float alpha, float beta) {
  switch (op) {
    case EwOp::kRelu: return x < 0.f ? 0.f : x;  // NaN propagates
    case EwOp::kLeakyRelu: return x >= 0.f ? x : alpha * x;
    case EwOp::kClip: {  // alpha = min, beta = max; min > max gives max, as ONNX specifies
      const float y = x < alpha ? alpha : x;
      return y > beta ? beta : y;
    }
    case EwOp::kSigmoid:  // split by sign so exp never overflows
      if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
      else {
        const float e = std::exp(x);
        return e / (1.f + e);
      }
    case EwOp::kHardSigmoid: return clamp01_nan(alpha * x + beta);
    case EwOp::kHardSwish: return x * clamp01_nan(x / 6.f + 0.5f);
    case EwOp::kTanh: return std::tanh(x);
    case EwOp::kExp: return std::exp(x);
    case EwOp::kLog: return std::log(x);
    case EwOp::kSqrt: return std::sqrt(x);
    case EwOp::kNeg: return -x;
    case EwOp::kAbs: return std::fabs(x);
    case EwOp::kFloor: return std::floor(x);
    case EwOp::kCeil: return std::ceil(x);
    case EwOp::kReciprocal: return 1.f / x;
    case EwOp::kErf: return std::erf(x);
    default: return x;
  }
}

float ew_binary_ref(EwOp op, float a, float b) {
  switch (op) {
    case EwOp::kAdd: return a + b;
    case EwOp::kSub: return a - b;
    case EwOp::kMul: return a * b;
    case EwOp::kDiv: return a / b;
    case EwOp::kPow: return float(std::pow(double(a), double(b)));  // through double, as the Pow kernel computes
    case EwOp::kMin: return (b < a || b != b) ? b : a;  // a NaN in either operand gives NaN, as ONNX's Min/Max
    case EwOp::kMax: return (b > a || b != b) ? b : a;
    default: return a;
  }
}

// Output: the inputs broadcast together, left-padded with 1s to out_rank (immediates may have raised the rank).
void infer_FusedElementwise(ShapeContext& ctx) {
  const Node& node = ctx.node();
  if (ctx.num_inputs() < 1) ctx.fail("expects at least one input");
  if (ctx.num_outputs() != 1) ctx.fail("expects one output, got ", ctx.num_outputs());
  const EwProgram p = EwProgram::from(node);
  const DType t = ctx.in(0).dtype;
  if (t != DType::kFloat32 && t != DType::kFloat16)
    ctx.unsupported("input '", ctx.in(0).name, "' has element type ", dtype_name(t), " (float32 or float16 only)");
  Shape s = ctx.in(0).shape;
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    const Value& v = ctx.in(i);
    if (v.dtype != t)
      ctx.fail("inputs must share one element type: '", ctx.in(0).name, "' is ", dtype_name(t), ", '", v.name,
               "' is ", dtype_name(v.dtype));
    s = broadcast_shapes(ctx, s, v.shape);
  }
  if (p.out_rank < int64_t(s.size())) ctx.fail("out_rank ", p.out_rank, " is below the inputs' rank ", s.size());
  if (p.out_rank > kMaxEwRank) ctx.fail("out_rank ", p.out_rank, " is above ", kMaxEwRank);
  s.insert(s.begin(), size_t(p.out_rank) - s.size(), int64_t(1));
  ctx.set_out(0, t, s);
}

}  // namespace trtcore
