// The engine: import → optimize → build on a backend (or load a plan), then run and time.
#include "trtcore/engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <random>
#include <sstream>

#include "backends/cpu/cpu_kernel.h"
#include "precision/fp16_policy.h"
#include "runtime/precision_build.h"
#include "runtime/report.h"
#include "runtime/samples.h"
#include "runtime/executable_pool.h"
#include "trtcore/error.h"
#include "trtcore/half.h"
#include "trtcore/io.h"
#include "trtcore/memory_plan.h"
#include "trtcore/onnx_import.h"
#include "trtcore/passes.h"

namespace trtcore {

const char* version() { return TRTCORE_VERSION; }

// Calls on one engine that overlap beyond this many wait for a free executable: each holds its own activations.
constexpr size_t kMaxPooledExecutables = 4;

size_t TensorInfo::sample_bytes() const {
  Shape s = shape;
  if (batched && !s.empty()) s.erase(s.begin());
  return size_t(numel(s)) * dtype_size(dtype);
}

static void log_line(std::string* log, const std::string& line) {
  if (log) *log += line + "\n";
}

std::unique_ptr<Engine> Engine::build(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                                      std::string* log, const ProgressFn& progress) {
  check_system_options(sys);
  std::unique_ptr<Backend> backend = create_backend(build.backend, build);
  if (!backend->supports_precision(build.precision)) {
    std::string can;  // the precisions it does build (Python's messages respell the options)
    for (Precision p : {Precision::kFP32, Precision::kFP16, Precision::kINT8})
      if (backend->supports_precision(p))
        can += std::string(can.empty() ? "" : ", ") + precision_name(p) +
               (p == Precision::kFP32 ? " (the default)" : p == Precision::kFP16 ? " (--half)" : " (--int8)");
    fail(ErrorKind::kUnsupported, "backend '", backend->name(), "' cannot build ", precision_name(build.precision),
         " plans yet; it builds ", can, ": choose one of those, or another backend");
  }

  if (build.precision == Precision::kINT8) check_calibration_cache_writable(build);
  if (build.io_half && build.precision != Precision::kFP16)
    fail(ErrorKind::kInvalidArgument, "--io-half needs --half (FP16 inputs and outputs belong to an FP16 plan)");
  if (build.int8_fallback != Int8Fallback::kAuto && build.precision != Precision::kINT8)
    fail(ErrorKind::kInvalidArgument, "--int8-fallback needs --int8 (it sets the precision of INT8's float layers)");
  if (build.precision != Precision::kINT8 &&
      (build.int8_bias_correction != Int8BiasCorrection::kOff || build.int8_equalization != Int8Equalization::kOff ||
       build.int8_float_layers != 0 || build.int8_float_layers_choice == Int8FloatLayers::kAuto))
    fail(ErrorKind::kInvalidArgument, "--int8-bias-correction, --int8-equalization and --int8-float-layers need --int8");
  if (!(build.int8_target_agreement > 0 && build.int8_target_agreement <= 1))
    fail(ErrorKind::kInvalidArgument, "--int8-target-agreement must be in (0, 1] (a share of the calibration ",
         "samples), got ", build.int8_target_agreement);
  if (build.int8_float_layers < 0)
    fail(ErrorKind::kInvalidArgument, "--int8-float-layers must be >= 0 (the number of layers kept float), got ",
         build.int8_float_layers);
  if (build.precision == Precision::kINT8 && build.int8_fallback == Int8Fallback::kFP16 &&
      !backend->supports_precision(Precision::kFP16))
    fail(ErrorKind::kUnsupported, "backend '", backend->name(), "' keeps the layers INT8 leaves in float in fp32; ",
         "build without --half (or --int8-fallback fp16)");
  Graph g = import_onnx(model);
  log_line(log, "import: " + std::to_string(g.nodes.size()) + " nodes from " + model.onnx_path);
  PassContext ctx;
  ctx.caps = backend->fusion_caps();
  ctx.disabled = build.disabled_passes;
  ctx.fold = cpu::evaluate_node;
  if (build.precision == Precision::kINT8) ctx.int8_equalization = build.int8_equalization;
  const ChannelRanges ranges = int8_equalization_ranges(model, build, sys, *backend, log, progress);
  ctx.int8_channel_ranges = &ranges;
  std::vector<PassRecord> passes = optimize(g, ctx);
  for (const PassRecord& p : passes)
    log_line(log, "optimize: " + p.name + (p.skipped ? " (skipped)" : "") + " " + std::to_string(p.nodes_before) +
                      " -> " + std::to_string(p.nodes_after) + " nodes");
  if (backend->precision_lowering(build.precision) == PrecisionLowering::kGraph)
    apply_precision(g, model, build, sys, *backend, log, progress, ranges);
  for (const PassRecord& p : lower(g, ctx)) {
    log_line(log, "lower: " + p.name + (p.skipped ? " (skipped)" : "") + " " + std::to_string(p.nodes_before) +
                      " -> " + std::to_string(p.nodes_after) + " nodes");
    passes.push_back(p);
  }
  const std::vector<std::string> bad = backend->unsupported_nodes(g, build);
  if (!bad.empty()) {
    std::string msg = "backend '" + backend->name() + "' cannot run " + std::to_string(bad.size()) + " node(s):";
    for (const std::string& b : bad) msg += "\n  " + b;
    fail(ErrorKind::kUnsupported, msg);
  }
  check_activation_memory(g, host_memory_bytes(), model.onnx_path);

  std::unique_ptr<Engine> e(new Engine());
  e->plan_.backend = backend->name();
  e->plan_.environment = backend->environment();
  e->plan_.build = build;
  e->plan_.passes = passes;
  e->plan_.build_info = {{"trtcore_version", version()},
                         {"source_model", file_name(model.onnx_path)},
                         {"created", utc_now()},
                         {"device", backend->device_description()},
                         {"max_batch", std::to_string(g.max_batch)}};
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Executable> exec = backend->build(g, build, sys, &e->plan_.tactics);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream took;
  took << std::fixed << std::setprecision(2) << build_s;
  log_line(log, "build: " + backend->name() + " backend, " + std::to_string(g.nodes.size()) + " layers in " +
                    took.str() + " s");
  e->plan_.graph = std::move(g);
  e->bind(std::move(backend), std::move(exec), sys);
  return e;
}

std::unique_ptr<Engine> Engine::load(const std::string& plan_path, const SystemOptions& sys) {
  check_system_options(sys);
  Plan plan = load_plan(plan_path);
  // A plan is untrusted: its shapes are bounded as a build bounds them, before anything is allocated.
  check_activation_memory(plan.graph, host_memory_bytes(), plan_path);
  std::unique_ptr<Backend> backend = create_backend(backend_kind_from_name(plan.backend), plan.build);
  try {
    backend->check_environment(plan.environment);
  } catch (const Error& err) {
    fail(err.kind(), plan_path, ": ", err.what());
  }
  std::unique_ptr<Executable> exec = backend->load(plan.graph, plan.build, sys, plan.tactics);
  std::unique_ptr<Engine> e(new Engine());
  e->plan_ = std::move(plan);
  e->bind(std::move(backend), std::move(exec), sys);
  return e;
}

Engine::~Engine() = default;

void Engine::bind(std::unique_ptr<Backend> backend, std::unique_ptr<Executable> exec, const SystemOptions& sys) {
  backend_ = std::move(backend);
  exec_ = std::move(exec);
  sys_ = sys;
  pool_ = std::make_unique<ExecutablePool>(*exec_, [this] { return make_executable(sys_); }, kMaxPooledExecutables);
  const Graph& g = plan_.graph;
  auto info = [&](int id) {
    const Value& v = g.value(id);
    return TensorInfo{v.name, v.dtype, v.shape, g.has_batch_axis && !v.shape.empty()};
  };
  inputs_.clear();
  outputs_.clear();
  for (int id : g.inputs) inputs_.push_back(info(id));
  for (int id : g.outputs) outputs_.push_back(info(id));
  // An output whose axis 0 does not follow the batch (e.g. a constant) is not batched.
  for (TensorInfo& t : outputs_)
    if (t.batched && t.shape[0] != g.max_batch) t.batched = false;
}

void Engine::save(const std::string& plan_path) const { save_plan(plan_, plan_path); }

std::string Engine::device_description() const { return backend_->device_description(); }

void Engine::infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  infer_on(*pool_->acquire(), batch, inputs, outputs);
}

