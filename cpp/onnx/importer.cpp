// Stage 1: decoded ONNX structs → trtcore::Graph, with batch handling and shape inference.
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "onnx/importer.h"

#include "onnx/graph_builder.h"
#include "onnx/onnx_model.h"
#include "onnx/tensor_data.h"
#include "ops/op_registry.h"
#include "trtcore/error.h"

namespace trtcore {
namespace {

using onnx::OnnxModel;
using onnx::OnnxNode;
using onnx::OnnxValueInfo;

constexpr int64_t kMaxInputElements = int64_t(1) << 40;
// The newest default-domain opset whose op definitions trtcore implements.
constexpr int64_t kMaxKnownOpset = 21;

// Why a node cannot be imported by op type alone ("" when its op is supported).
std::string op_problem(const OnnxNode& n, const std::string& name, int64_t opset) {
  const std::string head = "node '" + name + "' (" + n.op_type + ")";
  if (!onnx::default_domain(n.domain))
    return head + " in domain '" + n.domain + "': ops outside the default ONNX domain are not supported by trtcore";
  const OpDef* def = find_op_def(n.op_type);
  if (!def || def->scope == OpScope::kInternal)  // internal ops are the optimizer's, never a model's
    return head + " in opset " + std::to_string(opset) + ": op type '" + n.op_type + "' is not supported by trtcore";
  return "";
}

DType input_dtype(const std::string& path, const OnnxValueInfo& vi) {
  if (!vi.is_tensor)
    fail(ErrorKind::kUnsupported, path, ": graph input '", vi.name, "' is not a tensor (sequences, maps and optionals are not supported)");
  if (!dtype_is_known(vi.elem_type))
    fail(ErrorKind::kUnsupported, path, ": graph input '", vi.name, "' has element type code ", vi.elem_type,
         ", which trtcore does not support");
  return DType(vi.elem_type);
}

// Runs shape inference; errors name the file, and stray std exceptions from inference code become errors.
void infer_checked(Graph& g, const std::string& path, NodeEvaluator fold) {
  try {
    infer_shapes(g, fold);
  } catch (const Error& e) {
    throw Error(e.kind(), path + ": " + e.what());
  } catch (const std::exception& e) {
    fail(ErrorKind::kInvalidArgument, path, ": shape inference failed: ", e.what());
  }
}

void sort_checked(Graph& g, const std::string& path) {
  try {
    g.topo_sort();
  } catch (const Error& e) {
    throw Error(e.kind(), path + ": " + e.what());
  }
}

// Values whose axis 0 is the batch: the batched inputs and outputs of ops that keep dim 0 == batch.
std::vector<char> batch_carriers(const Graph& g, int64_t batch) {
  std::vector<char> carries(g.values.size(), 0);
  for (int in : g.inputs) {
    const Value& v = g.value(in);
    if (!v.shape.empty() && v.shape[0] == batch) carries[size_t(in)] = 1;
  }
  for (const Node& n : g.nodes) {
    bool any = false;
    for (int i : n.inputs) any = any || (i >= 0 && carries[size_t(i)]);
    if (!any) continue;
    for (int o : n.outputs) {
      if (o < 0) continue;
      const Value& v = g.value(o);
      if (!v.is_constant() && !v.shape.empty() && v.shape[0] == batch) carries[size_t(o)] = 1;
    }
  }
  return carries;
}

// A Reshape of a batched tensor to a constant shape starting with the batch size gets that element replaced by 0
// (ONNX's "copy this dim" when allowzero = 0), so the reshape follows the batch of the run.
void make_reshapes_follow_batch(Graph& g, int64_t batch) {
  const std::vector<char> carries = batch_carriers(g, batch);
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    Node& n = g.nodes[k];
    if (n.op != "Reshape" || n.inputs.size() < 2 || n.inputs[0] < 0 || n.inputs[1] < 0) continue;
    if (!carries[size_t(n.inputs[0])] || n.attrs.get_int("allowzero", 0) != 0) continue;
    const Value& sv = g.value(n.inputs[1]);
    if (!sv.is_constant()) continue;
    std::vector<int64_t> dims = sv.constant->as_int64();
    if (dims.empty() || dims[0] != batch) continue;
    dims[0] = 0;
    Tensor t(DType::kInt64, {int64_t(dims.size())});
    std::copy(dims.begin(), dims.end(), t.data<int64_t>());
    const std::string name = g.unique_name(sv.name + "_follow_batch");
    const int id = g.add_constant(name, std::move(t));
    g.nodes[k].inputs[1] = id;
  }
}

// Forgets inferred shapes and folded constants of node outputs, so the graph can be inferred again.
void reset_inferred(Graph& g) {
  for (const Node& n : g.nodes)
    for (int o : n.outputs) {
      if (o < 0) continue;
      Value& v = g.value(o);
      v.constant = nullptr;
      v.shape.clear();
      v.dtype = DType::kUndefined;
    }
}

std::string suggestion(const OnnxValueInfo& vi, const Shape& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += "x";
    if (shape[i] >= 0) s += std::to_string(shape[i]);
    else s += i < vi.dims.size() && !vi.dims[i].param.empty() ? "<" + vi.dims[i].param + ">" : "<?>";
  }
  return s;
}

