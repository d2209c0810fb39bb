// The engine: import → optimize → build on a backend (or load a plan), then run and time.
#include "trtcore/engine.h"

#include <chrono>
#include <cstring>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <random>
#include <sstream>

#include "precision/fp16_policy.h"
#include "runtime/executable_pool.h"
#include "runtime/json.h"
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

static std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

static void log_line(std::string* log, const std::string& line) {
  if (log) *log += line + "\n";
}

std::unique_ptr<Engine> Engine::build(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                                      std::string* log) {
  check_system_options(sys);
  std::unique_ptr<Backend> backend = create_backend(build.backend, build);
  if (!backend->supports_precision(build.precision))
    fail(ErrorKind::kUnsupported, "backend '", backend->name(), "' cannot build ", precision_name(build.precision),
         " plans yet; build without --half/--int8 or choose another backend");

  if (build.io_half && build.precision != Precision::kFP16)
    fail(ErrorKind::kInvalidArgument, "--io-half needs --half (FP16 inputs and outputs belong to an FP16 plan)");
  Graph g = import_onnx(model);
  log_line(log, "import: " + std::to_string(g.nodes.size()) + " nodes from " + model.onnx_path);
  PassContext ctx;
  ctx.caps = backend->fusion_caps();
  ctx.disabled = build.disabled_passes;
  std::vector<PassRecord> passes = optimize(g, ctx);
  for (const PassRecord& p : passes)
    log_line(log, "optimize: " + p.name + (p.skipped ? " (skipped)" : "") + " " + std::to_string(p.nodes_before) +
                      " -> " + std::to_string(p.nodes_after) + " nodes");
  if (build.precision == Precision::kFP16 && backend->precision_lowering() == PrecisionLowering::kGraph) {
    const Fp16Report r = apply_fp16_policy(g, build.io_half ? IoPrecision::kFloat16 : IoPrecision::kFloat32);
    log_line(log, "precision: " + std::to_string(r.fp16_nodes) + " fp16 nodes, " +
                      std::to_string(r.casts_inserted) + " casts inserted");
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
  fail(ErrorKind::kInvalidArgument, "unknown stage '", name, "'; expected import or optimize");
}

Graph load_graph(const ModelOptions& model, Stage stop_after, const PassContext& ctx, std::vector<PassRecord>* passes) {
  Graph g = import_onnx(model);
  if (stop_after == Stage::kImport) return g;
  std::vector<PassRecord> rec = optimize(g, ctx);
  if (passes) *passes = std::move(rec);
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

static void check_finite(const std::string& bytes, const std::string& file) {
  const size_t n = bytes.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    float v;
    std::memcpy(&v, bytes.data() + 4 * i, 4);  // string storage carries no float alignment guarantee
    if (!std::isfinite(v))
      fail(ErrorKind::kInvalidArgument, "sample file '", file, "' holds ", std::isnan(v) ? "NaN" : "Inf",
           " at element ", i, "; inputs must be finite float32 values");
  }
}

// float32 bytes (any alignment) to float16 bytes.
static std::string floats_to_halves(const std::string& bytes) {
  std::string out(bytes.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size() / 4; ++i) {
    float v;
    std::memcpy(&v, bytes.data() + 4 * i, 4);
    const uint16_t h = float_to_half(v);
    std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

static size_t count_nonfinite(const float* p, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) bad += !std::isfinite(p[i]);
  return bad;
}

DirectoryRunResult Engine::run_directory(const std::string& dir, const std::string& output_dir, int64_t batch,
                                         int iterations) {
  if (inputs_.size() != 1)
    fail(ErrorKind::kInvalidArgument, "--dir feeds models with one input; this plan has ", inputs_.size(),
         " inputs");
  const TensorInfo& in = inputs_[0];
  // Sample files are float32 whatever the plan's I/O type: a float16 (--io-half) input is converted on reading.
  const bool in_half = in.dtype == DType::kFloat16;
  if (in.dtype != DType::kFloat32 && !in_half)
    fail(ErrorKind::kUnsupported, "--dir reads float32 samples; input '", in.name, "' is ", dtype_name(in.dtype));
  if (batch == 0) batch = max_batch();
  if (batch < 1 || batch > max_batch())
    fail(ErrorKind::kInvalidArgument, "batch ", batch, " is outside the plan's range 1..", max_batch());
  if (!in.batched && batch != max_batch())
    fail(ErrorKind::kInvalidArgument, "this plan runs only at batch ", max_batch(), " (fixed batch axis)");
  if (iterations < 1) fail(ErrorKind::kInvalidArgument, "--iter must be >= 1, got ", iterations);

  const std::vector<std::string> files = list_directory(dir);
  // Outputs take their samples' names: written into the sample directory they would replace the inputs.
  for (const TensorInfo& o : outputs_)
    if (!output_dir.empty() && same_file(outputs_.size() > 1 ? path_join(output_dir, o.name) : output_dir, dir))
      fail(ErrorKind::kInvalidArgument, "--output-dir '", output_dir, "' would put output '", o.name,
           "' into the sample directory '", dir, "' and overwrite the inputs; choose another directory");
  if (files.empty()) fail(ErrorKind::kInvalidArgument, "directory '", dir, "' holds no sample files");
  const size_t sample = in_half ? in.sample_bytes() * 2 : in.sample_bytes();  // bytes of one float32 file
  // Read and check every sample before any work, so a bad file fails fast and names itself.
  std::vector<std::string> data;  // the files' bytes as read, kept for the timed passes
  data.reserve(files.size());
  for (const std::string& f : files) {
    const std::string path = path_join(dir, f);
    std::string bytes = read_file(path);
    if (bytes.size() != sample)
      fail(ErrorKind::kInvalidArgument, "sample file '", path, "' has ", bytes.size(), " bytes; input '", in.name,
           "' of shape ", shape_str(Shape(in.shape.begin() + (in.batched ? 1 : 0), in.shape.end())),
           " (float32) needs exactly ", sample, " bytes");
    check_finite(bytes, path);
    if (in_half) bytes = floats_to_halves(bytes);
    data.push_back(std::move(bytes));
  }
  if (!output_dir.empty()) make_directories(output_dir);
  const bool multi = outputs_.size() > 1;
  if (!output_dir.empty() && multi)
    for (const TensorInfo& o : outputs_) make_directories(path_join(output_dir, o.name));

  const ExecutablePool::Lease exec = pool_->acquire();
  DirectoryRunResult result;
  result.samples = files.size();
  const size_t in_sample = in.sample_bytes();  // bytes of one sample as the plan takes it
  std::vector<uint8_t> in_buf(size_t(batch) * in_sample);
  std::vector<std::vector<uint8_t>> out_bufs;
  for (const TensorInfo& o : outputs_) out_bufs.emplace_back(size_t(batch) * o.sample_bytes());
  std::vector<double> batch_ms;
  double total_ms = 0;
  size_t timed_samples = 0;
  for (int pass = 0; pass < iterations; ++pass) {
    for (size_t start = 0; start < files.size(); start += size_t(batch)) {
      const size_t count = std::min(size_t(batch), files.size() - start);
      for (size_t k = 0; k < count; ++k)
        std::memcpy(in_buf.data() + k * in_sample, data[start + k].data(), in_sample);
      // A last, partial batch runs at its own size when the batch axis is dynamic, else padded with zeros.
      const int64_t run_batch = in.batched ? int64_t(count) : batch;
      if (!in.batched) std::memset(in_buf.data() + count * in_sample, 0, (size_t(batch) - count) * in_sample);
      std::vector<void*> outs;
      for (auto& b : out_bufs) outs.push_back(b.data());
      const auto t0 = std::chrono::steady_clock::now();
      exec->infer(run_batch, {in_buf.data()}, outs);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      batch_ms.push_back(ms);
      total_ms += ms;
      timed_samples += count;
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

static std::string stats_json(const Stats& s) {
  std::ostringstream os;
  os << "{\"mean\": " << json_number(s.mean) << ", \"std\": " << json_number(s.std)
     << ", \"min\": " << json_number(s.min) << ", \"max\": " << json_number(s.max)
     << ", \"median\": " << json_number(s.median) << ", \"p90\": " << json_number(s.p90)
     << ", \"p95\": " << json_number(s.p95) << ", \"p99\": " << json_number(s.p99) << ", \"count\": " << s.count
     << "}";
  return os.str();
}

std::string Engine::to_json(const BenchmarkResult& r, const DirectoryRunResult* dir) const {
  std::ostringstream os;
  const MemoryReport m = memory();
  os << "{\n  \"engine\": \"trtcore\",\n  \"backend\": " << json_string(backend_name())
     << ",\n  \"precision\": " << json_string(precision_name(plan_.build.precision))
     << ",\n  \"fp32_math\": " << json_string(plan_.build.fp32_math == Fp32Math::kTF32 ? "tf32" : "strict")
     << ",\n  \"device\": " << json_string(device_description())
     << ",\n  \"model\": " << json_string(plan_.build_info.count("source_model") ? plan_.build_info.at("source_model") : "")
     << ",\n  \"trtcore_version\": " << json_string(version()) << ",\n  \"date\": " << json_string(utc_now())
     << ",\n  \"batch\": " << r.batch << ",\n  \"iterations\": " << r.iterations
     << ",\n  \"compute_ms\": " << stats_json(r.compute_ms) << ",\n  \"e2e_ms\": " << stats_json(r.e2e_ms)
     << ",\n  \"throughput\": " << json_number(r.throughput)
     << ",\n  \"compute_throughput\": " << json_number(r.compute_throughput)
     << ",\n  \"memory\": {\"weights\": " << m.weights_bytes << ", \"activations\": " << m.activations_bytes
     << ", \"workspace\": " << m.workspace_bytes << ", \"total\": " << m.total() << "}";
  if (dir) {
    os << ",\n  \"directory\": {\"samples\": " << dir->samples << ", \"batches\": " << dir->batches
       << ", \"outputs_written\": " << dir->output_files.size() << ", \"batch_ms\": " << stats_json(dir->batch_ms)
       << ", \"throughput\": " << json_number(dir->throughput) << ", \"warnings\": [";
    for (size_t i = 0; i < dir->warnings.size(); ++i) os << (i ? ", " : "") << json_string(dir->warnings[i]);
    os << "]}";
  }
  os << ",\n  \"trace\": [";
  for (size_t i = 0; i < r.trace.size(); ++i)
    os << (i ? ", " : "") << "[" << json_number(r.trace[i].compute_ms) << ", " << json_number(r.trace[i].e2e_ms)
       << "]";
  os << "]\n}\n";
  return os.str();
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

std::string Engine::describe() const {
  std::ostringstream os;
  const Graph& g = plan_.graph;
  os << "backend: " << backend_name() << " (" << device_description() << ")\n";
  os << "precision: " << precision_name(plan_.build.precision)
     << (plan_.build.precision == Precision::kFP32 && backend_name() != "cpu"  // TF32 is a GPU notion
             ? (plan_.build.fp32_math == Fp32Math::kTF32 ? " (TF32 tensor-core math allowed)" : " (strict)")
             : "")
     << "\n";
  os << "batch: " << (g.has_batch_axis ? "dynamic, 1.." : "fixed ") << g.max_batch << "\n";
  for (const auto& [k, v] : plan_.build_info) os << "build." << k << ": " << v << "\n";
  os << "inputs:\n";
  for (const TensorInfo& t : inputs_) os << "  " << t.name << "  " << dtype_name(t.dtype) << "  " << shape_str(t.shape) << "\n";
  os << "outputs:\n";
  for (const TensorInfo& t : outputs_) os << "  " << t.name << "  " << dtype_name(t.dtype) << "  " << shape_str(t.shape) << "\n";
  os << "passes:\n";
  for (const PassRecord& p : plan_.passes)
    os << "  " << p.name << (p.skipped ? "  (skipped)" : "") << "  " << p.nodes_before << " -> " << p.nodes_after << " layers\n";
  const std::vector<LayerInfo> ls = layers();
  os << "layers (" << ls.size() << "):\n";
  for (const LayerInfo& l : ls)
    os << "  " << l.name << "  " << l.op << "  " << l.precision << (l.tactic.empty() ? "" : "  tactic=" + l.tactic)
       << (l.workspace_bytes ? "  workspace=" + human_bytes(l.workspace_bytes) : "") << "\n";
  const MemoryReport m = memory();
  os << "memory: weights " << human_bytes(m.weights_bytes) << ", activations " << human_bytes(m.activations_bytes)
     << ", workspace " << human_bytes(m.workspace_bytes) << ", total " << human_bytes(m.total()) << "\n";
  return os.str();
}

}  // namespace trtcore
