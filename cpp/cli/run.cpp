#include "cli/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "runtime/report.h"
#include "trtcore/error.h"
#include "trtcore/io.h"

namespace trtcore {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// The batch to run: --batch, or axis 0 of --shapes, whose other axes must be the plan's (they are fixed at build).
int64_t run_batch(const Engine& e, const Args& a) {
  const int64_t batch = a.get_int("batch", 0);
  if (a.has("batch") && batch < 1) fail(ErrorKind::kInvalidArgument, "--batch must be >= 1, got ", batch);
  int64_t from_shapes = 0;
  // Without --shapes or --batch, a command that also built runs at --optShapes, as trtexec does.
  const char* key = !a.has("shapes") && !a.has("batch") && a.has("optShapes") ? "optShapes" : "shapes";
  for (const auto& [name, shape] : shape_specs(a, key)) {
    const TensorInfo* t = nullptr;
    std::string names;
    for (const TensorInfo& in : e.inputs()) {
      if (in.name == name) t = &in;
      names += (names.empty() ? "'" : ", '") + in.name + "'";
    }
    if (!t) fail(ErrorKind::kInvalidArgument, a.flag(key), " names '", name, "'; the plan's inputs are ", names);
    bool same = shape.size() == t->shape.size() && !shape.empty();
    for (size_t i = t->batched ? 1 : 0; same && i < shape.size(); ++i) same = shape[i] == t->shape[i];
    if (!same || (t->batched && (shape[0] < 1 || shape[0] > e.max_batch())))
      fail(ErrorKind::kInvalidArgument, a.flag(key), " ", name, ":", shape_str(shape), ": the plan's input '", name,
           "' is ", shape_str(t->shape), t->batched ? " with batch 1.." + std::to_string(e.max_batch()) : " (fixed)",
           "; shapes are fixed when the plan is built and only the batch can change at run time (rebuild with build "
           "--shapes)");
    if (!t->batched) continue;
    if (from_shapes && from_shapes != shape[0])
      fail(ErrorKind::kInvalidArgument, a.flag(key), " gives the inputs different batches (", from_shapes, " and ",
           shape[0], ")");
    from_shapes = shape[0];
  }
  if (batch && from_shapes && batch != from_shapes)
    fail(ErrorKind::kInvalidArgument, "--batch ", batch, " and the batch of ", a.flag(key), " (", from_shapes,
         ") differ");
  return from_shapes ? from_shapes : batch;
}

// Untimed iterations: --warmup counts them; trtexec's --warmUp gives milliseconds, run until they have passed.
int warm_up(Engine& e, const Args& a, int64_t batch) {
  if (!a.has("warmUp")) return int(a.get_int("warmup", 3));
  if (a.has("warmup"))
    fail(ErrorKind::kInvalidArgument, "give --warmup (iterations) or --warmUp (milliseconds, trtexec's), not both");
  const double ms = a.get_double("warmUp", 0);
  if (ms < 0) fail(ErrorKind::kInvalidArgument, "--warmUp must be >= 0 ms, got ", ms);
  const Clock::time_point t0 = Clock::now();
  while (ms > 0 && ms_since(t0) < ms) e.benchmark(batch, 1, 0);
  return 0;
}

// Times `iterations`, then more until `duration_s` has passed too, in chunks of about half a second for progress.
BenchmarkResult timed_run(Engine& e, int64_t batch, int iterations, int warmup, double duration_s) {
  const Clock::time_point t0 = Clock::now();
  BenchmarkResult r = e.benchmark(batch, iterations, warmup);
  const double total_ms = duration_s * 1000.0;
  const ProgressFn progress = duration_s > 0 ? terminal_progress() : ProgressFn{};
  while (ms_since(t0) < total_ms) {
    if (progress) progress("timing (ms)", size_t(ms_since(t0)), size_t(total_ms));
    const double per_iteration = std::max(1e-3, r.e2e_ms.mean);
    const int chunk = int(std::clamp(500.0 / per_iteration, 1.0, 1e6));
    BenchmarkResult more = e.benchmark(batch, chunk, 0);
    r.trace.insert(r.trace.end(), more.trace.begin(), more.trace.end());
    r.e2e_ms = more.e2e_ms;
  }
  if (progress) progress("timing (ms)", size_t(total_ms), size_t(total_ms));
  r.iterations = int(r.trace.size());
  std::vector<double> c, e2e;
  for (const IterationTiming& t : r.trace) {
    c.push_back(t.compute_ms);
    e2e.push_back(t.e2e_ms);
  }
  r.compute_ms = compute_stats(c);
  r.e2e_ms = compute_stats(e2e);
  r.throughput = r.e2e_ms.mean > 0 ? double(r.batch) * 1000.0 / r.e2e_ms.mean : 0;
  r.compute_throughput = r.compute_ms.mean > 0 ? double(r.batch) * 1000.0 / r.compute_ms.mean : 0;
  return r;
}

void print_iterations(std::ostream& out, const BenchmarkResult& r) {
  out << "iterations (ms):\n  " << std::setw(9) << "iteration";
  for (const char* h : {"latency", "enqueue", "H2D", "compute", "D2H"}) out << std::setw(10) << h;
  out << "\n" << std::fixed << std::setprecision(3);
  for (size_t i = 0; i < r.trace.size(); ++i) {
    const IterationTiming& t = r.trace[i];
    out << "  " << std::setw(9) << i;
    for (double v : {t.e2e_ms, t.enqueue_ms, t.h2d_ms, t.compute_ms, t.d2h_ms}) out << std::setw(10) << v;
    out << "\n";
  }
  out.unsetf(std::ios::fixed);
}

TimingOptions timing_options(const Args& a) {
  TimingOptions o;
  const int64_t avg = a.get_int("avgRuns", 1);
  if (avg < 1 || avg > 1000000) fail(ErrorKind::kInvalidArgument, "--avgRuns must be >= 1, got ", avg);
  o.avg_runs = int(avg);
  o.transfers = a.has("noDataTransfers") ? DataTransfers::kExcluded : DataTransfers::kIncluded;
  return o;
}

}  // namespace