// Every op is checked before any work; the message names every unsupported op type and (up to a limit) node.
void check_ops_supported(const OnnxModel& m, const std::vector<std::string>& names, int64_t opset) {
  constexpr size_t kMaxListedNodes = 30;
  std::string lines, types;
  std::set<std::string> seen_types;
  size_t n_problems = 0;
  for (size_t i = 0; i < m.graph.nodes.size(); ++i) {
    const OnnxNode& n = m.graph.nodes[i];
    const std::string p = op_problem(n, names[i], opset);
    if (p.empty()) continue;
    if (n_problems++ < kMaxListedNodes) lines += "\n  " + p;
    const std::string type = onnx::default_domain(n.domain) ? n.op_type : n.domain + "::" + n.op_type;
    if (seen_types.insert(type).second) types += (types.empty() ? "" : ", ") + type;
  }
  if (n_problems > kMaxListedNodes)
    lines += "\n  ... and " + std::to_string(n_problems - kMaxListedNodes) + " more nodes";
  if (n_problems)
    fail(ErrorKind::kUnsupported, m.path, ": ", n_problems, n_problems > 1 ? " nodes use" : " node uses",
         " ops that trtcore does not support (", types, "):", lines);
}

// Every --shapes entry must name a graph input that is not also an initializer.
void check_shape_names(const OnnxModel& m, const ModelOptions& model, const std::set<std::string>& initializer_names) {
  std::set<std::string> input_names;
  for (const OnnxValueInfo& vi : m.graph.inputs) input_names.insert(vi.name);
  for (const auto& kv : model.shapes) {
    if (!input_names.count(kv.first) || initializer_names.count(kv.first)) {
      std::string list;
      for (const OnnxValueInfo& vi : m.graph.inputs)
        if (!initializer_names.count(vi.name)) list += (list.empty() ? "'" : ", '") + vi.name + "'";
      fail(ErrorKind::kInvalidArgument, m.path, ": --shapes names '", kv.first, "', which is not an input of the model (inputs: ",
           list.empty() ? "none" : list, ")");
    }
  }
}

// The batch a model is built for, the first static axis 0 of an input without --shapes (-1: none), and whether the
// batch replaces that static axis 0.
struct BatchChoice {
  int64_t max_batch = 1, first_static0 = -1;
  bool override_static = false;
};

// A dynamic axis 0 is built for --batch (1 when not given). A fully static model keeps its batch unless --batch is
// given, which then overrides the axis 0 that the inputs share.
BatchChoice choose_batch(const OnnxModel& m, const ModelOptions& model, const std::set<std::string>& initializer_names) {
  bool any_dynamic0 = false;
  BatchChoice c;
  for (const OnnxValueInfo& vi : m.graph.inputs) {
    if (initializer_names.count(vi.name) || model.shapes.count(vi.name) || !vi.has_shape || vi.dims.empty()) continue;
    if (!vi.dims[0].known) any_dynamic0 = true;
    else if (c.first_static0 < 0) c.first_static0 = vi.dims[0].value;
  }
  const bool batch_given = model.max_batch > 0;
  c.max_batch = batch_given ? model.max_batch : (!any_dynamic0 && c.first_static0 > 0 ? c.first_static0 : 1);
  c.override_static = batch_given && !any_dynamic0 && c.first_static0 > 0 && c.first_static0 != c.max_batch;
  return c;
}

