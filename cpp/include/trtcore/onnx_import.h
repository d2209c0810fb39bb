// Stage 1: ONNX file → Graph. Reads the protobuf itself (no libprotobuf), external-data files included.
#pragma once
#include <string>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore {

// One entry per node of the file, for `inspect --onnx`.
struct OpSupport {
  std::string node;
  std::string op;
  bool supported = true;
  std::string reason;  // empty when supported
};

// Both entry points fold small shape subgraphs with the cpu backend's kernels (defined by the runtime library;
// the core's importer, cpp/onnx/importer.h, takes the evaluator as an argument).

// Parses the file into a Graph with shapes inferred for model.max_batch / model.shapes.
// Fails before any work on unsupported ops or attribute values, naming the node, op type and opset.
Graph import_onnx(const ModelOptions& model);

// Parses without failing on unsupported ops: lists every node as supported or not.
std::vector<OpSupport> check_onnx_support(const std::string& onnx_path);

}  // namespace trtcore
