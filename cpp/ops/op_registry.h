// Op definitions: for each supported ONNX op, a shape/dtype inference function that also validates attributes.
// One file per op (or small family) under cpp/ops/; op_list.h lists them all and op_traits.h their traits.
#pragma once
#include <string>
#include <vector>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

// What an inference function sees: the node and the value table (shapes, dtypes, constants).
class ShapeContext {
 public:
  ShapeContext(const Node& node, std::vector<Value>& values, int64_t opset)
      : node_(node), values_(values), opset_(opset) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t num_inputs() const { return node_.inputs.size(); }
  size_t num_outputs() const { return node_.outputs.size(); }
  bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] >= 0; }
  const Value& in(size_t i) const;   // throws naming the node if absent
  Value& out(size_t i);
  // Constant input i as int64s (shape-like inputs); throws naming the node if it is not constant.
  std::vector<int64_t> const_ints(size_t i) const;

  // Sets output i's dtype and shape; fails naming the node when the shape is negative or over the size bound.
  void set_out(size_t i, DType t, Shape s);

  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    ::trtcore::fail(ErrorKind::kInvalidArgument, node_.describe(), ": ", parts...);
  }
  template <class... Parts>
  [[noreturn]] void unsupported(const Parts&... parts) const {
    ::trtcore::fail(ErrorKind::kUnsupported, node_.describe(), " (opset ", opset_, "): ", parts...);
  }

 private:
  const Node& node_;
  std::vector<Value>& values_;
  int64_t opset_;
};

// The most elements one inferred value may hold: every op's output is checked against it in set_out, so an
// attribute or shape input asking for more (Pad, Tile, Resize, Expand, ConstantOfShape...) fails at build.
constexpr int64_t kMaxValueElements = int64_t(1) << 31;

using InferFn = void (*)(ShapeContext& ctx);

// Where an op may come from: an ONNX file, or only the optimizer (internal fused forms the importer rejects).
enum class OpScope { kOnnx, kInternal };

// How FP16 treats an op: weighted ops anchor float16 regions, followers join one when an input is float16, the rest
// keep float32.
enum class Fp16Role { kFloat32Only, kWeighted, kFollower };

// What the policies and passes read about an op instead of keeping their own name lists (ops/op_traits.h).
struct OpTraits {
  Fp16Role fp16 = Fp16Role::kFloat32Only;
  bool keeps_range = false;    // output magnitude never exceeds the inputs' (FP16-safe inside fused chains)
  bool elementwise = false;    // same-index (broadcast) elementwise math: a fuse_elementwise member
  bool activation = false;     // a Conv/ConvTranspose/Gemm can apply it as its fused activation
  bool int8_weighted = false;  // INT8 quantizes its data input per tensor and its constant weights per channel
};

struct OpDef {
  const char* name;   // ONNX op type
  InferFn infer;
  OpScope scope = OpScope::kOnnx;
  OpTraits traits;
};

// nullptr when the op is not supported. Internal ops are found too (graphs after the optimizer, plans).
const OpDef* find_op_def(const std::string& op);
const std::vector<OpDef>& all_op_defs();
// The traits of `op` (all false / float32-only for an op trtcore does not know).
const OpTraits& op_traits(const std::string& op);

// Normalizes a possibly negative axis against `rank`; fails naming the node when out of range.
int64_t normalize_axis(const ShapeContext& ctx, int64_t axis, int64_t rank);
// Numpy-style broadcast of two shapes; fails naming the node when incompatible.
Shape broadcast_shapes(const ShapeContext& ctx, const Shape& a, const Shape& b);

}  // namespace trtcore