// A graph input's shape to build for (from --shapes or the file, axis 0 set to the batch); notes whether it has a
// batch axis and which static axis 0 of the file the batch overrode.
Shape input_shape(const std::string& path, const OnnxValueInfo& vi, const ModelOptions& model, const BatchChoice& batch,
                  bool& has_batch_axis, std::vector<int64_t>& file_batch) {
  Shape shape;
  bool axis0_dynamic = false;
  auto user = model.shapes.find(vi.name);
  if (user != model.shapes.end()) {
    if (vi.has_shape && vi.dims.size() != user->second.size())
      fail(ErrorKind::kInvalidArgument, path, ": --shapes gives input '", vi.name, "' rank ", user->second.size(),
           " (", shape_str(user->second), ") but the model declares rank ", vi.dims.size());
    shape = user->second;
    axis0_dynamic = vi.has_shape && !vi.dims.empty() && !vi.dims[0].known;
    if (!shape.empty() && shape[0] != batch.max_batch && shape[0] != 1)
      fail(ErrorKind::kInvalidArgument, path, ": --shapes gives input '", vi.name, "' axis 0 = ", shape[0],
           " but the batch is ", batch.max_batch, "; axis 0 is the batch axis: pass --batch ", shape[0],
           " or give axis 0 as 1");
  } else {
    if (!vi.has_shape)
      fail(ErrorKind::kInvalidArgument, path, ": input '", vi.name, "' has no shape in the model; pass --shapes ",
           vi.name, ":AxBxC...");
    for (const onnx::OnnxDim& d : vi.dims) shape.push_back(d.known ? d.value : -1);
    axis0_dynamic = !shape.empty() && shape[0] < 0;
  }
  if (!shape.empty()) {
    if (axis0_dynamic || shape[0] < 0) {
      shape[0] = batch.max_batch;
      has_batch_axis = true;
    } else if (batch.override_static && shape[0] == batch.first_static0) {
      file_batch.push_back(shape[0]);
      shape[0] = batch.max_batch;
      has_batch_axis = true;
    }
  }
  for (size_t a = 0; a < shape.size(); ++a) {
    if (shape[a] >= 0) continue;
    const std::string param = a < vi.dims.size() ? vi.dims[a].param : "";
    fail(ErrorKind::kInvalidArgument, path, ": input '", vi.name, "' axis ", a, " is dynamic",
         param.empty() ? std::string() : " ('" + param + "')", "; pass --shapes ", vi.name, ":",
         suggestion(vi, shape), " with the size to build for");
  }
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d > 0 && count > kMaxInputElements / d)
      fail(ErrorKind::kInvalidArgument, path, ": input '", vi.name, "' shape ", shape_str(shape), " is too large");
    count *= d;
  }
  return shape;
}

// A static batch the user overrode: old exports hard-code it in Reshape shapes ([1, -1]); infer at the file's
// batch first so those reshapes can be made to follow the batch.
void follow_overridden_batch(Graph& g, const std::string& path, NodeEvaluator fold,
                             const std::vector<int64_t>& file_batch, int64_t max_batch) {
  if (file_batch.empty() ||
      !std::all_of(file_batch.begin(), file_batch.end(), [&](int64_t x) { return x == file_batch[0]; }))
    return;
  for (int in : g.inputs)
    if (!g.value(in).shape.empty()) g.value(in).shape[0] = file_batch[0];
  infer_checked(g, path, fold);
  make_reshapes_follow_batch(g, file_batch[0]);
  reset_inferred(g);
  for (int in : g.inputs)
    if (!g.value(in).shape.empty()) g.value(in).shape[0] = max_batch;
}

