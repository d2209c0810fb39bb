// The importer with its folding evaluator explicit: the core has no kernels, so whoever imports hands one in.
// trtcore/onnx_import.h's import_onnx and check_onnx_support call these with the cpu backend's evaluator.
#pragma once
#include <string>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/onnx_import.h"
#include "trtcore/options.h"

namespace trtcore::onnx {

// import_onnx with small shape subgraphs folded through `fold`.
Graph import_model(const ModelOptions& model, NodeEvaluator fold);

// check_onnx_support with small shape subgraphs folded through `fold`.
std::vector<OpSupport> check_support(const std::string& onnx_path, NodeEvaluator fold);

}  // namespace trtcore::onnx
