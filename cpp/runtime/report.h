// The results of runs and inspections: built once here as structured values, and formatted here as JSON text
// (`run --json`, and what the Python bindings return) and as the text tables the command line prints.
#pragma once
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "trtcore/engine.h"
#include "trtcore/onnx_import.h"
#include "trtcore/passes.h"

namespace trtcore {

std::string utc_now();  // "2026-01-31T12:00:00Z"

// What every timing result says about the engine it timed.
struct EngineFacts {
  std::string backend, precision, fp32_math, device, model, version;
  MemoryReport memory;  // of the engine, or of the context that ran
};

// One layer of a per-layer profile.
struct LayerTime {
  LayerInfo layer;  // name, op (fused label), precision, tactic, workspace
  double ms = 0;
};

// Whether the reported latency includes the host-device copies (trtexec's --noDataTransfers leaves them out).
enum class DataTransfers { kIncluded, kExcluded };

// How a trace is summarised: trtexec's --avgRuns window and --noDataTransfers.
struct TimingOptions {
  int avg_runs = 1;  // each statistic's sample is the mean of this many consecutive iterations
  DataTransfers transfers = DataTransfers::kIncluded;
};

// Above this coefficient of variation of the latency a run is reported as unstable.
constexpr double kUnstableCv = 0.10;

// A benchmark (with its per-iteration trace) summarised as trtexec does, and the directory run it followed if any.
struct TimingReport {
  EngineFacts engine;
  std::string date;
  BenchmarkResult timing;
  std::optional<DirectoryRunResult> directory;
  TimingOptions options;
  // Per batch, over avg_runs windows: latency is host latency (H2D + compute + D2H), or compute alone without
  // data transfers; enqueue is the host time to issue an iteration.
  Stats latency_ms, enqueue_ms, h2d_ms, compute_ms, d2h_ms, e2e_ms;
  double throughput = 0;          // samples/s from the mean latency: the command's one throughput
  double compute_throughput = 0;  // samples/s from the mean compute time
  double cv = 0;                  // std / mean of the latency
  std::vector<std::string> warnings;  // "unstable: ...", "enqueue-bound: ..."
  std::optional<std::vector<LayerTime>> profile;
};

// What `inspect --plan` shows of a built or loaded engine.
struct EngineSummary {
  EngineFacts engine;
  bool dynamic_batch = false;
  int64_t max_batch = 0;
  std::map<std::string, std::string> build_info;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<PassRecord> passes;
  std::vector<LayerInfo> layers;
};

EngineFacts engine_facts(const Engine& e, const MemoryReport& memory);
TimingReport timing_report(const Engine& e, const MemoryReport& memory, BenchmarkResult r,
                           const DirectoryRunResult* dir = nullptr, const TimingOptions& options = {});
// The statistics, throughputs and warnings of a report from its trace, facts and options.
void summarize_timing(TimingReport& t);
// Pairs the engine's layers with the times profile_layers measured for them.
std::vector<LayerTime> profile_report(const std::vector<LayerInfo>& layers, const std::vector<double>& ms);
EngineSummary engine_summary(const Engine& e);

std::string timing_json(const TimingReport& r);
std::string directory_json(const DirectoryRunResult& d);
std::string profile_json(const std::vector<LayerTime>& layers);
std::string memory_json(const MemoryReport& m);
// Per-iteration times (trtexec's --exportTimes): one object per timed iteration, in ms.
std::string times_json(const BenchmarkResult& r);

// The command line's text.
void print_timing(std::ostream& out, const TimingReport& r);
void print_directory(std::ostream& out, const DirectoryRunResult& d, const std::string& output_dir);
void print_profile(std::ostream& out, const std::vector<LayerTime>& layers);
void print_engine(std::ostream& out, const EngineSummary& s);
void print_pass_list(std::ostream& out);
// The per-op and per-node support of an ONNX file; returns how many nodes cannot be built.
size_t print_support(std::ostream& out, const std::string& onnx_path, const std::vector<OpSupport>& support);
// Inputs, outputs, pass counts and layers of a graph after import or optimize (`stage`).
void print_graph(std::ostream& out, const Graph& g, const std::vector<PassRecord>& passes, const std::string& stage);

}  // namespace trtcore
