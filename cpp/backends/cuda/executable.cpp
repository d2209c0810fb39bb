// The cuda Executable. Build/load: constants uploaded once, one kernel per node initialised (tactics tuned or
// reused), then the plan of planner.cpp applied: activations in one arena, graph inputs/outputs in their own device
// buffers with pinned host staging. A run: H2D copies, the kernel sequence (replayed from a CUDA graph per batch
// size), D2H copies, one synchronisation at the end.
#include "backends/cuda/executable.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "backends/cuda/planner.h"
#include "backends/cuda/timing_cache.h"

namespace trtcore::cuda {

// ---------------------------------------------------------------------------------------------------------------
// The executable.
// ---------------------------------------------------------------------------------------------------------------
namespace {

// A layer's precision named after the dtype it writes (float32 data movement is "fp32").
std::string precision_of(DType t) {
  switch (t) {
    case DType::kFloat16: return "fp16";
    case DType::kInt8:
    case DType::kUInt8: return "int8";
    default: return "fp32";
  }
}

struct Step {
  size_t node = 0;  // index in graph.nodes
  std::unique_ptr<CudaKernel> kernel;
  std::vector<TacticTime> timed;  // the forms its build timed
};

// Everything a run at one batch size needs, built once per batch.
struct BatchState {
  std::vector<Shape> shapes;
  std::vector<std::vector<TensorView>> in, out;  // per step
  cudaGraphExec_t exec = nullptr;
  bool capture_tried = false;
  bool warmed = false;
};

// Stream and library handles; a member declared before everything that uses them, so a constructor that throws
// half-way still releases them (and after the kernels that hold descriptors on them).
struct Handles {
  int device = 0;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasLtHandle_t cublaslt = nullptr;