void Engine::infer_on(Executable& x, int64_t batch, const std::vector<const void*>& inputs,
                      const std::vector<void*>& outputs) const {
  if (batch < 1 || batch > max_batch())
    fail(ErrorKind::kInvalidArgument, "batch ", batch, " is outside the plan's range 1..", max_batch());
  x.infer(batch, inputs, outputs);
}

std::unique_ptr<Executable> Engine::make_executable(const SystemOptions& sys) const {
  std::unique_ptr<Executable> x = exec_->share(sys);
  if (!x) x = backend_->load(plan_.graph, plan_.build, sys, plan_.tactics);
  return x;
}

std::unique_ptr<ExecutionContext> Engine::create_context(const SystemOptions& sys) const {
  check_system_options(sys);
  SystemOptions own = sys;
  if (own.threads == 0) own.threads = sys_.threads;  // the engine's setting unless the caller names a count
  return std::unique_ptr<ExecutionContext>(new ExecutionContext(*this, make_executable(own)));
}

std::vector<double> Engine::profile_layers(int64_t batch, int iterations) {
  return pool_->acquire()->profile_layers(batch, iterations);
}

int64_t Engine::batch_of(const std::vector<TensorView>& inputs) const {
  if (inputs.size() != inputs_.size())
    fail(ErrorKind::kInvalidArgument, "the plan has ", inputs_.size(), " input(s); got ", inputs.size());
  int64_t batch = max_batch();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& t = inputs_[i];
    const TensorView& v = inputs[i];
    if (v.dtype != t.dtype)
      fail(ErrorKind::kInvalidArgument, "input '", t.name, "' must be ", dtype_name(t.dtype), ", got ",
           dtype_name(v.dtype));
    bool ok = v.shape.size() == t.shape.size();
    for (size_t d = (t.batched ? 1 : 0); ok && d < t.shape.size(); ++d) ok = v.shape[d] == t.shape[d];
    if (ok && t.batched) ok = v.shape[0] >= 1 && v.shape[0] <= t.shape[0];
    if (!ok)
      fail(ErrorKind::kInvalidArgument, "input '", t.name, "' has shape ", shape_str(v.shape), "; the plan takes ",
           t.batched ? "Nx" : "", shape_str(Shape(t.shape.begin() + (t.batched ? 1 : 0), t.shape.end())),
           t.batched ? " with N in 1.." + std::to_string(t.shape[0]) : std::string());
    if (t.batched) {
      if (i > 0 && v.shape[0] != batch)
        fail(ErrorKind::kInvalidArgument, "input '", t.name, "' has batch ", v.shape[0], " but input '",
             inputs_[0].name, "' has batch ", batch);
      batch = v.shape[0];
    }
  }
  return batch;
}

