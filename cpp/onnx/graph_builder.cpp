// The ONNX graph → trtcore Graph step of import (see graph_builder.h).
#include "onnx/graph_builder.h"

#include "trtcore/error.h"

namespace trtcore::onnx {
namespace {

// The file's node names, with empty or repeated ones replaced by "<op>_<index>".
std::vector<std::string> node_names(const OnnxGraph& og) {
  std::unordered_set<std::string> used;
  std::vector<std::string> names(og.nodes.size());
  std::vector<size_t> unnamed;
  for (size_t i = 0; i < og.nodes.size(); ++i) {
    const std::string& n = og.nodes[i].name;
    if (!n.empty() && used.insert(n).second) names[i] = n;
    else unnamed.push_back(i);
  }
  for (size_t i : unnamed) {
    std::string base = og.nodes[i].op_type + "_" + std::to_string(i), cand = base;
    for (int k = 1; used.count(cand); ++k) cand = base + "_" + std::to_string(k);
    used.insert(cand);
    names[i] = cand;
  }
  return names;
}

}  // namespace

bool default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

int64_t default_opset(const OnnxModel& m) {
  for (const OnnxOpset& o : m.opsets)
    if (default_domain(o.domain)) return o.version;
  return 1;  // files without opset_import predate opsets: version 1 semantics
}

GraphBuilder::GraphBuilder(const OnnxModel& m, ImportMode mode) : m_(m), og_(m.graph), mode_(mode), external_(m.path) {
  g.name = og_.name;
  g.opset = default_opset(m);
  names = node_names(og_);
}

void GraphBuilder::build(const InputShaper& shape_input) {
  for (size_t i = 0; i < og_.initializers.size(); ++i) add_initializer(og_.initializers[i], i);
  for (const std::string& s : og_.sparse_initializers) sparse_.insert(s);
  for (size_t i = 0; i < og_.inputs.size(); ++i) {
    const OnnxValueInfo& vi = og_.inputs[i];
    if (ids_.count(vi.name)) {
      if (!initializer_names_.count(vi.name))
        fail(ErrorKind::kCorrupt, m_.path, ": graph input '", vi.name, "' is listed twice");
      continue;  // old IR files list weights as inputs too
    }
    if (vi.name.empty()) fail(ErrorKind::kCorrupt, m_.path, ": graph input ", i, " has no name");
    Value v;
    v.name = vi.name;
    std::string reason;
    shape_input(vi, v, reason);
    const int id = add(std::move(v), reason);
    g.inputs.push_back(id);
  }
  // Outputs first, so nodes may appear in any order in the file.
  for (size_t i = 0; i < og_.nodes.size(); ++i) {
    for (const std::string& out : og_.nodes[i].outputs) {
      if (out.empty()) continue;
      auto it = ids_.find(out);
      if (it != ids_.end())
        fail(ErrorKind::kCorrupt, m_.path, ": tensor '", out, "' is produced by node '", names[i],
             "' but is already defined by ", producer_desc(it->second));
      Value v;
      v.name = out;
      producer_[add(std::move(v), "")] = names[i];
    }
  }
  for (size_t i = 0; i < og_.nodes.size(); ++i) add_node(og_.nodes[i], names[i]);
  for (const OnnxValueInfo& vi : og_.outputs) {
    auto it = ids_.find(vi.name);
    if (it == ids_.end())
      fail(ErrorKind::kCorrupt, m_.path, ": graph output '", vi.name, "' is not produced by any node, input or initializer");
    g.outputs.push_back(it->second);
  }
}

Attrs GraphBuilder::convert_attrs(const OnnxNode& n, const std::string& name) {
  Attrs attrs;
  for (const OnnxAttribute& a : n.attributes) {
    const std::string where = "node '" + name + "' (" + n.op_type + ") attribute '" + a.name + "'";
    switch (a.type) {
      case AttrType::kFloat: attrs.set(a.name, a.f); break;
      case AttrType::kInt: attrs.set(a.name, a.i); break;
      case AttrType::kString: attrs.set(a.name, a.s); break;
      case AttrType::kFloats: attrs.set(a.name, a.floats); break;
      case AttrType::kInts: attrs.set(a.name, a.ints); break;
      case AttrType::kStrings:
        if (a.strings.size() > 1)
          fail(ErrorKind::kUnsupported, m_.path, ": ", where, " holds ", a.strings.size(),
               " strings; trtcore reads at most one");
        attrs.set(a.name, a.strings.empty() ? std::string() : a.strings[0]);
        break;
      case AttrType::kTensor:
        if (!a.t) fail(ErrorKind::kCorrupt, m_.path, ": ", where, " is declared a tensor but holds none");
        attrs.set(a.name, std::make_shared<const Tensor>(to_tensor(*a.t, where, external_)));
        break;
      case AttrType::kUndefined:
        fail(ErrorKind::kCorrupt, m_.path, ": ", where, " has no value");
      default:
        fail(ErrorKind::kUnsupported, m_.path, ": ", where, " holds a ", attr_type_name(a.type),
             ", which trtcore does not read");
    }
  }
  return attrs;
}

int GraphBuilder::add(Value v, const std::string& reason) {
  const std::string name = v.name;
  const int id = g.add_value(std::move(v));
  ids_[name] = id;
  unknown_reason.push_back(reason);
  return id;
}

std::string GraphBuilder::producer_desc(int id) const {
  auto it = producer_.find(id);
  if (it != producer_.end()) return "node '" + it->second + "'";
  return initializer_names_.count(g.value(id).name) ? "an initializer" : "a graph input";
}

void GraphBuilder::add_initializer(const OnnxTensor& t, size_t index) {
  if (t.name.empty()) fail(ErrorKind::kCorrupt, m_.path, ": initializer ", index, " has no name");
  if (ids_.count(t.name)) fail(ErrorKind::kCorrupt, m_.path, ": initializer '", t.name, "' is defined twice");
  initializer_names_.insert(t.name);
  const std::string desc = "initializer '" + t.name + "'";
  if (mode_ == ImportMode::kSurvey) {
    try {
      g.add_constant(t.name, to_tensor(t, desc, external_));
      unknown_reason.push_back("");
      ids_[t.name] = int(g.values.size()) - 1;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnsupported) throw;
      Value v;
      v.name = t.name;
      add(std::move(v), "depends on " + desc + ", which trtcore cannot read");
    }
    return;
  }
  g.add_constant(t.name, to_tensor(t, desc, external_));
  unknown_reason.push_back("");
  ids_[t.name] = int(g.values.size()) - 1;
}

void GraphBuilder::add_node(const OnnxNode& on, const std::string& name) {
  Node n;
  n.name = name;
  n.op = on.op_type;
  for (const std::string& in : on.inputs) {
    if (in.empty()) {
      n.inputs.push_back(-1);
      continue;
    }
    auto it = ids_.find(in);
    if (it == ids_.end()) {
      if (sparse_.count(in))
        fail(ErrorKind::kUnsupported, m_.path, ": node '", name, "' (", on.op_type, ") reads sparse initializer '", in,
             "'; trtcore does not read sparse tensors");
      fail(ErrorKind::kCorrupt, m_.path, ": node '", name, "' (", on.op_type, ") reads tensor '", in,
           "', which no node, graph input or initializer produces");
    }
    n.inputs.push_back(it->second);
  }
  for (const std::string& out : on.outputs) n.outputs.push_back(out.empty() ? -1 : ids_.at(out));
  if (mode_ == ImportMode::kStrict) {
    n.attrs = convert_attrs(on, name);
  } else {
    try {
      n.attrs = convert_attrs(on, name);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnsupported) throw;
      attr_problems[name] = e.what();
    }
  }
  g.nodes.push_back(std::move(n));
}

}  // namespace trtcore::onnx