  explicit Handles(int dev) : device(dev) {
    TRTCORE_CUDA_CHECK("cuda executable", cudaSetDevice(device));
    TRTCORE_CUDA_CHECK("cuda executable", cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    TRTCORE_CUDNN_CHECK("cuda executable", cudnnCreate(&cudnn));
    TRTCORE_CUDNN_CHECK("cuda executable", cudnnSetStream(cudnn, stream));
    TRTCORE_CUBLAS_CHECK("cuda executable", cublasLtCreate(&cublaslt));
  }
  ~Handles() {
    // Destruction never throws: statuses are ignored on this path.
    static_cast<void>(cudaSetDevice(device));
    if (stream) static_cast<void>(cudaStreamSynchronize(stream));
    if (cublaslt) static_cast<void>(cublasLtDestroy(cublaslt));
    if (cudnn) static_cast<void>(cudnnDestroy(cudnn));
    if (stream) static_cast<void>(cudaStreamDestroy(stream));
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

class CudaExecutable : public Executable {
 public:
  CudaExecutable(const Graph& g, const BuildOptions& build, const SystemOptions& sys, TacticMode mode,
                 const std::string& tactics_in, std::string* tactics_out)
      : graph_(g),
        device_(build.device),
        use_graphs_(sys.cuda_graph),
        fp32_math_(build.fp32_math),
        workspace_limit_(build.workspace_mib > 0 ? size_t(build.workspace_mib) << 20 : kAutoWorkspaceBytes),
        timing_cache_path_(build.timing_cache),
        handles_(build.device),
        stream_(handles_.stream),
        cudnn_(handles_.cudnn),
        cublaslt_(handles_.cublaslt),
        constants_(std::make_shared<std::vector<DeviceBuffer>>()) {
    upload_constants();
    init_kernels(mode, tactics_in, tactics_out);
    tactics_ = tactics_out ? *tactics_out : tactics_in;
    allocate_memory();
  }

  // Another execution context of the same plan: own stream, handles, kernels (tactics reused, not timed), memory
  // and CUDA graphs; the uploaded weights are shared.
  CudaExecutable(const CudaExecutable& base, const SystemOptions& sys)
      : graph_(base.graph_),
        device_(base.device_),
        use_graphs_(sys.cuda_graph),
        fp32_math_(base.fp32_math_),
        workspace_limit_(base.workspace_limit_),
        handles_(base.device_),
        stream_(handles_.stream),
        cudnn_(handles_.cudnn),
        cublaslt_(handles_.cublaslt),
        constants_(base.constants_),
        shares_constants_(true),
        tactics_(base.tactics_) {
    init_kernels(TacticMode::kReuse, tactics_, nullptr);
    allocate_memory();
  }

  std::unique_ptr<Executable> share(const SystemOptions& sys) const override {
    TRTCORE_CUDA_CHECK("creating an execution context", cudaSetDevice(device_));
    return std::unique_ptr<Executable>(new CudaExecutable(*this, sys));
  }

  ~CudaExecutable() override {
    // Destruction never throws: statuses are ignored on this path. Members then go in reverse order: buffers and
    // kernels first, the handles last.
    static_cast<void>(cudaSetDevice(device_));
    static_cast<void>(cudaStreamSynchronize(stream_));
    for (auto& [batch, st] : batches_) {
      if (st.exec) static_cast<void>(cudaGraphExecDestroy(st.exec));
    }
  }

  void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) override {
    TRTCORE_CUDA_CHECK("infer", cudaSetDevice(device_));
    check_io_counts(inputs.size(), outputs.size());
    BatchState& st = state_for(batch);
    stage_inputs(st, inputs);
    copy_inputs_to_device(st);
    compute(st);
    copy_outputs_to_host(st);
    TRTCORE_CUDA_CHECK("infer: running the network", cudaStreamSynchronize(stream_));
    for (size_t k = 0; k < graph_.outputs.size(); ++k)
      std::memcpy(outputs[k], host_out_[k].get(), io_bytes(st, graph_.outputs[k]));
  }

  std::vector<IterationTiming> benchmark(int64_t batch, const std::vector<const void*>& inputs, int iterations,
                                         int warmup) override {
    TRTCORE_CUDA_CHECK("benchmark", cudaSetDevice(device_));
    check_io_counts(inputs.size(), graph_.outputs.size());
    BatchState& st = state_for(batch);
    stage_inputs(st, inputs);
    for (int i = 0; i < warmup; ++i) {
      copy_inputs_to_device(st);
      compute(st);
      copy_outputs_to_host(st);
    }
    TRTCORE_CUDA_CHECK("benchmark: warm-up", cudaStreamSynchronize(stream_));
    gpu::Event e0("benchmark"), c0("benchmark"), c1("benchmark"), e1("benchmark");
    std::vector<IterationTiming> trace;
    trace.reserve(size_t(std::max(0, iterations)));
    for (int i = 0; i < iterations; ++i) {
      const auto enqueue_start = std::chrono::steady_clock::now();  // host time to issue copies and kernels
      TRTCORE_CUDA_CHECK("benchmark", cudaEventRecord(e0.get(), stream_));
      copy_inputs_to_device(st);
      TRTCORE_CUDA_CHECK("benchmark", cudaEventRecord(c0.get(), stream_));
      compute(st);
      TRTCORE_CUDA_CHECK("benchmark", cudaEventRecord(c1.get(), stream_));
      copy_outputs_to_host(st);
      TRTCORE_CUDA_CHECK("benchmark", cudaEventRecord(e1.get(), stream_));
      const double enqueue_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - enqueue_start).count();
      TRTCORE_CUDA_CHECK("benchmark: running the network", cudaEventSynchronize(e1.get()));
      IterationTiming t;
      t.compute_ms = double(gpu::elapsed_ms(c0, c1, "cuda timing"));
      t.e2e_ms = double(gpu::elapsed_ms(e0, e1, "cuda timing"));
      t.h2d_ms = double(gpu::elapsed_ms(e0, c0, "cuda timing"));
      t.d2h_ms = double(gpu::elapsed_ms(c1, e1, "cuda timing"));
      t.enqueue_ms = enqueue_ms;
      trace.push_back(t);
    }
    return trace;
  }

  // Each layer is captured as its own CUDA graph and replayed `iterations` times between two events, so a layer's
  // time is its GPU time as in a whole-network graph replay, free of host launch overhead (cuDNN's host work per
  // call can exceed the kernel time). Layers that cannot be captured are timed as plain launches.
  std::vector<double> profile_layers(int64_t batch, int iterations) override {
    TRTCORE_CUDA_CHECK("profile", cudaSetDevice(device_));
    BatchState& st = state_for(batch);
    const int reps = std::max(1, iterations);
    run_steps(st);  // warm-up (loads modules, fills caches)
    TRTCORE_CUDA_CHECK("profile: warm-up", cudaStreamSynchronize(stream_));
    gpu::Event start("profile"), stop("profile");
    std::vector<double> per_layer(steps_.size(), 0.0);
    for (size_t i = 0; i < steps_.size(); ++i) {
      cudaGraphExec_t exec = capture([&] { run_step(st, i); });
      TRTCORE_CUDA_CHECK("profile", cudaEventRecord(start.get(), stream_));
      for (int r = 0; r < reps; ++r) {
        if (exec) TRTCORE_CUDA_CHECK("profile: replaying a layer", cudaGraphLaunch(exec, stream_));
        else run_step(st, i);
      }
      TRTCORE_CUDA_CHECK("profile", cudaEventRecord(stop.get(), stream_));
      TRTCORE_CUDA_CHECK("profile: running a layer", cudaEventSynchronize(stop.get()));
      if (exec) static_cast<void>(cudaGraphExecDestroy(exec));
      per_layer[i] = double(gpu::elapsed_ms(start, stop, "cuda timing")) / reps;
    }
    return per_layer;
  }

  // What `enqueue` puts on the stream as an instantiated graph, or null when capture is refused (the caller then
  // launches plainly, which reports the real error, if any).
  cudaGraphExec_t capture(const std::function<void()>& enqueue) {
    if (cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
      static_cast<void>(cudaGetLastError());
      return nullptr;
    }
    bool ok = true;
    try {
      enqueue();
    } catch (...) {
      ok = false;
    }
    cudaGraph_t graph = nullptr;
    ok = cudaStreamEndCapture(stream_, &graph) == cudaSuccess && ok && graph;
    cudaGraphExec_t exec = nullptr;
    if (ok && cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) exec = nullptr;
    if (graph) static_cast<void>(cudaGraphDestroy(graph));  // the instantiated graph does not need it
    static_cast<void>(cudaGetLastError());  // clears a (non-sticky) capture error
    return exec;
  }

  MemoryReport memory() const override {
    MemoryReport r;
    r.weights_bytes = shares_constants_ ? 0 : constants_bytes_;  // shared weights count once, in the engine
    for (const Step& s : steps_) r.weights_bytes += s.kernel->weights_bytes();
    r.activations_bytes = arena_.bytes();
    for (const DeviceBuffer& b : io_in_) r.activations_bytes += b.bytes();
    for (const DeviceBuffer& b : io_out_) r.activations_bytes += b.bytes();
    r.workspace_bytes = workspace_.bytes();
    return r;
  }

  std::vector<LayerInfo> layers() const override {
    std::vector<LayerInfo> out;
    for (const Step& s : steps_) {
      const Node& n = graph_.nodes[s.node];
      std::string precision = s.kernel->precision();
      if (precision.empty()) precision = precision_of(n.outputs.empty() || n.outputs[0] < 0 ? DType::kFloat32
                                                                                          : graph_.value(n.outputs[0]).dtype);
      out.push_back({n.name, n.layer_label(), precision, s.kernel->tactic(), s.kernel->workspace_size(), s.timed});
    }
    return out;
  }

 private:
  // ---- build ----
  void upload_constants() {
    std::vector<char> used(graph_.values.size(), 0);
    for (const Node& n : graph_.nodes)
      for (int i : n.inputs)
        if (i >= 0) used[size_t(i)] = 1;
    for (int o : graph_.outputs) used[size_t(o)] = 1;
    constants_->resize(graph_.values.size());
    for (size_t v = 0; v < graph_.values.size(); ++v) {
      const Value& val = graph_.values[v];
      if (!val.constant || !used[v]) continue;
      (*constants_)[v] = upload(val.constant->bytes.data(), val.constant->bytes.size(),
                             "uploading constant '" + val.name + "'");
      constants_bytes_ += val.constant->bytes.size();
    }
  }

  static bool outputs_all_constant(const Node& n, const Graph& g) {
    for (int o : n.outputs)
      if (o >= 0 && !g.value(o).constant) return false;
    return true;
  }

  void init_kernels(TacticMode mode, const std::string& tactics_in, std::string* tactics_out) {
    const std::map<std::string, std::string> stored = parse_tactics(tactics_in);
    int major = 0, minor = 0;
    TRTCORE_CUDA_CHECK("cuda executable", cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device_));
    TRTCORE_CUDA_CHECK("cuda executable", cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device_));
    std::unique_ptr<TimingCache> cache;
    if (mode == TacticMode::kTune && !timing_cache_path_.empty()) {
      cudaDeviceProp prop{};
      TRTCORE_CUDA_CHECK("cuda executable", cudaGetDeviceProperties(&prop, device_));
      cache = std::make_unique<TimingCache>(timing_cache_path_, std::string(prop.name) + " sm_" +
                                                                    std::to_string(major) + std::to_string(minor));
    }
    // Kernels are made and checked first: the activation layouts depend on what every consumer accepts.
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      const Node& n = graph_.nodes[i];
      if (outputs_all_constant(n, graph_)) continue;  // folded: its outputs are uploaded constants
      const KernelDef* def = find_cuda_kernel(n.op);
      if (!def) fail(ErrorKind::kUnsupported, n.describe(), ": the cuda backend has no kernel for op '", n.op, "'");
      Step s;
      s.node = i;
      s.kernel = def->make();
      const std::string reason = s.kernel->check(n, graph_);
      if (!reason.empty()) fail(ErrorKind::kUnsupported, n.describe(), ": ", reason);
      steps_.push_back(std::move(s));
    }
    facts_ = step_facts();
    plan_ = plan_layouts_and_slices(graph_, facts_, fp32_math_);
    std::vector<std::pair<std::string, std::string>> chosen;
    for (Step& s : steps_) {
      const Node& n = graph_.nodes[s.node];
      CudaInitContext ctx;
      ctx.stream = stream_;
      ctx.cudnn = cudnn_;
      ctx.cublaslt = cublaslt_;
      ctx.device = device_;
      ctx.sm_major = major;
      ctx.sm_minor = minor;
      ctx.fp32_math = fp32_math_;
      ctx.workspace_limit = workspace_limit_;
      ctx.mode = mode;
      auto it = stored.find(n.name);
      ctx.tactic = it == stored.end() ? std::string() : it->second;
      std::string layout_sig;
      for (int v : n.inputs) ctx.in_layouts.push_back(plan_.layout_of(v));
      for (int v : n.outputs) ctx.out_layouts.push_back(plan_.layout_of(v));
      for (int v : n.outputs) ctx.out_slice_channels.push_back(v >= 0 ? plan_.slices[size_t(v)].total_channels : 0);
      for (int v : n.inputs)
        ctx.in_place_inputs.push_back(v >= 0 && !n.outputs.empty() && plan_.slices[size_t(v)].concat == n.outputs[0]);
      for (const auto* ls : {&ctx.in_layouts, &ctx.out_layouts})
        for (Layout l : *ls) layout_sig += l == Layout::kNHWC ? 'h' : 'c';
      // A tactic timed by an earlier build of the same layer (and operand layouts) is reused instead of timed again.
      const std::string cache_key =
          cache ? TimingCache::key(n, graph_, fp32_math_) +
                      (layout_sig.find('h') != std::string::npos ? "|layout=" + layout_sig : std::string()) +
                      (workspace_limit_ != kAutoWorkspaceBytes ? "|ws=" + std::to_string(workspace_limit_ >> 20)
                                                               : std::string()) +
                      (ctx.out_slice(0) ? "|slice=" + std::to_string(ctx.out_slice(0)) : std::string())
                : std::string();
      if (cache && mode == TacticMode::kTune)
        if (const std::string* cached = cache->find(cache_key)) {
          ctx.mode = TacticMode::kReuse;
          ctx.tactic = *cached;
        }
      ctx.device_constant = [this, &n](int id) -> const void* {
        if (id < 0 || size_t(id) >= constants_->size() || !(*constants_)[size_t(id)].get())
          fail(ErrorKind::kRuntime, n.describe(), ": value ", id, " is not an uploaded constant");
        return (*constants_)[size_t(id)].get();
      };
      s.kernel->init(n, graph_, ctx);
      s.timed = std::move(ctx.timed);
      // A producer that declined its planned Concat slice writes a buffer of its own; the Concat copies it.
      for (int v : n.outputs)
        if (v >= 0 && plan_.slices[size_t(v)].concat >= 0 && s.kernel->output_slice() == 0)
          plan_.slices[size_t(v)] = ConcatSlice{};
      const std::string t = s.kernel->tactic();
      if (!t.empty()) chosen.emplace_back(n.name, t);
      if (cache && !t.empty()) cache->put(cache_key, t);
    }
    TRTCORE_CUDA_CHECK("cuda executable: initialising kernels", cudaStreamSynchronize(stream_));
    if (tactics_out) *tactics_out = format_tactics(chosen);
    if (cache) cache->save();
  }