std::vector<Shape> Engine::output_shapes(int64_t batch) const {
  std::lock_guard<std::mutex> lock(output_shape_mutex_);
  auto it = output_shape_cache_.find(batch);
  if (it != output_shape_cache_.end()) return it->second;
  const std::vector<Shape> shapes = shapes_for_batch(plan_.graph, batch);
  std::vector<Shape> out;
  for (int id : plan_.graph.outputs) out.push_back(shapes[size_t(id)]);
  output_shape_cache_.emplace(batch, out);  // shape inference once per batch size, not per call
  return out;
}

std::vector<Tensor> Engine::infer(const std::vector<TensorView>& inputs) { return infer_on(*pool_->acquire(), inputs); }

std::vector<Tensor> Engine::infer_on(Executable& x, const std::vector<TensorView>& inputs) const {
  const int64_t batch = batch_of(inputs);
  const std::vector<Shape> shapes = output_shapes(batch);
  std::vector<Tensor> outs;
  std::vector<void*> out_ptrs;
  for (size_t k = 0; k < shapes.size(); ++k) outs.emplace_back(outputs_[k].dtype, shapes[k]);
  for (Tensor& t : outs) out_ptrs.push_back(t.bytes.data());
  std::vector<const void*> in_ptrs;
  for (const TensorView& v : inputs) in_ptrs.push_back(v.data);
  x.infer(batch, in_ptrs, out_ptrs);
  return outs;
}

