// The cpu backend: runs each node's reference kernel in topological order over one planned activation arena.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <sstream>
#include <cstring>
#include <fstream>
#include <thread>

#include "backends/cpu/cpu_kernel.h"
#include "backends/cpu/isa_dispatch.h"
#include "backends/cpu/qconv_depthwise.h"
#include "backends/cpu/qconv_direct.h"
#include "trtcore/backend.h"
#include "trtcore/memory_plan.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace trtcore::cpu {
namespace {

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return int(std::max(1u, std::thread::hardware_concurrency()));
#endif
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "unknown cpu";
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

class CpuExecutable : public Executable {
 public:
  CpuExecutable(const Graph& g, const SystemOptions& sys) : graph_(g), level_(active_isa_level()) {
    ctx_.threads = sys.threads > 0 ? sys.threads : default_threads();
    for (const Node& n : graph_.nodes) {
      kernels_.push_back(make_cpu_kernel(n.op, level_));
      if (!kernels_.back())
        fail(ErrorKind::kUnsupported, n.describe(), ": the cpu backend has no kernel for op '", n.op, "'");
      kernels_.back()->init(n, graph_);
    }
    plan_memory();
  }

  void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) override {
    run(batch, inputs, outputs, nullptr);
  }

  std::vector<IterationTiming> benchmark(int64_t batch, const std::vector<const void*>& inputs, int iterations,
                                         int warmup) override {
    std::vector<std::vector<uint8_t>> out_storage;
    std::vector<void*> outs = scratch_outputs(batch, out_storage);
    for (int i = 0; i < warmup; ++i) run(batch, inputs, outs, nullptr);
    std::vector<IterationTiming> trace;
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = Clock::now();
      run(batch, inputs, outs, nullptr);
      const double ms = ms_since(t0);
      trace.push_back({ms, ms, 0, 0, ms});  // host memory: no copies, and the host does the work as it issues it
    }
    return trace;
  }

  std::vector<double> profile_layers(int64_t batch, int iterations) override {
    std::vector<std::vector<uint8_t>> in_storage, out_storage;
    std::vector<const void*> ins;
    for (int id : graph_.inputs) {
      Shape s = graph_.value(id).shape;
      if (!s.empty()) s[0] = batch;
      in_storage.emplace_back(size_t(numel(s)) * dtype_size(graph_.value(id).dtype), 0);
      ins.push_back(in_storage.back().data());
    }
    std::vector<void*> outs = scratch_outputs(batch, out_storage);
    std::vector<double> per_layer(kernels_.size(), 0.0);
    run(batch, ins, outs, nullptr);
    for (int i = 0; i < iterations; ++i) run(batch, ins, outs, &per_layer);
    for (double& t : per_layer) t /= std::max(1, iterations);
    return per_layer;
  }

  MemoryReport memory() const override {
    MemoryReport r;
    for (const Value& v : graph_.values)
      if (v.constant) r.weights_bytes += v.constant->bytes.size();
    r.activations_bytes = arena_.size();
    return r;
  }

  std::vector<LayerInfo> layers() const override {
    std::vector<LayerInfo> out;
    for (const Node& n : graph_.nodes) {
      // named after the dtype the layer writes, as on cuda (QuantizeLinear, int8 MaxPool); QConv multiplies in int8
      // whichever it writes
      const DType t = graph_.value(n.outputs[0]).dtype;
      const bool int8_out = t == DType::kInt8 || t == DType::kUInt8;
      out.push_back({n.name, n.layer_label(), n.op == "QConv" || int8_out ? "int8" : "fp32",
                     n.op == "QConv" ? int8_tactic(n) : ""});
    }
    return out;
  }

 private:
  // The int8 kernel and the scales it applies, for inspect: "u8s8-vnni x 0.0213 w 0.0011..0.0042 y 0.0187"
  // ("depthwise ..." where qconv_depthwise.cpp runs it).
  std::string int8_tactic(const Node& n) const {
    const auto scales = [&](size_t slot) {
      if (slot >= n.inputs.size() || n.inputs[slot] < 0 || !graph_.value(n.inputs[slot]).constant) return std::string();
      const std::vector<float> v = graph_.value(n.inputs[slot]).constant->as_float();
      std::ostringstream os;
      os << std::setprecision(3) << *std::min_element(v.begin(), v.end());
      if (v.size() > 1) os << ".." << *std::max_element(v.begin(), v.end());
      return os.str();
    };
    const Value& x = graph_.value(n.inputs[0]);
    const Value& w = graph_.value(n.inputs[3]);
    std::string t = level_ == IsaLevel::kAvx512 && cpu_has_avx512_vnni() ? "u8s8-vnni" : "u8s8";
    const int64_t group = n.attrs.get_int("group", 1);
    const std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
    if (x.shape.size() == 4 && qconv_depthwise_suits(group, x.shape[1], w.shape))
      t = "depthwise";
    else if (qconv_direct_suits(kernel, n.attrs.get_ints("strides", std::vector<int64_t>(kernel.size(), 1)), group,
                                w.shape[1]))
      t += " direct";
    t += " x " + scales(1) + " w " + scales(4);
    if (n.inputs.size() > 6 && n.inputs[6] >= 0) t += " y " + scales(6);
    return t;
  }

  void plan_memory() {
    // Activations: every non-constant value that is neither a graph input nor a graph output lives in the arena.
    const size_t nv = graph_.values.size();
    std::vector<int> first(nv, -1), last(nv, -1);
    for (size_t step = 0; step < graph_.nodes.size(); ++step) {
      const Node& n = graph_.nodes[step];
      for (int o : n.outputs)
        if (o >= 0 && first[size_t(o)] < 0) first[size_t(o)] = int(step);
      for (int i : n.inputs)
        if (i >= 0) last[size_t(i)] = int(step);
    }
    is_io_.assign(nv, 0);
    for (int i : graph_.inputs) is_io_[size_t(i)] = 1;
    for (int o : graph_.outputs)
      if (!is_io_[size_t(o)]) is_io_[size_t(o)] = 2;
    std::vector<BufferRequest> reqs;
    std::vector<int> ids;
    for (size_t v = 0; v < nv; ++v) {
      const Value& val = graph_.values[v];
      if (val.constant || is_io_[v] || first[v] < 0) continue;
      reqs.push_back({size_t(numel(val.shape)) * dtype_size(val.dtype), first[v], std::max(first[v], last[v])});
      ids.push_back(int(v));
    }
    const BufferPlan plan = plan_buffers(reqs, 64);
    arena_.assign(plan.total_bytes, 0);
    offset_.assign(nv, 0);
    for (size_t k = 0; k < ids.size(); ++k) offset_[size_t(ids[k])] = plan.offsets[k];
  }

  std::vector<void*> scratch_outputs(int64_t batch, std::vector<std::vector<uint8_t>>& storage) {
    const std::vector<Shape>& shapes = shapes_for(batch);
    std::vector<void*> outs;
    for (int id : graph_.outputs) {
      storage.emplace_back(size_t(numel(shapes[size_t(id)])) * dtype_size(graph_.value(id).dtype));
      outs.push_back(storage.back().data());
    }
    return outs;
  }

  const std::vector<Shape>& shapes_for(int64_t batch) {
    auto it = shape_cache_.find(batch);
    if (it == shape_cache_.end()) it = shape_cache_.emplace(batch, shapes_for_batch(graph_, batch)).first;
    return it->second;
  }

  void run(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs,
           std::vector<double>* per_layer) {
    const std::vector<Shape>& shapes = shapes_for(batch);
    if (inputs.size() != graph_.inputs.size() || outputs.size() != graph_.outputs.size())
      fail(ErrorKind::kInvalidArgument, "expected ", graph_.inputs.size(), " inputs and ", graph_.outputs.size(),
           " outputs, got ", inputs.size(), " and ", outputs.size());
    std::vector<void*> ptr(graph_.values.size(), nullptr);
    for (size_t v = 0; v < graph_.values.size(); ++v) {
      const Value& val = graph_.values[v];
      if (val.constant) ptr[v] = const_cast<uint8_t*>(val.constant->bytes.data());
      else if (!is_io_[v]) ptr[v] = arena_.data() + offset_[v];
    }
    for (size_t k = 0; k < graph_.inputs.size(); ++k) ptr[size_t(graph_.inputs[k])] = const_cast<void*>(inputs[k]);
    // An output that is also an input or a constant is copied after the run.
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      const size_t id = size_t(graph_.outputs[k]);
      if (is_io_[id] == 2 && !graph_.values[id].constant) ptr[id] = outputs[k];
    }
    for (size_t step = 0; step < graph_.nodes.size(); ++step) {
      const Node& n = graph_.nodes[step];
      std::vector<TensorView> in, out;
      in.reserve(n.inputs.size());
      for (int i : n.inputs)
        in.push_back(i < 0 ? TensorView{} : TensorView{graph_.value(i).dtype, shapes[size_t(i)], ptr[size_t(i)]});
      for (int o : n.outputs)
        out.push_back(o < 0 ? TensorView{} : TensorView{graph_.value(o).dtype, shapes[size_t(o)], ptr[size_t(o)]});
      const auto t0 = Clock::now();
      kernels_[step]->run(in, out, ctx_);
      if (per_layer) (*per_layer)[step] += ms_since(t0);
    }
    for (size_t k = 0; k < graph_.outputs.size(); ++k) {
      const size_t id = size_t(graph_.outputs[k]);
      if (ptr[id] != outputs[k])
        copy_bytes(outputs[k], ptr[id], size_t(numel(shapes[id])) * dtype_size(graph_.values[id].dtype));
    }
  }

  Graph graph_;
  IsaLevel level_;  // every kernel of this plan comes from one instruction-set level
  CpuContext ctx_;
  std::vector<std::unique_ptr<CpuKernel>> kernels_;
  std::vector<uint8_t> arena_;
  std::vector<size_t> offset_;
  std::vector<char> is_io_;
  std::map<int64_t, std::vector<Shape>> shape_cache_;
};

class CpuBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  std::string device_description() const override {
    return cpu_model_name() + ", " + std::to_string(default_threads()) + " threads, kernels " + isa_description();
  }
  std::map<std::string, std::string> environment() const override {
#if defined(__x86_64__)
    return {{"cpu_arch", "x86_64"}};
#elif defined(__aarch64__)
    return {{"cpu_arch", "aarch64"}};
#else
    return {{"cpu_arch", "other"}};
#endif
  }
  std::vector<std::string> unsupported_nodes(const Graph& g, const BuildOptions&) const override {
    std::vector<std::string> out;
    for (const Node& n : g.nodes)
      if (!find_cpu_kernel(n.op)) out.push_back(n.describe() + ": no cpu kernel");
    return out;
  }
  bool supports_precision(Precision p) const override { return p == Precision::kFP32 || p == Precision::kINT8; }
  // INT8 is the graph's Q/DQ form, lowered to int8 kernels (QConv); what stays float runs in float32
  PrecisionLowering precision_lowering(Precision) const override { return PrecisionLowering::kGraph; }
  FusionCaps fusion_caps() const override {
    FusionCaps caps;
    caps.int8_conv = Int8Convs::kAll;
    return caps;
  }
  std::unique_ptr<Executable> build(const Graph& g, const BuildOptions&, const SystemOptions& sys,
                                    std::string* tactics_out) override {
    if (tactics_out) tactics_out->clear();
    return std::make_unique<CpuExecutable>(g, sys);
  }
  std::unique_ptr<Executable> load(const Graph& g, const BuildOptions&, const SystemOptions& sys,
                                   const std::string&) override {
    return std::make_unique<CpuExecutable>(g, sys);
  }
};

}  // namespace

std::unique_ptr<Backend> make_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace trtcore::cpu
