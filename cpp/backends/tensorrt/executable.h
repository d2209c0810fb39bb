// The tensorrt Executable: a deserialized engine, one execution context, one stream, pinned staging buffers.
#pragma once
#include <memory>
#include <string>

#include "trtcore/backend.h"

namespace trtcore::tensorrt {

// `engine` is the serialized TensorRT engine (the plan's tactics blob). Throws kInvalidArgument when it cannot
// be deserialized here and kUnsupported when its I/O does not match the graph's.
std::unique_ptr<Executable> make_executable(const Graph& g, const BuildOptions& opt, const std::string& engine);

}  // namespace trtcore::tensorrt