Stage stage_from_name(const std::string& name) {
  if (name == "import") return Stage::kImport;
  if (name == "optimize") return Stage::kOptimize;
  if (name == "precision") return Stage::kPrecision;
  fail(ErrorKind::kInvalidArgument, "unknown stage '", name, "'; expected import, optimize or precision");
}

Graph load_graph(const ModelOptions& model, Stage stop_after, const PassContext& ctx, std::vector<PassRecord>* passes,
                 const BuildOptions* build, std::string* log) {
  Graph g = import_onnx(model);
  if (stop_after == Stage::kImport) return g;
  PassContext with_fold = ctx;
  if (!with_fold.fold) with_fold.fold = cpu::evaluate_node;
  if (build && build->precision == Precision::kINT8) with_fold.int8_equalization = build->int8_equalization;
  std::unique_ptr<Backend> backend;
  if (stop_after == Stage::kPrecision) {
    if (!build) fail(ErrorKind::kInvalidArgument, "the precision stage needs build options (--half or --int8)");
    BuildOptions fp32 = *build;
    fp32.precision = Precision::kFP32;
    backend = create_backend(build->backend, fp32);  // runs the float32 model for calibration
  }
  ChannelRanges ranges;  // --int8-equalization activations measures the float model (the cpu backend unless named)
  if (build && build->precision == Precision::kINT8 && build->int8_equalization == Int8Equalization::kActivations) {
    BuildOptions fp32 = *build;
    fp32.precision = Precision::kFP32;
    std::unique_ptr<Backend> measure = backend ? nullptr : create_backend(build->backend, fp32);
    ranges = int8_equalization_ranges(model, *build, SystemOptions{}, backend ? *backend : *measure, log, {});
    with_fold.int8_channel_ranges = &ranges;
  }
  std::vector<PassRecord> rec = optimize(g, with_fold);
  if (passes) *passes = std::move(rec);
  if (backend) apply_precision(g, model, *build, SystemOptions{}, *backend, log, {}, ranges);
  return g;
}

static BenchmarkResult summarize(int64_t batch, std::vector<IterationTiming> trace) {
  BenchmarkResult r;
  r.batch = batch;
  r.iterations = int(trace.size());
  std::vector<double> c, e;
  for (const IterationTiming& t : trace) {
    c.push_back(t.compute_ms);
    e.push_back(t.e2e_ms);
  }
  r.compute_ms = compute_stats(c);
  r.e2e_ms = compute_stats(e);
  r.throughput = r.e2e_ms.mean > 0 ? double(batch) * 1000.0 / r.e2e_ms.mean : 0;
  r.compute_throughput = r.compute_ms.mean > 0 ? double(batch) * 1000.0 / r.compute_ms.mean : 0;
  r.trace = std::move(trace);
  return r;
}

BenchmarkResult Engine::benchmark(int64_t batch, int iterations, int warmup, unsigned seed) {
  return benchmark_on(*pool_->acquire(), batch, iterations, warmup, seed);
}

BenchmarkResult Engine::benchmark_on(Executable& x, int64_t batch, int iterations, int warmup, unsigned seed) const {
  if (batch == 0) batch = max_batch();
  if (batch < 1 || batch > max_batch())
    fail(ErrorKind::kInvalidArgument, "batch ", batch, " is outside the plan's range 1..", max_batch());
  if (iterations < 1) fail(ErrorKind::kInvalidArgument, "--iter must be >= 1, got ", iterations);
  if (warmup < 0) fail(ErrorKind::kInvalidArgument, "--warmup must be >= 0, got ", warmup);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<std::vector<uint8_t>> storage;
  std::vector<const void*> ins;
  for (const TensorInfo& t : inputs_) {
    Shape s = t.shape;
    if (t.batched) s[0] = batch;
    storage.emplace_back(size_t(numel(s)) * dtype_size(t.dtype), 0);
    if (t.dtype == DType::kFloat32) {
      float* p = reinterpret_cast<float*>(storage.back().data());
      for (int64_t i = 0; i < numel(s); ++i) p[i] = dist(rng);
    } else if (t.dtype == DType::kFloat16) {
      uint16_t* p = reinterpret_cast<uint16_t*>(storage.back().data());
      for (int64_t i = 0; i < numel(s); ++i) p[i] = float_to_half(dist(rng));
    }
    ins.push_back(storage.back().data());
  }
  return summarize(batch, x.benchmark(batch, ins, iterations, warmup));
}