  // What the planner asks of each step's kernel before init (on the fresh instance).
  std::vector<StepFacts> step_facts() const {
    std::vector<StepFacts> facts;
    for (const Step& s : steps_) {
      const Node& n = graph_.nodes[s.node];
      StepFacts f;
      f.node = s.node;
      f.layout_rule = s.kernel->layout_rule(n, graph_);
      f.alias = s.kernel->alias();
      f.accepts_output_slice = s.kernel->accepts_output_slice(n, graph_);
      facts.push_back(f);
    }
    return facts;
  }

  // The memory plan applied: the arena, graph input/output buffers with their pinned staging, the shared workspace.
  void allocate_memory() {
    for (size_t k = 0; k < steps_.size(); ++k) {
      facts_[k].output_over_input = steps_[k].kernel->output_over_input();
      facts_[k].workspace_bytes = steps_[k].kernel->workspace_size();
    }
    plan_memory(graph_, facts_, plan_);
    arena_ = DeviceBuffer(plan_.arena_bytes, "allocating the activation arena");
    for (size_t k = 0; k < graph_.inputs.size(); ++k) {
      const Value& val = graph_.value(graph_.inputs[k]);
      const size_t bytes = plan_.buffers[size_t(graph_.inputs[k])].bytes;
      io_in_.emplace_back(bytes, "allocating input '" + val.name + "'");
      if (bytes) TRTCORE_CUDA_CHECK("allocating input '" + val.name + "'", cudaMemset(io_in_.back().get(), 0, bytes));
      host_in_.emplace_back(bytes, "allocating pinned staging for input '" + val.name + "'");
    }
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      const int id = graph_.outputs[k];
      const Value& val = graph_.value(id);
      const BufferInfo& b = plan_.buffers[size_t(id)];
      const bool own = b.storage == Storage::kGraphOutput && b.io_index == int(k);
      io_out_.emplace_back(own ? b.bytes : 0, "allocating output '" + val.name + "'");
      host_out_.emplace_back(b.bytes, "allocating pinned staging for output '" + val.name + "'");
    }
    if (arena_.bytes()) TRTCORE_CUDA_CHECK("allocating the activation arena", cudaMemset(arena_.get(), 0, arena_.bytes()));
    workspace_ = DeviceBuffer(plan_.workspace_bytes, "allocating the shared workspace");
    run_ctx_.stream = stream_;
    run_ctx_.cudnn = cudnn_;
    run_ctx_.cublaslt = cublaslt_;
    run_ctx_.workspace = workspace_.get();
    run_ctx_.workspace_bytes = workspace_.bytes();
  }

  void* device_ptr(int id) const {
    const BufferInfo& b = plan_.buffers[size_t(id)];
    switch (b.storage) {
      case Storage::kConstant: return (*constants_)[size_t(id)].get();
      case Storage::kArena: return static_cast<uint8_t*>(arena_.get()) + b.offset;
      case Storage::kGraphInput: return io_in_[size_t(b.io_index)].get();
      case Storage::kGraphOutput: return io_out_[size_t(b.io_index)].get();
      case Storage::kNone: break;
    }
    return nullptr;
  }

  // An alias reads its root's buffer, which may be a graph input.
  void* value_ptr(int id) const {
    const BufferInfo& b = plan_.buffers[size_t(id)];
    return b.alias_of >= 0 ? static_cast<char*>(device_ptr(b.alias_of)) + b.slice_offset : device_ptr(id);
  }

  // ---- runs ----
  void check_io_counts(size_t n_in, size_t n_out) const {
    if (n_in != graph_.inputs.size() || n_out != graph_.outputs.size())
      fail(ErrorKind::kInvalidArgument, "expected ", graph_.inputs.size(), " inputs and ", graph_.outputs.size(),
           " outputs, got ", n_in, " and ", n_out);
  }

  BatchState& state_for(int64_t batch) {
    auto it = batches_.find(batch);
    if (it != batches_.end()) return it->second;
    BatchState st;
    st.shapes = shapes_for_batch(graph_, batch);
    for (const Step& s : steps_) {
      const Node& n = graph_.nodes[s.node];
      std::vector<TensorView> in, out;
      for (int i : n.inputs)
        in.push_back(i < 0 ? TensorView{} : TensorView{graph_.value(i).dtype, st.shapes[size_t(i)], value_ptr(i)});
      for (int o : n.outputs)
        out.push_back(o < 0 ? TensorView{} : TensorView{graph_.value(o).dtype, st.shapes[size_t(o)], value_ptr(o)});
      st.in.push_back(std::move(in));
      st.out.push_back(std::move(out));
    }
    return batches_.emplace(batch, std::move(st)).first->second;
  }

  size_t io_bytes(const BatchState& st, int id) const {
    return size_t(numel(st.shapes[size_t(id)])) * dtype_size(graph_.value(id).dtype);
  }

  void stage_inputs(const BatchState& st, const std::vector<const void*>& inputs) {
    for (size_t k = 0; k < graph_.inputs.size(); ++k) {
      if (!inputs[k]) fail(ErrorKind::kInvalidArgument, "input '", graph_.value(graph_.inputs[k]).name, "' is null");
      std::memcpy(host_in_[k].get(), inputs[k], io_bytes(st, graph_.inputs[k]));
    }
  }

  void copy_inputs_to_device(const BatchState& st) {
    for (size_t k = 0; k < graph_.inputs.size(); ++k) {
      const size_t bytes = io_bytes(st, graph_.inputs[k]);
      if (bytes)
        TRTCORE_CUDA_CHECK("copying input '" + graph_.value(graph_.inputs[k]).name + "' to the device",
                           cudaMemcpyAsync(io_in_[k].get(), host_in_[k].get(), bytes, cudaMemcpyHostToDevice, stream_));
    }
  }

  void copy_outputs_to_host(const BatchState& st) {
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      const int id = graph_.outputs[k];
      const size_t bytes = io_bytes(st, id);
      if (bytes)
        TRTCORE_CUDA_CHECK("copying output '" + graph_.value(id).name + "' to the host",
                           cudaMemcpyAsync(host_out_[k].get(), value_ptr(id), bytes, cudaMemcpyDeviceToHost, stream_));
    }
  }

  void run_step(BatchState& st, size_t i) {
    steps_[i].kernel->run(st.in[i], st.out[i], run_ctx_);
  }

  void run_steps(BatchState& st) {
    for (size_t i = 0; i < steps_.size(); ++i) run_step(st, i);
  }

  // The kernel sequence: replayed from a CUDA graph when enabled and capturable, else enqueued directly.
  void compute(BatchState& st) {
    if (!use_graphs_ || steps_.empty()) return run_steps(st);
    if (st.exec) {
      TRTCORE_CUDA_CHECK("launching the CUDA graph", cudaGraphLaunch(st.exec, stream_));
      return;
    }
    if (!st.warmed) {  // first run at this batch: eager, so lazy module loading and descriptor caches happen now
      run_steps(st);
      st.warmed = true;
      return;
    }
    if (!st.capture_tried) {
      st.capture_tried = true;
      st.exec = capture([&] { run_steps(st); });  // null on failure: runs stay eager
      if (st.exec) {
        TRTCORE_CUDA_CHECK("launching the CUDA graph", cudaGraphLaunch(st.exec, stream_));
        return;
      }
    }
    run_steps(st);
  }

  Graph graph_;
  int device_ = 0;
  bool use_graphs_ = true;
  Fp32Math fp32_math_ = Fp32Math::kStrict;
  // Scratch a layer's tactic may use when none is asked for: large-batch convolutions need more than small ones.
  static constexpr size_t kAutoWorkspaceBytes = size_t(1) << 30;
  size_t workspace_limit_;
  std::string timing_cache_path_;  // --timing-cache; empty = none
  Handles handles_;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasLtHandle_t cublaslt_ = nullptr;

  std::shared_ptr<std::vector<DeviceBuffer>> constants_;  // by value id; shared by the contexts of one plan
  bool shares_constants_ = false;        // a further context: the weights belong to the first
  std::string tactics_;                  // as stored in the plan, for further contexts
  size_t constants_bytes_ = 0;
  std::vector<Step> steps_;
  std::vector<StepFacts> facts_;         // by step: what the planner knows of each kernel
  CudaPlan plan_;                        // layouts and slices (before kernel init), then buffers
  DeviceBuffer arena_, workspace_;
  std::vector<DeviceBuffer> io_in_, io_out_;
  std::vector<gpu::PinnedBuffer> host_in_, host_out_;
  CudaRunContext run_ctx_;
  std::map<int64_t, BatchState> batches_;
};

}  // namespace

std::unique_ptr<Executable> make_executable(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                            TacticMode mode, const std::string& tactics_in,
                                            std::string* tactics_out) {
  return std::make_unique<CudaExecutable>(g, build, sys, mode, tactics_in, tactics_out);
}

}  // namespace trtcore::cuda