ProgressFn terminal_progress() {
  if (!::isatty(2)) return {};
  return [](const std::string& what, size_t done, size_t total) {
    const int width = 30, filled = total ? int(double(std::min(done, total)) / double(total) * width) : width;
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", what.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), ' ').c_str(), done, total);
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

std::map<std::string, Shape> shape_specs(const Args& a, const std::string& key) {
  std::map<std::string, Shape> out;
  for (const std::string& spec : a.list(key)) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0)
      fail(ErrorKind::kInvalidArgument, a.flag(key), " expects name:1x3x224x224, got '", spec, "'");
    out[spec.substr(0, colon)] = parse_shape(spec.substr(colon + 1));
  }
  return out;
}

void check_backend_flags(const Args& a, const std::string& backend) {
  if (backend != "cpu") return;
  for (const char* k : {"no-cuda-graph", "useCudaGraph"})
    if (a.has(k))
      fail(ErrorKind::kInvalidArgument, a.flag(k),
           " does not apply to the cpu backend: it launches no CUDA graphs (a cuda backend option)");
  for (const char* k : {"timing-cache", "workspace", "memPoolSize"})
    if (a.has(k))
      fail(ErrorKind::kInvalidArgument, a.flag(k),
           " does not apply to the cpu backend: it times no tactics and uses no tactic workspace (cuda, tensorrt)");
  if (a.has("device"))
    fail(ErrorKind::kInvalidArgument, a.flag("device"), " does not apply to the cpu backend: it picks a CUDA device");
}

int run_engine(Engine& e, const Args& a, std::ostream& out) {
  check_backend_flags(a, e.backend_name());
  for (const char* k : {"json", "exportTimes", "exportProfile"})  // before the run, not after it
    if (a.has(k)) check_writable_file(a.get(k), "the " + a.flag(k) + " file");
  const bool profile = a.has("profile") || a.has("exportProfile");
  if (a.has("separateProfileRun") && !profile)
    fail(ErrorKind::kInvalidArgument, a.flag("separateProfileRun"),
         " needs a profile to separate: add --dumpProfile or --exportProfile");
  const double duration_s = a.get_double("duration", 0);
  if (duration_s < 0) fail(ErrorKind::kInvalidArgument, "--duration must be >= 0 s, got ", duration_s);
  const TimingOptions topt = timing_options(a);
  const int64_t batch = run_batch(e, a);
  std::optional<DirectoryRunResult> dir;
  int iterations = 0;
  if (a.has("dir")) {
    const int passes = int(a.get_int("iter", 1));
    dir = e.run_directory(a.get("dir"), a.get("output-dir"), batch, passes, terminal_progress());
    print_directory(out, *dir, a.get("output-dir"));
    // The timing statistics come from at least 10 timed iterations even when --iter asks for fewer passes.
    iterations = std::max(passes, 10);
  } else {
    if (a.has("output-dir"))
      fail(ErrorKind::kInvalidArgument, "--output-dir needs --dir (outputs are written per input file)");
    iterations = int(a.get_int("iter", 10));
  }
  if (iterations < 1) fail(ErrorKind::kInvalidArgument, a.flag("iter"), " must be >= 1, got ", iterations);
  const int warmup = warm_up(e, a, batch);
  const BenchmarkResult r = timed_run(e, batch, iterations, warmup, duration_s);
  TimingReport report = timing_report(e, e.memory(), r, dir ? &*dir : nullptr, topt);
  // Layers are timed in a run of their own, after the timed iterations, so profiling never perturbs them.
  if (profile) report.profile = profile_report(e.layers(), e.profile_layers(r.batch, 10));
  print_timing(out, report);
  if (a.has("verbose")) print_iterations(out, r);
  if (a.has("profile")) print_profile(out, *report.profile);
  if (a.has("json")) {
    write_file_atomic(a.get("json"), timing_json(report));
    out << "results written: " << a.get("json") << "\n";
  }
  if (a.has("exportTimes")) {
    write_file_atomic(a.get("exportTimes"), times_json(r));
    out << "per-iteration times written: " << a.get("exportTimes") << "\n";
  }
  if (a.has("exportProfile")) {
    write_file_atomic(a.get("exportProfile"), profile_json(*report.profile));
    out << "per-layer profile written: " << a.get("exportProfile") << "\n";
  }
  return 0;
}

}  // namespace trtcore