// The sub-folders of `dir`, comma-separated (at most five named): a one-input run reads only the files in it.
static std::string subfolders(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory(ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string out;
  for (size_t i = 0; i < names.size() && i < 5; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 5) out += " and " + std::to_string(names.size() - 5) + " more";
  return out;
}

static size_t count_nonfinite(const float* p, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += !std::isfinite(p[i]);
  return bad;
}

// A sample folder's samples for the plan's inputs, read and checked before any work (a bad file fails fast and names
// itself), in the plan's input types: float16 (--io-half) inputs converted from the float32 files.
struct DirectorySamples {
  std::vector<std::string> files;
  std::vector<std::vector<uint8_t>> bytes;  // per input, every sample back to back
};

static DirectorySamples read_directory(const std::string& dir, const std::vector<TensorInfo>& inputs) {
  std::vector<SampleInput> wanted;
  for (const TensorInfo& in : inputs) {
    if (in.dtype != DType::kFloat32 && in.dtype != DType::kFloat16)
      fail(ErrorKind::kUnsupported, "--dir reads float32 samples; input '", in.name, "' is ", dtype_name(in.dtype));
    wanted.push_back({in.name, Shape(in.shape.begin() + (in.batched ? 1 : 0), in.shape.end())});
  }
  const SampleFolder folder(dir, wanted);
  DirectorySamples d;
  d.files = folder.files();
  if (d.files.empty())
    fail(ErrorKind::kInvalidArgument, "directory '", dir, "' holds no sample files",
         inputs.size() > 1 ? " (in its sub-folder '" + inputs[0].name + "')" : std::string());
  std::vector<float*> dst;
  d.bytes.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    d.bytes[i].resize(d.files.size() * folder.sample_floats(i) * sizeof(float));
    dst.push_back(reinterpret_cast<float*>(d.bytes[i].data()));  // new[]'s alignment suits float
  }
  folder.read(0, d.files.size(), dst);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype != DType::kFloat16) continue;
    std::vector<uint8_t> halves(d.bytes[i].size() / 2);
    for (size_t k = 0; k < halves.size() / 2; ++k) {
      const uint16_t h = float_to_half(dst[i][k]);
      std::memcpy(halves.data() + 2 * k, &h, 2);
    }
    d.bytes[i] = std::move(halves);
  }
  return d;
}

