// trtcore Graph → minimal ONNX ModelProto bytes, the form TensorRT's ONNX parser reads. Plain C++ (no TensorRT
// include), so it can be checked against onnxruntime on machines without TensorRT.
#pragma once
#include <string>

#include "trtcore/graph.h"

namespace trtcore::tensorrt {

// How float32 tensors inside the model are stored. kFloat16 turns float32 weights, casts and constants into
// float16 while graph inputs/outputs keep their dtype through Cast nodes (TensorRT 11 builds FP16 from the types
// in the model, having no FP16 builder flag).
enum class FloatStorage { kAsGraph, kFloat16 };

// kDynamic writes axis 0 of the inputs as the symbolic dim "batch" (built with an optimization profile).
enum class BatchDim { kFixed, kDynamic };

struct OnnxExportOptions {
  FloatStorage floats = FloatStorage::kAsGraph;
  BatchDim batch = BatchDim::kFixed;
};

// Fused forms are expanded back into plain ONNX nodes: a Conv/ConvTranspose/Gemm "activation" becomes the
// activation node after it, and a Conv residual (4th input) becomes an Add before that activation.
// Throws kUnsupported for graphs ONNX cannot express this way (a graph input that is also an output).
std::string graph_to_onnx(const Graph& g, const OnnxExportOptions& opt);

}  // namespace trtcore::tensorrt
