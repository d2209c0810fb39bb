// Q/DQ export (see quantize_model.h).
#include "runtime/quantize_model.h"

#include "backends/cpu/cpu_kernel.h"
#include "onnx/onnx_writer.h"
#include "runtime/precision_build.h"
#include "trtcore/backend.h"
#include "trtcore/error.h"
#include "trtcore/io.h"
#include "trtcore/onnx_import.h"
#include "trtcore/passes.h"

namespace trtcore {

void quantize_model(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                    const std::string& output, std::string* log, const ProgressFn& progress) {
  if (output.empty()) fail(ErrorKind::kInvalidArgument, "quantize needs an output path (-o model.qdq.onnx)");
  check_writable_file(output, "the Q/DQ model");
  check_calibration_cache_writable(build);
  Graph g = import_onnx(model);
  // per-axis Q/DQ needs opset 13; ops written in an older opset's form would not read the same at 13
  if (g.opset < 13)
    fail(ErrorKind::kUnsupported, "'", model.onnx_path, "' uses opset ", g.opset,
         "; quantize writes per-channel Q/DQ, which needs opset 13 or newer (convert the model first, e.g. with "
         "onnx.version_converter)");
  // Conv+Add+activation fusions are kept: the writer expands them back into Conv, Add(DQ(skip)) and the activation,
  // which is TensorRT's residual placement; merged siblings and fused elementwise chains are not.
  PassContext ctx;
  ctx.caps.sibling_convs = false;
  ctx.caps.elementwise_chains = false;
  ctx.disabled = build.disabled_passes;
  ctx.fold = cpu::evaluate_node;
  ctx.int8_equalization = build.int8_equalization;
  BuildOptions fp32 = build;
  fp32.precision = Precision::kFP32;
  std::unique_ptr<Backend> backend = create_backend(build.backend, fp32);
  const ChannelRanges ranges = int8_equalization_ranges(model, build, sys, *backend, log, progress);
  ctx.int8_channel_ranges = &ranges;
  optimize(g, ctx);
  BuildOptions qdq = build;
  qdq.int8_fallback = Int8Fallback::kFP32;  // the model written is the plain Q/DQ graph: no float16 casts
  const Int8Report report = apply_int8(g, model, qdq, sys, *backend, log, progress, ranges);
  if (report.int8_layers == 0)
    fail(ErrorKind::kInvalidArgument, "'", model.onnx_path, "' has no layer to quantize (Conv, Gemm or MatMul with ",
         "constant weights and a calibrated input)");
  onnx::OnnxExportOptions opt;
  opt.min_opset = 13;
  opt.batch = g.has_batch_axis ? onnx::BatchDim::kDynamic : onnx::BatchDim::kFixed;
  onnx::write_onnx(g, opt, output);
  if (log) *log += "quantized model written: " + output + "\n";
}

}  // namespace trtcore
