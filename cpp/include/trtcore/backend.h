// The one interface every backend implements. A backend turns an optimized Graph into an Executable at build time
// (choosing tactics, which it returns as an opaque blob stored in the plan) and rebuilds the same Executable from
// the graph and that blob at load time without retuning.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trtcore/graph.h"
#include "trtcore/options.h"
#include "trtcore/passes.h"

namespace trtcore {

struct MemoryReport {
  size_t weights_bytes = 0;
  size_t activations_bytes = 0;  // after buffer reuse
  size_t workspace_bytes = 0;
  size_t total() const { return weights_bytes + activations_bytes + workspace_bytes; }
};

// One form a backend timed for a layer while building (trtexec --verbose's tactic timing lines).
struct TacticTime {
  std::string tactic;
  double ms = 0;     // per call; negative when the form was not timed or not kept
  std::string note;  // why not ("refused: ...", "output differs from the reference form")
};

struct LayerInfo {
  std::string name;       // node name
  std::string op;         // op (with fusions, e.g. "Conv+Add+Relu")
  std::string precision;  // "fp32", "tf32", "fp16", "int8"
  std::string tactic;     // chosen algorithm, "" if none
  size_t workspace_bytes = 0;  // scratch its tactic needs (the shared workspace is the largest of these)
  // The forms timed for it by this build, in the order timed (empty when the tactic came from a plan or a timing
  // cache, or the backend does not time).
  std::vector<TacticTime> candidates;
};

struct IterationTiming {
  double compute_ms = 0;  // device work only (CUDA events around the graph launch / steady clock on cpu)
  double e2e_ms = 0;      // host→device copy + compute + device→host copy, synchronised (trtexec's host latency)
  double h2d_ms = 0;      // host→device input copies (CUDA events; 0 on cpu)
  double d2h_ms = 0;      // device→host output copies (CUDA events; 0 on cpu)
  double enqueue_ms = 0;  // host time to issue the iteration's work (steady clock; on cpu the whole synchronous run)
};

class Executable {
 public:
  virtual ~Executable() = default;

  // Runs `batch` samples (1..max_batch). Inputs/outputs are host buffers in graph input/output order, each holding
  // `batch` samples of the value's dtype. Synchronous.
  virtual void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) = 0;

  // Stages `inputs`, runs `warmup` untimed iterations, then times `iterations`.
  virtual std::vector<IterationTiming> benchmark(int64_t batch, const std::vector<const void*>& inputs,
                                                 int iterations, int warmup) = 0;

  // Per-layer mean time in ms over `iterations` runs (same order as layers()); empty if unsupported.
  virtual std::vector<double> profile_layers(int64_t batch, int iterations) { (void)batch; (void)iterations; return {}; }

  virtual MemoryReport memory() const = 0;
  virtual std::vector<LayerInfo> layers() const = 0;

  // A further, independent executable of the same plan for another execution context, sharing what it can (the
  // uploaded weights); null when the backend shares nothing, and the plan is then loaded again.
  virtual std::unique_ptr<Executable> share(const SystemOptions& sys) const {
    (void)sys;
    return nullptr;
  }
};

// How a backend builds a precision: the core's precision stage rewrites the graph (FP16: dtypes and Cast nodes;
// INT8: QuantizeLinear/DequantizeLinear pairs) before the build, or the backend lowers it itself.
enum class PrecisionLowering { kBackend, kGraph };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // One line for reports: device and library versions.
  virtual std::string device_description() const = 0;
  // Facts stored in the plan and checked at load (device name, compute capability, library versions).
  virtual std::map<std::string, std::string> environment() const = 0;
  // Checks a plan's stored environment against this machine; throws kInvalidArgument naming the mismatch.
  virtual void check_environment(const std::map<std::string, std::string>& plan_env) const;
  // Describes nodes this backend cannot run (empty when all are supported).
  virtual std::vector<std::string> unsupported_nodes(const Graph& g, const BuildOptions& opt) const = 0;
  // Precisions this backend can build; others fail before any work instead of silently building FP32.
  virtual bool supports_precision(Precision p) const { return p == Precision::kFP32; }
  virtual PrecisionLowering precision_lowering(Precision p) const {
    (void)p;
    return PrecisionLowering::kBackend;
  }
  // What the optimizer may fuse into Conv/Gemm for this backend.
  virtual FusionCaps fusion_caps() const { return FusionCaps{}; }

  virtual std::unique_ptr<Executable> build(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                            std::string* tactics_out) = 0;
  virtual std::unique_ptr<Executable> load(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                           const std::string& tactics) = 0;
};

// Names of backends compiled into this library ("cpu" always).
std::vector<std::string> compiled_backends();
// The cpu kernels' instruction-set level in this process and the levels compiled in, e.g.
// "avx512 (compiled: baseline, avx2, avx512; int8: vnni)"; TRTCORE_CPU_ISA picks another level.
std::string cpu_kernel_isa();
// True when a CUDA device can be used now (false without a driver/GPU, never throws).
bool cuda_device_available();
// "auto" picks cuda when available, else cpu. Throws kUnsupported for a backend not compiled in or not usable.
std::unique_ptr<Backend> create_backend(BackendKind kind, const BuildOptions& opt = {});

}  // namespace trtcore
