// Stages 4–6 as one object: a built or loaded plan bound to a backend, ready to run and time.
// This is what the Python binding and the standalone executable wrap; it holds the logic they share.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "trtcore/backend.h"
#include "trtcore/plan.h"
#include "trtcore/progress.h"
#include "trtcore/stats.h"

namespace trtcore {

struct TensorInfo {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;              // at the plan's maximum batch
  bool batched = false;     // axis 0 is the batch axis
  size_t sample_bytes() const;  // bytes of one sample (shape without batch axis when batched)
};

struct BenchmarkResult {
  int64_t batch = 0;
  int iterations = 0;
  std::vector<IterationTiming> trace;
  Stats compute_ms;          // per batch, GPU compute (cpu: steady clock)
  Stats e2e_ms;              // per batch, with copies
  double throughput = 0;     // samples/s from mean end-to-end time
  double compute_throughput = 0;  // samples/s from mean compute time
};

struct DirectoryRunResult {
  size_t samples = 0;
  size_t batches = 0;                 // per pass over the folder
  int passes = 1;                     // passes over the folder (--iter with --dir), all timed
  std::vector<std::string> output_files;
  std::vector<std::string> warnings;  // e.g. outputs holding NaN/Inf, named by file and tensor
  Stats batch_ms;                     // wall time per batch (copies included), over all passes
  double throughput = 0;              // samples/s over the timed passes
};

class ExecutionContext;
class ExecutablePool;

class Engine {
 public:
  // Import → optimize → precision → lower → build on the chosen backend. Log lines go to `log` if non-null; long
  // steps (INT8 calibration) report to `progress`.
  static std::unique_ptr<Engine> build(const ModelOptions& model, const BuildOptions& build,
                                       const SystemOptions& sys = {}, std::string* log = nullptr,
                                       const ProgressFn& progress = {});
  static std::unique_ptr<Engine> load(const std::string& plan_path, const SystemOptions& sys = {});

  ~Engine();
  void save(const std::string& plan_path) const;

  const Plan& plan() const { return plan_; }
  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  int64_t max_batch() const { return plan_.graph.max_batch; }
  std::string backend_name() const { return plan_.backend; }
  std::string device_description() const;
  MemoryReport memory() const { return exec_->memory(); }
  std::vector<LayerInfo> layers() const { return exec_->layers(); }

  // Host buffers in input/output order, `batch` samples each. Thread safety: the run calls (infer, benchmark,
  // profile_layers, run_directory) may come from any number of threads at once; overlapping calls run on separate
  // executables made on demand (see ExecutablePool), so a serial caller pays for one.
  void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs);
  // Checks each input's dtype and shape against the plan (naming the tensor), derives the batch, runs, and
  // returns the outputs.
  std::vector<Tensor> infer(const std::vector<TensorView>& inputs);
  // The checks of infer(views) alone: returns the batch the inputs carry.
  int64_t batch_of(const std::vector<TensorView>& inputs) const;
  // Output shapes of a run at `batch`, so callers can allocate outputs themselves (no extra copy).
  std::vector<Shape> output_shapes(int64_t batch) const;
  // Times random inputs (uniform in [-1, 1], seeded) at `batch` (0 = maximum).
  BenchmarkResult benchmark(int64_t batch, int iterations, int warmup, unsigned seed = 0);
  std::vector<double> profile_layers(int64_t batch, int iterations);

  // The thesis workflow: every file in `dir` is one raw sample of the input (several inputs: one sub-folder per input
  // name, files paired by name); outputs written one file per sample (same name) into output_dir (if non-empty),
  // atomically. Errors name the offending file or folder.
  // Non-finite input values are an error naming the file; `iterations` repeats the pass for timing; `progress`
  // hears of every batch.
  DirectoryRunResult run_directory(const std::string& dir, const std::string& output_dir, int64_t batch,
                                   int iterations, const ProgressFn& progress = {});

  // A further execution context: its own stream, activation memory, workspace, I/O buffers and CUDA graphs, sharing
  // the weights where the backend can (cuda). Contexts run concurrently from different threads, each one call at a
  // time; the engine must outlive them. sys.threads 0 keeps the engine's thread setting.
  std::unique_ptr<ExecutionContext> create_context(const SystemOptions& sys = {}) const;

 private:
  friend class ExecutionContext;
  Engine() = default;
  void bind(std::unique_ptr<Backend> backend, std::unique_ptr<Executable> exec, const SystemOptions& sys);
  std::unique_ptr<Executable> make_executable(const SystemOptions& sys) const;
  // The run paths shared by the engine's own executable and its contexts'.
  void infer_on(Executable& x, int64_t batch, const std::vector<const void*>& inputs,
                const std::vector<void*>& outputs) const;
  std::vector<Tensor> infer_on(Executable& x, const std::vector<TensorView>& inputs) const;
  BenchmarkResult benchmark_on(Executable& x, int64_t batch, int iterations, int warmup, unsigned seed) const;
  Plan plan_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Executable> exec_;
  SystemOptions sys_;
  std::unique_ptr<ExecutablePool> pool_;  // exec_ and more for overlapping calls; declared after exec_, freed first
  std::vector<TensorInfo> inputs_, outputs_;
  mutable std::map<int64_t, std::vector<Shape>> output_shape_cache_;
  mutable std::mutex output_shape_mutex_;  // contexts on several threads share the cache
};

// One more set of run-time resources for an engine (see Engine::create_context); same checks and timing as the
// engine's own calls.
class ExecutionContext {
 public:
  void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
    engine_.infer_on(*exec_, batch, inputs, outputs);
  }
  std::vector<Tensor> infer(const std::vector<TensorView>& inputs) { return engine_.infer_on(*exec_, inputs); }
  BenchmarkResult benchmark(int64_t batch, int iterations, int warmup, unsigned seed = 0) {
    return engine_.benchmark_on(*exec_, batch, iterations, warmup, seed);
  }
  MemoryReport memory() const { return exec_->memory(); }
  const Engine& engine() const { return engine_; }

 private:
  friend class Engine;
  ExecutionContext(const Engine& e, std::unique_ptr<Executable> x) : engine_(e), exec_(std::move(x)) {}
  const Engine& engine_;
  std::unique_ptr<Executable> exec_;
};

const char* version();

// Where `load_graph` stops: after import (shapes inferred, small shape subgraphs folded), after optimization, or after
// the precision stage (FP16 casts / INT8 Q/DQ pairs, calibrating as a build would).
enum class Stage { kImport, kOptimize, kPrecision };
Stage stage_from_name(const std::string& name);  // "import" | "optimize" | "precision"

// Import (and optimize) without building: what `trtcore inspect --stop-after` shows and pass tests inspect.
// A context without a folding evaluator folds with the cpu backend's kernels, as Engine::build does.
// kPrecision needs `build` (its precision, calibration and backend for calibration runs); log lines go to `log`.
Graph load_graph(const ModelOptions& model, Stage stop_after, const PassContext& ctx,
                 std::vector<PassRecord>* passes = nullptr, const BuildOptions* build = nullptr,
                 std::string* log = nullptr);

}  // namespace trtcore
