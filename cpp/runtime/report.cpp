#include "runtime/report.h"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "runtime/json.h"

namespace trtcore {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

EngineFacts engine_facts(const Engine& e, const MemoryReport& memory) {
  const Plan& p = e.plan();
  EngineFacts f;
  f.backend = e.backend_name();
  f.precision = precision_name(p.build.precision);
  f.fp32_math = p.build.fp32_math == Fp32Math::kTF32 ? "tf32" : "strict";
  f.device = e.device_description();
  f.model = p.build_info.count("source_model") ? p.build_info.at("source_model") : "";
  f.version = version();
  f.memory = memory;
  return f;
}

TimingReport timing_report(const Engine& e, const MemoryReport& memory, BenchmarkResult r,
                           const DirectoryRunResult* dir, const TimingOptions& options) {
  TimingReport t;
  t.engine = engine_facts(e, memory);
  t.date = utc_now();
  t.timing = std::move(r);
  if (dir) t.directory = *dir;
  t.options = options;
  summarize_timing(t);
  return t;
}

// Means of `window` consecutive values (the last window may be shorter): trtexec's --avgRuns.
static Stats windowed_stats(const std::vector<IterationTiming>& trace, double IterationTiming::*field, int window) {
  std::vector<double> v;
  const size_t w = size_t(std::max(1, window));
  for (size_t i = 0; i < trace.size(); i += w) {
    const size_t end = std::min(trace.size(), i + w);
    double sum = 0;
    for (size_t k = i; k < end; ++k) sum += trace[k].*field;
    v.push_back(sum / double(end - i));
  }
  return compute_stats(std::move(v));
}

static std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

void summarize_timing(TimingReport& t) {
  const std::vector<IterationTiming>& trace = t.timing.trace;
  const int w = t.options.avg_runs;
  t.e2e_ms = windowed_stats(trace, &IterationTiming::e2e_ms, w);
  t.compute_ms = windowed_stats(trace, &IterationTiming::compute_ms, w);
  t.h2d_ms = windowed_stats(trace, &IterationTiming::h2d_ms, w);
  t.d2h_ms = windowed_stats(trace, &IterationTiming::d2h_ms, w);
  t.enqueue_ms = windowed_stats(trace, &IterationTiming::enqueue_ms, w);
  const bool transfers = t.options.transfers == DataTransfers::kIncluded;
  t.latency_ms = transfers ? t.e2e_ms : t.compute_ms;
  const double batch = double(t.timing.batch);
  t.throughput = t.latency_ms.mean > 0 ? batch * 1000.0 / t.latency_ms.mean : 0;
  t.compute_throughput = t.compute_ms.mean > 0 ? batch * 1000.0 / t.compute_ms.mean : 0;
  t.cv = t.latency_ms.mean > 0 ? t.latency_ms.std / t.latency_ms.mean : 0;
  t.warnings.clear();
  const char* what = transfers ? "latency" : "compute time";
  if (t.latency_ms.count >= 2 && t.cv > kUnstableCv)
    t.warnings.push_back("unstable: the " + std::string(what) + "'s coefficient of variation is " +
                         fixed(100 * t.cv, 1) + "% (above " + fixed(100 * kUnstableCv, 0) +
                         "%); the machine was busy or clocks changed: time longer (--duration) on an idle machine");
  // A GPU that waits for the host to issue work times the host, not the network (trtexec's enqueue-bound check).
  if (t.engine.backend != "cpu" && t.enqueue_ms.count > 0 && t.enqueue_ms.mean >= t.compute_ms.mean &&
      t.compute_ms.mean > 0)
    t.warnings.push_back("enqueue-bound: issuing an iteration takes " + fixed(t.enqueue_ms.mean, 3) +
                         " ms on the host, GPU compute " + fixed(t.compute_ms.mean, 3) +
                         " ms; the GPU waits for the host (CUDA graphs help: leave out --no-cuda-graph)");
}

std::vector<LayerTime> profile_report(const std::vector<LayerInfo>& layers, const std::vector<double>& ms) {
  std::vector<LayerTime> out;
  for (size_t i = 0; i < layers.size() && i < ms.size(); ++i) out.push_back({layers[i], ms[i]});
  return out;
}

EngineSummary engine_summary(const Engine& e) {
  const Plan& p = e.plan();
  EngineSummary s;
  s.engine = engine_facts(e, e.memory());
  s.dynamic_batch = p.graph.has_batch_axis;
  s.max_batch = p.graph.max_batch;
  s.build_info = p.build_info;
  s.inputs = e.inputs();
  s.outputs = e.outputs();
  s.passes = p.passes;
  s.layers = e.layers();
  return s;
}

// ---------------------------------------------------------------------------------------------------- JSON

static std::string stats_json(const Stats& s) {
  std::ostringstream os;
  os << "{\"mean\": " << json_number(s.mean) << ", \"std\": " << json_number(s.std)
     << ", \"min\": " << json_number(s.min) << ", \"max\": " << json_number(s.max)
     << ", \"median\": " << json_number(s.median) << ", \"p90\": " << json_number(s.p90)
     << ", \"p95\": " << json_number(s.p95) << ", \"p99\": " << json_number(s.p99) << ", \"count\": " << s.count
     << "}";
  return os.str();
}

static std::string strings_json(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_string(v[i]);
  return out + "]";
}

std::string memory_json(const MemoryReport& m) {
  std::ostringstream os;
  os << "{\"weights\": " << m.weights_bytes << ", \"activations\": " << m.activations_bytes
     << ", \"workspace\": " << m.workspace_bytes << ", \"total\": " << m.total() << "}";
  return os.str();
}

std::string directory_json(const DirectoryRunResult& d) {
  std::ostringstream os;
  os << "{\"samples\": " << d.samples << ", \"batches\": " << d.batches << ", \"passes\": " << d.passes
     << ", \"outputs_written\": " << d.output_files.size() << ", \"batch_ms\": " << stats_json(d.batch_ms)
     << ", \"throughput\": " << json_number(d.throughput) << ", \"warnings\": " << strings_json(d.warnings)
     << ", \"output_files\": " << strings_json(d.output_files) << "}";
  return os.str();
}

std::string timing_json(const TimingReport& t) {
  const EngineFacts& f = t.engine;
  const BenchmarkResult& r = t.timing;
  std::ostringstream os;
  os << "{\n  \"engine\": \"trtcore\",\n  \"backend\": " << json_string(f.backend)
     << ",\n  \"precision\": " << json_string(f.precision) << ",\n  \"fp32_math\": " << json_string(f.fp32_math)
     << ",\n  \"device\": " << json_string(f.device) << ",\n  \"model\": " << json_string(f.model)
     << ",\n  \"trtcore_version\": " << json_string(f.version) << ",\n  \"date\": " << json_string(t.date)
     << ",\n  \"batch\": " << r.batch << ",\n  \"iterations\": " << r.iterations
     << ",\n  \"avg_runs\": " << t.options.avg_runs
     << ",\n  \"data_transfers\": " << (t.options.transfers == DataTransfers::kIncluded ? "true" : "false")
     << ",\n  \"compute_ms\": " << stats_json(t.compute_ms) << ",\n  \"e2e_ms\": " << stats_json(t.e2e_ms)
     << ",\n  \"latency_ms\": " << stats_json(t.latency_ms) << ",\n  \"enqueue_ms\": " << stats_json(t.enqueue_ms)
     << ",\n  \"h2d_ms\": " << stats_json(t.h2d_ms) << ",\n  \"d2h_ms\": " << stats_json(t.d2h_ms)
     << ",\n  \"throughput\": " << json_number(t.throughput)
     << ",\n  \"compute_throughput\": " << json_number(t.compute_throughput)
     << ",\n  \"cv\": " << json_number(t.cv) << ",\n  \"warnings\": " << strings_json(t.warnings)
     << ",\n  \"memory\": " << memory_json(f.memory);
  if (t.directory) os << ",\n  \"directory\": " << directory_json(*t.directory);
  if (t.profile) os << ",\n  \"profile\": " << profile_json(*t.profile);
  os << ",\n  \"trace\": [";
  for (size_t i = 0; i < r.trace.size(); ++i)
    os << (i ? ", " : "") << "[" << json_number(r.trace[i].compute_ms) << ", " << json_number(r.trace[i].e2e_ms)
       << "]";
  os << "]\n}\n";
  return os.str();
}

std::string times_json(const BenchmarkResult& r) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < r.trace.size(); ++i) {
    const IterationTiming& t = r.trace[i];
    os << (i ? ",\n " : "") << "{\"iteration\": " << i << ", \"latencyMs\": " << json_number(t.e2e_ms)
       << ", \"enqueueMs\": " << json_number(t.enqueue_ms) << ", \"h2dMs\": " << json_number(t.h2d_ms)
       << ", \"computeMs\": " << json_number(t.compute_ms) << ", \"d2hMs\": " << json_number(t.d2h_ms) << "}";
  }
  os << "]\n";
  return os.str();
}

