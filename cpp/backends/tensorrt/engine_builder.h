// Optimized Graph → serialized TensorRT engine (through ONNX and TensorRT's ONNX parser).
#pragma once
#include <string>

#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore::tensorrt {

// Returns the engine bytes (the plan's tactics blob). Throws kUnsupported when the parser rejects a node and
// kRuntime when the build fails, with TensorRT's error messages.
std::string build_engine(const Graph& g, const BuildOptions& opt);

}  // namespace trtcore::tensorrt