// Keep the batch axis only if smaller batches really shrink every output's axis 0.
bool outputs_follow_batch(const Graph& g) {
  try {
    const std::vector<Shape> shapes = shapes_for_batch(g, 1);
    for (int o : g.outputs) {
      const Shape& s = shapes.at(size_t(o));
      if (s.empty() || s[0] != 1) return false;
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

namespace onnx {

Graph import_model(const ModelOptions& model, NodeEvaluator fold) {
  if (model.max_batch < 0)
    fail(ErrorKind::kInvalidArgument, "batch must be at least 1 (got ", model.max_batch, ")");
  const OnnxModel m = onnx::read_onnx_model(model.onnx_path);
  const std::string& path = m.path;
  onnx::GraphBuilder b(m, onnx::ImportMode::kStrict);
  if (b.g.opset < 1)
    fail(ErrorKind::kCorrupt, path, ": the model declares ONNX opset ", b.g.opset, "; opsets start at 1");
  if (b.g.opset > kMaxKnownOpset)
    fail(ErrorKind::kUnsupported, path, ": the model uses ONNX opset ", b.g.opset, "; trtcore knows opsets up to ",
         kMaxKnownOpset, " (later ones may change what an op means): export it with opset ", kMaxKnownOpset,
         " or lower");
  if (m.graph.outputs.empty())
    fail(ErrorKind::kInvalidArgument, path, ": the graph has no outputs, so there is nothing to compute");
  check_ops_supported(m, b.names, b.g.opset);

  std::set<std::string> initializer_names;
  for (const onnx::OnnxTensor& t : m.graph.initializers) initializer_names.insert(t.name);
  check_shape_names(m, model, initializer_names);
  const BatchChoice batch = choose_batch(m, model, initializer_names);
  const int64_t max_batch = batch.max_batch;
  bool has_batch_axis = false;
  std::vector<int64_t> file_batch;  // static axis 0 overridden by max_batch (for the reshape pre-pass)
  b.build([&](const OnnxValueInfo& vi, Value& v, std::string&) {
    v.dtype = input_dtype(path, vi);
    v.shape = input_shape(path, vi, model, batch, has_batch_axis, file_batch);
  });
  Graph& g = b.g;
  g.max_batch = max_batch;
  g.has_batch_axis = has_batch_axis;
  sort_checked(g, path);
  follow_overridden_batch(g, path, fold, file_batch, max_batch);
  infer_checked(g, path, fold);
  for (const Value& v : g.values)
    if (v.shape.size() > kMaxTensorRank)
      fail(ErrorKind::kUnsupported, path, ": tensor '", v.name, "' has rank ", v.shape.size(), "; trtcore supports at most ",
           kMaxTensorRank, " dimensions");

  if (g.has_batch_axis && max_batch > 1) {
    make_reshapes_follow_batch(g, max_batch);
    if (!outputs_follow_batch(g)) g.has_batch_axis = false;
  }
  return std::move(b.g);
}

std::vector<OpSupport> check_support(const std::string& onnx_path, NodeEvaluator fold) {
  const OnnxModel m = onnx::read_onnx_model(onnx_path);
  onnx::GraphBuilder b(m, onnx::ImportMode::kSurvey);
  // Every dynamic dim is taken as 1: the survey asks whether ops are supported, not how big the model runs.
  b.build([&](const OnnxValueInfo& vi, Value& v, std::string& reason) {
    if (!vi.is_tensor || !dtype_is_known(vi.elem_type)) {
      reason = "depends on graph input '" + vi.name + "', whose type trtcore does not support";
      return;
    }
    if (!vi.has_shape) {
      reason = "depends on graph input '" + vi.name + "', which has no shape in the model";
      return;
    }
    int64_t count = 1;
    for (const onnx::OnnxDim& d : vi.dims) {
      const int64_t dim = d.known ? d.value : 1;
      if (dim > 0 && count > kMaxInputElements / dim) {
        reason = "depends on graph input '" + vi.name + "', whose shape is too large";
        return;
      }
      count *= dim;
      v.shape.push_back(dim);
    }
    v.dtype = DType(vi.elem_type);
  });
  Graph& g = b.g;
  g.max_batch = 1;
  const size_t n_file = g.nodes.size();  // nodes are still in file order here
  std::vector<OpSupport> result(n_file);
  std::unordered_map<std::string, size_t> file_index;
  for (size_t i = 0; i < n_file; ++i) {
    result[i].node = b.names[i];
    result[i].op = m.graph.nodes[i].op_type;
    file_index[b.names[i]] = i;
  }
  sort_checked(g, m.path);
  std::vector<std::string>& unknown = b.unknown_reason;
  for (const Node& n : g.nodes) {
    const size_t fi = file_index.at(n.name);
    OpSupport& r = result[fi];
    auto mark_outputs = [&](const std::string& why) {
      for (int o : n.outputs)
        if (o >= 0) unknown[size_t(o)] = why;
    };
    std::string problem = op_problem(m.graph.nodes[fi], n.name, g.opset);
    if (problem.empty() && b.attr_problems.count(n.name)) problem = b.attr_problems.at(n.name);
    if (!problem.empty()) {
      r.supported = false;
      r.reason = problem;
      mark_outputs("depends on unsupported node '" + n.name + "'");
      continue;
    }
    std::string blocked;
    for (int i : n.inputs)
      if (i >= 0 && !unknown[size_t(i)].empty()) {
        blocked = unknown[size_t(i)];
        break;
      }
    if (!blocked.empty()) {
      r.reason = "not checked (" + blocked + ")";
      mark_outputs(blocked);
      continue;
    }
    // Infer this node alone in a one-node graph, so a failure stays with this node.
    Graph one;
    one.opset = g.opset;
    one.max_batch = 1;
    Node copy = n;
    for (int& i : copy.inputs)
      if (i >= 0) i = one.add_value(g.value(i));
    for (int& o : copy.outputs)
      if (o >= 0) {
        Value v;
        v.name = g.value(o).name;
        o = one.add_value(std::move(v));
      }
    one.nodes.push_back(std::move(copy));
    try {
      infer_shapes(one, fold);
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (n.outputs[k] >= 0) g.value(n.outputs[k]) = one.value(one.nodes[0].outputs[k]);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kUnsupported) {
        r.supported = false;
        r.reason = e.what();
        mark_outputs("depends on unsupported node '" + n.name + "'");
      } else {
        r.reason = std::string("not checked (shape inference failed: ") + e.what() + ")";
        mark_outputs("depends on node '" + n.name + "', whose shapes could not be inferred");
      }
    } catch (const std::exception& e) {
      r.reason = std::string("not checked (shape inference failed: ") + e.what() + ")";
      mark_outputs("depends on node '" + n.name + "', whose shapes could not be inferred");
    }
  }
  return result;
}

}  // namespace onnx
}  // namespace trtcore