std::string profile_json(const std::vector<LayerTime>& layers) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo& l = layers[i].layer;
    os << (i ? ",\n " : "") << "{\"name\": " << json_string(l.name) << ", \"op\": " << json_string(l.op)
       << ", \"precision\": " << json_string(l.precision) << ", \"tactic\": " << json_string(l.tactic)
       << ", \"workspace_bytes\": " << l.workspace_bytes << ", \"ms\": " << json_number(layers[i].ms) << "}";
  }
  os << "]\n";
  return os.str();
}

// ---------------------------------------------------------------------------------------------------- text

static void print_stats_row(std::ostream& out, const char* label, const Stats& s) {
  out << "  " << std::left << std::setw(14) << label << std::right << std::fixed << std::setprecision(3);
  for (double v : {s.mean, s.std, s.min, s.max, s.median, s.p90, s.p95, s.p99}) out << std::setw(10) << v;
  out << "\n";
}

void print_timing(std::ostream& out, const TimingReport& t) {
  const BenchmarkResult& r = t.timing;
  const bool gpu = t.engine.backend != "cpu";
  const bool transfers = t.options.transfers == DataTransfers::kIncluded;
  out << "timing: batch " << r.batch << ", " << r.iterations << " iterations";
  if (t.directory) out << " on one batch, after the directory passes";
  if (t.options.avg_runs > 1) out << " in windows of " << t.options.avg_runs;
  out << " (ms per batch" << (transfers ? "" : ", compute only: --noDataTransfers") << ")\n";
  out << "  " << std::left << std::setw(14) << "" << std::right;
  for (const char* h : {"mean", "std", "min", "max", "median", "p90", "p95", "p99"}) out << std::setw(10) << h;
  out << "\n";
  // The cpu backend works in host memory and synchronously: its latency is its compute time.
  if (gpu && transfers) print_stats_row(out, "host latency", t.latency_ms);
  if (gpu) print_stats_row(out, "enqueue", t.enqueue_ms);
  if (gpu && transfers) print_stats_row(out, "H2D", t.h2d_ms);
  print_stats_row(out, gpu ? "GPU compute" : "compute", t.compute_ms);
  if (gpu && transfers) print_stats_row(out, "D2H", t.d2h_ms);
  out << std::setprecision(1) << "throughput: " << t.throughput << " samples/s ("
      << (gpu && transfers ? "mean host latency" : "mean compute time") << ")\n";
  out.unsetf(std::ios::fixed);
  for (const std::string& w : t.warnings) out << "warning: " << w << "\n";
}

