// The public import entry points: the core's importer with the cpu backend's kernels as its folding evaluator.
#include "backends/cpu/cpu_kernel.h"
#include "onnx/importer.h"
#include "trtcore/onnx_import.h"

namespace trtcore {

Graph import_onnx(const ModelOptions& model) { return onnx::import_model(model, cpu::evaluate_node); }

std::vector<OpSupport> check_onnx_support(const std::string& onnx_path) {
  return onnx::check_support(onnx_path, cpu::evaluate_node);
}

}  // namespace trtcore
