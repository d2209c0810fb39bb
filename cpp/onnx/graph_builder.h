// The first half of import: an ONNX graph's initializers, inputs, nodes and outputs as a trtcore Graph, with every
// name checked (duplicates, dangling inputs, missing outputs); shapes and batch handling are the importer's.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "onnx/onnx_model.h"
#include "onnx/tensor_data.h"
#include "trtcore/graph.h"

namespace trtcore::onnx {

// Strict import fails on anything it cannot represent; a survey (check_onnx_support) records it and goes on.
enum class ImportMode { kStrict, kSurvey };

bool default_domain(const std::string& domain);
// The model's default-domain opset (1 for files without opset_import).
int64_t default_opset(const OnnxModel& m);

// Fills a graph input's dtype and shape, or (in a survey) leaves the reason it cannot in the string.
using InputShaper = std::function<void(const OnnxValueInfo& vi, Value& v, std::string& reason)>;

class GraphBuilder {
 public:
  GraphBuilder(const OnnxModel& m, ImportMode mode);

  // Initializers, then graph inputs (shaped by `shape_input`), then node outputs and inputs.
  void build(const InputShaper& shape_input);
  // Converts a node's attributes; in a survey, problems are returned instead of thrown.
  Attrs convert_attrs(const OnnxNode& n, const std::string& name);

  Graph g;
  std::vector<std::string> names;                     // node names, file order
  std::vector<std::string> unknown_reason;            // survey: why a value's shape is unknown ("" when known)
  std::map<std::string, std::string> attr_problems;   // survey: node name → why its attributes cannot be read

 private:
  int add(Value v, const std::string& reason);
  std::string producer_desc(int id) const;
  void add_initializer(const OnnxTensor& t, size_t index);
  void add_node(const OnnxNode& on, const std::string& name);

  const OnnxModel& m_;
  const OnnxGraph& og_;
  ImportMode mode_;
  ExternalFiles external_;
  std::unordered_map<std::string, int> ids_;
  std::unordered_map<int, std::string> producer_;
  std::unordered_set<std::string> initializer_names_;
  std::unordered_set<std::string> sparse_;
};

}  // namespace trtcore::onnx