void print_directory(std::ostream& out, const DirectoryRunResult& d, const std::string& output_dir) {
  out << "samples: " << d.samples << " files in " << d.batches << " batches";
  if (!d.output_files.empty()) out << ", " << d.output_files.size() << " output files written to " << output_dir;
  out << "\n";
  for (const std::string& w : d.warnings) out << "warning: " << w << "\n";
  // Its throughput is in --json; the command prints one throughput, the timing's.
  out << std::fixed << std::setprecision(3) << "directory: " << d.passes << (d.passes == 1 ? " pass" : " passes")
      << " x " << d.batches << " batches timed, " << d.batch_ms.mean << " ms per batch with copies (std "
      << d.batch_ms.std << ")\n";
  out.unsetf(std::ios::fixed);
}

void print_profile(std::ostream& out, const std::vector<LayerTime>& layers) {
  double total = 0;
  for (const LayerTime& l : layers) total += l.ms;
  // Columns as wide as their longest entry (fused labels and tactics vary a lot in length).
  size_t wn = 5, wo = 4;
  for (const LayerTime& l : layers) {
    wn = std::max(wn, l.layer.name.size());
    wo = std::max(wo, l.layer.op.size());
  }
  out << "per-layer time (mean of 10 runs, ms):\n";
  out << "  " << std::left << std::setw(int(wn + 2)) << "layer" << std::setw(int(wo + 2)) << "kind" << std::right
      << std::setw(10) << "ms" << std::setw(8) << "share" << "  tactic\n";
  for (const LayerTime& l : layers)
    out << "  " << std::left << std::setw(int(wn + 2)) << l.layer.name << std::setw(int(wo + 2)) << l.layer.op
        << std::right << std::fixed << std::setprecision(4) << std::setw(10) << l.ms << std::setprecision(1)
        << std::setw(7) << (total > 0 ? 100.0 * l.ms / total : 0.0) << "%  " << l.layer.tactic << "\n";
  out.unsetf(std::ios::fixed);
}

static std::string human_bytes(size_t b) {
  std::ostringstream os;
  os.precision(3);
  if (b >= (size_t(1) << 30)) os << double(b) / double(size_t(1) << 30) << " GiB";
  else if (b >= (size_t(1) << 20)) os << double(b) / double(size_t(1) << 20) << " MiB";
  else if (b >= 1024) os << double(b) / 1024.0 << " KiB";
  else os << b << " B";
  return os.str();
}

static void print_tensors(std::ostream& out, const char* title, const std::vector<TensorInfo>& ts) {
  out << title << ":\n";
  for (const TensorInfo& t : ts)
    out << "  " << t.name << "  " << dtype_name(t.dtype) << "  " << shape_str(t.shape) << "\n";
}

