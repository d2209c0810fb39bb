#include "onnx_mutator.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common.h"
#include "onnx/onnx_writer.h"
#include "trtcore/error.h"
#include "trtcore/onnx_import.h"

namespace trtcore::fuzz {
namespace {

template <class T>
const T& pick(const std::vector<T>& v, std::mt19937& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

size_t below(size_t n, std::mt19937& rng) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }

int64_t interesting_int(int64_t v, std::mt19937& rng) {
  static const std::vector<int64_t> kSpecial = {0, 1, -1, 2, -2, 3, 4, 7, 8, 16, 255, 1 << 16, int64_t(1) << 31,
                                                std::numeric_limits<int64_t>::max(),
                                                std::numeric_limits<int64_t>::min()};
  switch (below(3, rng)) {
    case 0: return int64_t(uint64_t(v) + 1);  // wraps at the extremes, which are interesting too
    case 1: return int64_t(uint64_t(v) - 1);
    default: return pick(kSpecial, rng);
  }
}

float interesting_float(float v, std::mt19937& rng) {
  static const std::vector<float> kSpecial = {0.f, 1.f, -1.f, 0.5f, 1e-7f, 1e30f, -1e30f,
                                              std::numeric_limits<float>::infinity(),
                                              std::numeric_limits<float>::quiet_NaN(),
                                              std::numeric_limits<float>::denorm_min()};
  return below(3, rng) == 0 ? v * 2.f : pick(kSpecial, rng);
}

const std::vector<std::string>& attr_strings() {
  static const std::vector<std::string> v = {"", "constant", "reflect", "edge", "wrap", "linear", "nearest",
                                             "cubic", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "DCR", "CRD",
                                             "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                             "tf_crop_and_resize", "round_prefer_floor", "floor", "ceil"};
  return v;
}

const std::vector<std::string>& attr_names() {
  static const std::vector<std::string> v = {"axis", "axes", "kernel_shape", "pads", "strides", "dilations", "group",
                                             "perm", "keepdims", "transA", "transB", "alpha", "beta", "epsilon",
                                             "mode", "auto_pad", "ceil_mode", "to", "split", "count_include_pad",
                                             "blocksize", "num_outputs", "output_padding", "output_shape", "size",
                                             "bias", "allowzero", "noop_with_empty_axes", "storage_order", "value"};
  return v;
}

const std::vector<std::string>& op_types() {
  static const std::vector<std::string> v = {
      "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Erf",
      "Identity", "Softmax", "LeakyRelu", "Clip", "HardSigmoid", "HardSwish", "Add", "Sub", "Mul", "Div", "Pow",
      "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "Where", "Not", "And", "Conv", "ConvTranspose",
      "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "Gemm", "MatMul",
      "Concat", "Split", "Slice", "Pad", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Gather",
      "Expand", "Tile", "Resize", "Upsample", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
      "ArgMax", "Shape", "Size", "Cast", "Range", "ConstantOfShape", "DepthToSpace", "SpaceToDepth", "LRN",
      "InstanceNormalization", "QuantizeLinear", "DequantizeLinear", "PRelu", "Dropout", "Sign", "Round"};
  return v;
}

void mutate_attribute(Node& n, std::mt19937& rng) {
  if (n.attrs.items().empty() || below(4, rng) == 0) {
    const std::string name = pick(attr_names(), rng);
    switch (below(4, rng)) {
      case 0: n.attrs.set(name, interesting_int(0, rng)); break;
      case 1: n.attrs.set(name, std::vector<int64_t>(below(6, rng), interesting_int(1, rng))); break;
      case 2: n.attrs.set(name, interesting_float(1.f, rng)); break;
      default: n.attrs.set(name, pick(attr_strings(), rng)); break;
    }
    return;
  }
  auto it = n.attrs.items().begin();
  std::advance(it, below(n.attrs.items().size(), rng));
  const std::string name = it->first;
  AttrValue v = it->second;
  if (below(10, rng) == 0) {
    n.attrs.erase(name);
    return;
  }
  if (auto* i = std::get_if<int64_t>(&v)) {
    *i = interesting_int(*i, rng);
  } else if (auto* f = std::get_if<float>(&v)) {
    *f = interesting_float(*f, rng);
  } else if (auto* s = std::get_if<std::string>(&v)) {
    *s = pick(attr_strings(), rng);
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
    const size_t k = below(3, rng);
    if (k == 0 || is->empty()) is->push_back(interesting_int(1, rng));
    else if (k == 1) is->erase(is->begin() + long(below(is->size(), rng)));
    else (*is)[below(is->size(), rng)] = interesting_int((*is)[0], rng);
  } else if (auto* fs = std::get_if<std::vector<float>>(&v)) {
    if (fs->empty() || below(3, rng) == 0) fs->push_back(interesting_float(1.f, rng));
    else (*fs)[below(fs->size(), rng)] = interesting_float((*fs)[0], rng);
  } else {
    return;  // tensor attributes stay as they are
  }
  n.attrs.set(name, v);
}

void mutate_shape(Shape& s, std::mt19937& rng) {
  static const std::vector<int64_t> kDims = {0, 1, 2, 3, 4, 5, 7, 8, 16};
  const size_t k = below(4, rng);
  if (k == 0 && s.size() < 6) s.insert(s.begin() + long(below(s.size() + 1, rng)), pick(kDims, rng));
  else if (k == 1 && !s.empty()) s.erase(s.begin() + long(below(s.size(), rng)));
  else if (!s.empty()) s[below(s.size(), rng)] = pick(kDims, rng);
}

// A constant's shape, dtype or one element changes; the new data repeats the old bytes.
void mutate_constant(Value& v, std::mt19937& rng) {
  const Tensor& old = *v.constant;
  Shape shape = old.shape;
  DType dtype = old.dtype;
  const size_t k = below(4, rng);
  if (k == 0) mutate_shape(shape, rng);
  if (k == 1) dtype = pick(std::vector<DType>{DType::kFloat32, DType::kInt64, DType::kInt32, DType::kFloat16,
                                              DType::kUInt8, DType::kInt8, DType::kBool, DType::kFloat64}, rng);
  if (numel(shape) > 4096) return;
  auto t = std::make_shared<Tensor>(dtype, shape);
  for (size_t i = 0; i < t->bytes.size() && !old.bytes.empty(); ++i) t->bytes[i] = old.bytes[i % old.bytes.size()];
  if (k >= 2 && t->numel() > 0) {
    const size_t i = below(size_t(t->numel()), rng);
    if (dtype == DType::kInt64) t->data<int64_t>()[i] = interesting_int(t->data<int64_t>()[i], rng);
    else if (dtype == DType::kFloat32) t->data<float>()[i] = interesting_float(t->data<float>()[i], rng);
    else t->bytes[i * dtype_size(dtype)] ^= uint8_t(1u << below(8, rng));
  }
  v.dtype = dtype;
  v.shape = shape;
  v.constant = t;
}

void mutate_wiring(Graph& g, Node& n, std::mt19937& rng) {
  const size_t k = below(4, rng);
  if (k == 0 || n.inputs.empty()) n.inputs.push_back(int(below(g.values.size(), rng)));
  else if (k == 1) n.inputs.pop_back();
  else if (k == 2) n.inputs[below(n.inputs.size(), rng)] = -1;
  else n.inputs[below(n.inputs.size(), rng)] = int(below(g.values.size(), rng));
}

// The node goes; its readers read its first input instead.
void remove_node(Graph& g, size_t index) {
  const Node n = g.nodes[index];
  g.nodes.erase(g.nodes.begin() + long(index));
  const int with = n.inputs.empty() ? -1 : n.inputs[0];
  for (Node& m : g.nodes)
    for (int& in : m.inputs)
      for (int out : n.outputs)
        if (in == out) in = with;
  for (int& o : g.outputs)
    for (int out : n.outputs)
      if (o == out && with >= 0) o = with;
}

void mutate_once(Graph& g, std::mt19937& rng) {
  const size_t what = below(10, rng);
  if (g.nodes.empty() || g.values.empty()) return;
  Node& n = g.nodes[below(g.nodes.size(), rng)];
  switch (what) {
    case 0: case 1: case 2: mutate_attribute(n, rng); break;
    case 3:
      if (!g.inputs.empty()) mutate_shape(g.value(g.inputs[below(g.inputs.size(), rng)]).shape, rng);
      break;
    case 4: case 5: {
      std::vector<int> constants;
      for (size_t i = 0; i < g.values.size(); ++i)
        if (g.values[i].is_constant()) constants.push_back(int(i));
      if (!constants.empty()) mutate_constant(g.value(pick(constants, rng)), rng);
      break;
    }
    case 6: n.op = pick(op_types(), rng); break;
    case 7: mutate_wiring(g, n, rng); break;
    case 8: if (g.nodes.size() > 1) remove_node(g, below(g.nodes.size(), rng)); break;
    default: {
      const int v = int(below(g.values.size(), rng));
      if (!g.values[size_t(v)].is_constant()) g.outputs.push_back(v);
      else if (g.outputs.size() > 1) g.outputs.erase(g.outputs.begin() + long(below(g.outputs.size(), rng)));
      break;
    }
  }
}

// Bytes of the graph inputs at the batch the model was imported for: a cheap lower bound of its activations.
double input_bytes(const Graph& g) {
  double total = 0;
  for (int id : g.inputs) {
    if (id < 0 || size_t(id) >= g.values.size()) continue;
    const Value& v = g.value(id);
    if (v.dtype == DType::kUndefined) continue;
    double n = double(dtype_size(v.dtype));
    for (int64_t d : v.shape) n *= double(d < 0 ? 0 : d);
    total += n;
  }
  return total;
}

}  // namespace

Caps structured_caps() {
  Caps caps;
  caps.activation_bytes = size_t(256) << 10;
  caps.weight_bytes = size_t(256) << 10;
  caps.work = 2e6;
  caps.run_batch_one = false;
  return caps;
}

void mutate_graph(Graph& g, std::mt19937& rng) {
  for (size_t i = 0, n = 1 + below(3, rng); i < n; ++i) mutate_once(g, rng);
  if (below(4, rng) == 0) g.has_batch_axis = !g.has_batch_axis;
}

size_t mutate_onnx_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  static const std::string path = scratch_path("mutator.onnx");
  write_file(path, data, size);
  std::mt19937 rng(seed);
  try {
    ModelOptions model;
    model.onnx_path = path;
    const Graph original = import_onnx(model);
    Graph g = original;
    mutate_graph(g, rng);
    for (int retry = 0; retry < 4 && input_bytes(g) > double(structured_caps().activation_bytes); ++retry) {
      g = original;
      mutate_graph(g, rng);
    }
    onnx::OnnxExportOptions opt;
    opt.batch = g.has_batch_axis && below(2, rng) ? onnx::BatchDim::kDynamic : onnx::BatchDim::kFixed;
    const std::string out = onnx::graph_to_onnx(g, opt);
    if (out.size() > max_size) return 0;
    std::memcpy(data, out.data(), out.size());
    return out.size();
  } catch (const Error&) {
    return 0;
  }
}

}  // namespace trtcore::fuzz
