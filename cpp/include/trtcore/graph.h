// trtcore's graph IR: values (tensor edges, possibly constant) and nodes (ONNX ops plus trtcore's fused forms).
// No CUDA or TensorRT type appears here.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "trtcore/dtype.h"
#include "trtcore/tensor.h"

namespace trtcore {

using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, TensorPtr>;

// Typed attribute map. Getters throw kInvalidArgument naming the attribute when the type is wrong.
class Attrs {
 public:
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void set(const std::string& name, AttrValue v) { map_[name] = std::move(v); }
  void erase(const std::string& name) { map_.erase(name); }

  int64_t get_int(const std::string& name, int64_t def) const;
  float get_float(const std::string& name, float def) const;
  std::string get_string(const std::string& name, const std::string& def) const;
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& def = {}) const;
  std::vector<float> get_floats(const std::string& name, const std::vector<float>& def = {}) const;
  TensorPtr get_tensor(const std::string& name) const;  // nullptr when absent

  const std::map<std::string, AttrValue>& items() const { return map_; }

 private:
  std::map<std::string, AttrValue> map_;
};

// Activation fused into a Conv/Gemm/ConvTranspose node by the optimizer (attribute "activation" holds the name).
// kSiLU is x * Sigmoid(x) (ONNX writes it as Sigmoid followed by Mul; EfficientNet's activation).
enum class Activation { kNone, kRelu, kLeakyRelu, kClip, kSigmoid, kHardSigmoid, kHardSwish, kTanh, kSiLU };
const char* activation_name(Activation a);
Activation activation_from_name(const std::string& name);  // throws for unknown names

// Reads the fused-activation attributes of a node: "activation", "activation_alpha", "activation_beta".
struct FusedActivation {
  Activation kind = Activation::kNone;
  float alpha = 0.f;
  float beta = 0.f;
  static FusedActivation from(const class Attrs& attrs);
  float apply(float x) const;  // the scalar reference definition
};

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;             // concrete; inferred for the plan's maximum batch
  TensorPtr constant;      // set for initializers and folded constants
  bool is_constant() const { return constant != nullptr; }
};

struct Node {
  std::string name;  // the ONNX node name, or "<op>_<index>" when the model gives none
  std::string op;    // ONNX op type ("Conv") — fused forms keep the op and add attributes
  std::vector<int> inputs;   // value ids; -1 marks an absent optional input
  std::vector<int> outputs;  // value ids
  Attrs attrs;

  std::string describe() const;  // "node 'conv1' (Conv)" — for error messages
  std::string layer_label() const;  // "Conv+Add+Relu" for a fused node, else the op
};

class Graph {
 public:
  std::string name;
  int64_t opset = 13;
  std::vector<Value> values;
  std::vector<Node> nodes;   // kept in topological order
  std::vector<int> inputs;   // non-constant graph inputs
  std::vector<int> outputs;

  // Batch handling: when has_batch_axis, axis 0 of every input is the batch, built for max_batch.
  bool has_batch_axis = false;
  int64_t max_batch = 1;

  int add_value(Value v);                      // returns its id
  int add_constant(const std::string& name, Tensor t);
  int find_value(const std::string& name) const;  // -1 when absent
  std::string unique_name(const std::string& base) const;

  const Value& value(int id) const { return values.at(size_t(id)); }
  Value& value(int id) { return values.at(size_t(id)); }

  // Producer node index of each value (-1 for inputs/constants) and consumer counts.
  std::vector<int> producers() const;
  std::vector<int> consumer_counts() const;  // graph outputs count as a consumer

  void topo_sort();            // throws kCorrupt on cycles, naming a node in the cycle
  void remove_unused_values(); // drops values nothing references and renumbers ids
  std::map<std::string, int> op_histogram() const;
};

// Computes a node's outputs from its constant inputs (constant folding). The core has no kernels of its own: the
// runtime hands in the cpu backend's (cpu::evaluate_node).
using NodeEvaluator = std::vector<Tensor> (*)(const Node& node, const Graph& g);

// Shape/dtype inference for every node in order; throws naming the node on an error. Nodes whose inputs are all
// constant and whose outputs are small fold through `fold` (that is how shape subgraphs become constants); without
// an evaluator only Shape and Size fold. Uses the registered op definitions (cpp/ops/shape_inference.cpp).
void infer_shapes(Graph& g, NodeEvaluator fold = nullptr);

// Reinfers shapes for a run at `batch` (<= max_batch) without touching the graph: returns each value's shape.
std::vector<Shape> shapes_for_batch(const Graph& g, int64_t batch);

}  // namespace trtcore