DirectoryRunResult Engine::run_directory(const std::string& dir, const std::string& output_dir, int64_t batch,
                                         int iterations, const ProgressFn& progress) {
  if (batch == 0) batch = max_batch();
  if (batch < 1 || batch > max_batch())
    fail(ErrorKind::kInvalidArgument, "batch ", batch, " is outside the plan's range 1..", max_batch());
  // A last, partial batch runs at its own size when the batch axis is dynamic, else padded with zeros.
  const bool dynamic = std::all_of(inputs_.begin(), inputs_.end(), [](const TensorInfo& t) { return t.batched; });
  if (!dynamic && batch != max_batch())
    fail(ErrorKind::kInvalidArgument, "this plan runs only at batch ", max_batch(), " (fixed batch axis)");
  if (iterations < 1) fail(ErrorKind::kInvalidArgument, "--iter must be >= 1, got ", iterations);
  // Outputs take their samples' names: written into an input's sample folder they would replace the inputs.
  const bool multi = outputs_.size() > 1;
  for (const TensorInfo& o : outputs_)
    for (const TensorInfo& in : inputs_) {
      const std::string samples = inputs_.size() > 1 ? path_join(dir, in.name) : dir;
      if (!output_dir.empty() && same_file(multi ? path_join(output_dir, o.name) : output_dir, samples))
        fail(ErrorKind::kInvalidArgument, "--output-dir '", output_dir, "' would put output '", o.name,
             "' into the sample directory '", samples, "' and overwrite the inputs; choose another directory");
    }
  const DirectorySamples samples = read_directory(dir, inputs_);
  const std::vector<std::string>& files = samples.files;
  if (!output_dir.empty()) make_directories(output_dir);
  if (!output_dir.empty() && multi)
    for (const TensorInfo& o : outputs_) make_directories(path_join(output_dir, o.name));

  const ExecutablePool::Lease exec = pool_->acquire();
  DirectoryRunResult result;
  result.samples = files.size();
  result.passes = iterations;
  const std::string skipped = inputs_.size() == 1 ? subfolders(dir) : "";
  if (!skipped.empty())
    result.warnings.push_back("sub-folders of '" + dir + "' are not read (a one-input model takes the files directly "
                              "in it): " + skipped);
  std::vector<std::vector<uint8_t>> in_bufs;
  std::vector<const void*> ins;
  for (const TensorInfo& in : inputs_) {
    in_bufs.emplace_back(size_t(batch) * in.sample_bytes());
    ins.push_back(in_bufs.back().data());
  }
  std::vector<std::vector<uint8_t>> out_bufs;
  for (const TensorInfo& o : outputs_) out_bufs.emplace_back(size_t(batch) * o.sample_bytes());
  std::vector<double> batch_ms;
  double total_ms = 0;
  size_t timed_samples = 0;
  for (int pass = 0; pass < iterations; ++pass) {
    for (size_t start = 0; start < files.size(); start += size_t(batch)) {
      const size_t count = std::min(size_t(batch), files.size() - start);
      for (size_t i = 0; i < inputs_.size(); ++i) {
        const size_t in_sample = inputs_[i].sample_bytes();  // bytes of one sample as the plan takes it
        std::memcpy(in_bufs[i].data(), samples.bytes[i].data() + start * in_sample, count * in_sample);
        if (!dynamic) std::memset(in_bufs[i].data() + count * in_sample, 0, (size_t(batch) - count) * in_sample);
      }
      const int64_t run_batch = dynamic ? int64_t(count) : batch;
      std::vector<void*> outs;
      for (auto& b : out_bufs) outs.push_back(b.data());
      const auto t0 = std::chrono::steady_clock::now();
      exec->infer(run_batch, ins, outs);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      batch_ms.push_back(ms);
      total_ms += ms;
      timed_samples += count;
      if (progress) progress("samples", timed_samples, files.size() * size_t(iterations));
      if (pass > 0) continue;
      ++result.batches;
      for (size_t k = 0; k < count; ++k)
        for (size_t o = 0; o < outputs_.size(); ++o) {
          size_t ob = outputs_[o].sample_bytes();
          const uint8_t* src = out_bufs[o].data() + k * ob;
          std::vector<float> widened;  // float16 outputs are written as float32 files, like every sample file
          if (outputs_[o].dtype == DType::kFloat16) {
            widened.resize(ob / 2);
            for (size_t e = 0; e < widened.size(); ++e) {
              uint16_t h;
              std::memcpy(&h, src + 2 * e, 2);
              widened[e] = half_to_float(h);
            }
            src = reinterpret_cast<const uint8_t*>(widened.data());
            ob = widened.size() * 4;
          }
          if (outputs_[o].dtype == DType::kFloat32 || outputs_[o].dtype == DType::kFloat16) {
            const size_t bad = count_nonfinite(reinterpret_cast<const float*>(src), ob / 4);
            if (bad)
              result.warnings.push_back("output '" + outputs_[o].name + "' for '" + files[start + k] + "' holds " +
                                        std::to_string(bad) + " NaN/Inf value(s)");
          }
          if (output_dir.empty()) continue;
          const std::string path = multi ? path_join(path_join(output_dir, outputs_[o].name), files[start + k])
                                         : path_join(output_dir, files[start + k]);
          write_file_atomic(path, src, ob);
          result.output_files.push_back(path);
        }
    }
  }
  result.batch_ms = compute_stats(batch_ms);
  result.throughput = total_ms > 0 ? double(timed_samples) * 1000.0 / total_ms : 0;
  return result;
}

}  // namespace trtcore
