// trtcore Graph → ONNX ModelProto bytes. Any part of trtcore can export a graph this way: the tensorrt backend
// hands its optimized graph to TensorRT's ONNX parser, and the same bytes can be written to a file and checked
// against onnxruntime. Plain C++ (no TensorRT include).
#pragma once
#include <cstdint>
#include <string>

#include "trtcore/graph.h"

namespace trtcore::onnx {

// How float32 tensors inside the model are stored. kFloat16 turns float32 weights, casts and constants into
// float16 while graph inputs/outputs keep their dtype through Cast nodes (TensorRT 11 builds FP16 from the types
// in the model, having no FP16 builder flag).
enum class FloatStorage { kAsGraph, kFloat16 };

// kDynamic writes axis 0 of the inputs as the symbolic dim "batch" (built with an optimization profile).
enum class BatchDim { kFixed, kDynamic };

struct OnnxExportOptions {
  FloatStorage floats = FloatStorage::kAsGraph;
  BatchDim batch = BatchDim::kFixed;
  // The default-domain opset written is the larger of this and the graph's (13 for per-axis Q/DQ). Nodes are
  // written in their graph form, so raise it only where the graph's ops keep that form up to this opset.
  int64_t min_opset = 0;
};

// Every initializer dtype trtcore holds is written as raw data; nodes keep their op types and attributes. Fused
// forms are expanded back into plain ONNX nodes: a Conv/ConvTranspose/Gemm "activation" becomes the activation
// node after it, a Conv residual (4th input) becomes an Add before that activation, and a FusedElementwise node
// becomes one node per instruction. Other internal ops throw kUnsupported naming the node.
std::string graph_to_onnx(const Graph& g, const OnnxExportOptions& opt);

// graph_to_onnx written to `path` atomically (a temporary file renamed over it). Throws kIo naming the path.
void write_onnx(const Graph& g, const OnnxExportOptions& opt, const std::string& path);

}  // namespace trtcore::onnx
