// `trtcore quantize`: a model calibrated here, written as a Q/DQ ONNX model (TensorRT's explicit-quantization form)
// that onnxruntime runs and TensorRT 10/11 builds, and that trtcore itself builds as INT8.
#pragma once
#include <string>

#include "trtcore/options.h"
#include "trtcore/progress.h"

namespace trtcore {

// Import, fold (batch norms, constants; no fusions that ONNX cannot express), calibrate or read the cache as an INT8
// build does, insert the Q/DQ pairs and write `output` atomically. Log lines go to `log`.
void quantize_model(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                    const std::string& output, std::string* log = nullptr, const ProgressFn& progress = {});

}  // namespace trtcore