void print_engine(std::ostream& out, const EngineSummary& s) {
  const EngineFacts& f = s.engine;
  out << "backend: " << f.backend << " (" << f.device << ")\n";
  out << "precision: " << f.precision
      << (f.precision == precision_name(Precision::kFP32) && f.backend != "cpu"  // TF32 is a GPU notion
              ? (f.fp32_math == "tf32" ? " (TF32 tensor-core math allowed)" : " (strict)")
              : "")
      << "\n";
  out << "batch: " << (s.dynamic_batch ? "dynamic, 1.." : "fixed ") << s.max_batch << "\n";
  for (const auto& [k, v] : s.build_info) out << "build." << k << ": " << v << "\n";
  print_tensors(out, "inputs", s.inputs);
  print_tensors(out, "outputs", s.outputs);
  out << "passes:\n";
  for (const PassRecord& p : s.passes)
    out << "  " << p.name << (p.skipped ? "  (skipped)" : "") << "  " << p.nodes_before << " -> " << p.nodes_after
        << " layers\n";
  out << "layers (" << s.layers.size() << "):\n";
  for (const LayerInfo& l : s.layers) {
    out << "  " << l.name << "  " << l.op << "  " << l.precision << (l.tactic.empty() ? "" : "  tactic=" + l.tactic)
        << (l.workspace_bytes ? "  workspace=" + human_bytes(l.workspace_bytes) : "") << "\n";
    for (const TacticTime& t : l.candidates) {  // the build's timing of each form, as trtexec --verbose lists them
      out << "      " << t.tactic;
      if (t.ms >= 0) out << "  " << json_number(t.ms) << " ms";
      out << (t.note.empty() ? "" : "  (" + t.note + ")") << (t.tactic == l.tactic ? "  <- chosen" : "") << "\n";
    }
  }
  const MemoryReport& m = f.memory;
  out << "memory: weights " << human_bytes(m.weights_bytes) << ", activations " << human_bytes(m.activations_bytes)
      << ", workspace " << human_bytes(m.workspace_bytes) << ", total " << human_bytes(m.total()) << "\n";
}

void print_pass_list(std::ostream& out) {
  for (const Pass& p : default_passes()) out << std::left << std::setw(24) << p.name << p.description << "\n";
  out << "after the precision stage (lowering):\n";
  for (const Pass& p : lowering_passes()) out << std::left << std::setw(24) << p.name << p.description << "\n";
}

size_t print_support(std::ostream& out, const std::string& onnx_path, const std::vector<OpSupport>& support) {
  size_t bad = 0;
  std::map<std::string, std::pair<int, int>> per_op;  // op -> (count, unsupported)
  for (const OpSupport& s : support) {
    auto& c = per_op[s.op];
    ++c.first;
    if (!s.supported) {
      ++c.second;
      ++bad;
    }
  }
  out << "model: " << onnx_path << "  (" << support.size() << " nodes)\n";
  out << "ops:\n";
  for (const auto& [op, c] : per_op)
    out << "  " << std::left << std::setw(24) << op << std::right << std::setw(5) << c.first << "  "
        << (c.second ? "UNSUPPORTED" : "supported") << "\n";
  out << "nodes:\n";
  for (const OpSupport& s : support)
    out << "  " << std::left << std::setw(40) << s.node << std::setw(22) << s.op
        << (s.supported ? "supported" : "UNSUPPORTED: " + s.reason) << "\n";
  if (bad) out << bad << " node(s) cannot be built\n";
  return bad;
}

void print_graph(std::ostream& out, const Graph& g, const std::vector<PassRecord>& passes, const std::string& stage) {
  auto tensors = [&g](const std::vector<int>& ids) {
    std::vector<TensorInfo> out;
    for (int id : ids) out.push_back({g.value(id).name, g.value(id).dtype, g.value(id).shape});
    return out;
  };
  print_tensors(out, "inputs", tensors(g.inputs));
  print_tensors(out, "outputs", tensors(g.outputs));
  if (!passes.empty()) {
    out << "passes (layers before -> after):\n";
    for (const PassRecord& p : passes)
      out << "  " << std::left << std::setw(24) << p.name << std::right << std::setw(6) << p.nodes_before << " -> "
          << std::setw(6) << p.nodes_after << (p.skipped ? "  (skipped)" : "") << "\n";
  }
  out << "layers after " << stage << " (" << g.nodes.size() << "):\n";
  for (const Node& n : g.nodes) {
    out << "  " << std::left << std::setw(40) << n.name << std::setw(22) << n.layer_label();
    if (!n.outputs.empty() && n.outputs[0] >= 0) {
      const Value& v = g.value(n.outputs[0]);
      if (stage == "precision") out << std::setw(10) << dtype_name(v.dtype);  // what the layer writes
      out << shape_str(v.shape);
    }
    out << "\n";
  }
}

}  // namespace trtcore
