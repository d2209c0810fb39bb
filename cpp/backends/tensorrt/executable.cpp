#include "backends/tensorrt/executable.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <map>

#include "backends/gpu_common.h"
#include "backends/tensorrt/trt_common.h"

namespace trtcore::tensorrt {
namespace {

// Owning CUDA handles; released in reverse order of acquisition by the members' destructors.
struct DeviceMemory {
  void* ptr = nullptr;
  DeviceMemory() = default;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory() {
    if (ptr) static_cast<void>(cudaFree(ptr));
  }
};
struct CurrentDevice {
  explicit CurrentDevice(int device) { cuda_check(cudaSetDevice(device), "cudaSetDevice"); }
};
struct Stream {
  cudaStream_t s = nullptr;
  Stream() { cuda_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate"); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { static_cast<void>(cudaStreamDestroy(s)); }
};

// How a tensor crosses between the caller's dtype and the engine's: TensorRT 8.6 exchanges int64 as int32.
enum class Conversion { kNone, kInt64AsInt32 };

struct IoTensor {
  std::string name;
  bool is_input = false;
  DType dtype = DType::kFloat32;            // the caller's (graph's) dtype
  nvinfer1::DataType engine_type = nvinfer1::DataType::kFLOAT;
  size_t engine_elem = 4;
  Conversion conversion = Conversion::kNone;
  Shape max_shape;                          // at the plan's maximum batch
  size_t capacity = 0;                      // bytes of the device and pinned buffers
  int64_t count = 0;                        // elements in the current run
  DeviceMemory device;
  gpu::PinnedBuffer pinned;
};

// Per-layer times reported by TensorRT, summed over the profiled runs.
class LayerTimer : public nvinfer1::IProfiler {
 public:
  void reportLayerTime(char const* layer, float ms) noexcept override {
    try {
      total_[layer ? layer : ""] += ms;
    } catch (...) {
      // Out of memory while profiling loses one sample; it must not escape into TensorRT.
    }
  }
  double total(const std::string& layer) const {
    auto it = total_.find(layer);
    return it == total_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> total_;
};

// The string value of the first `"key" : "..."` in TensorRT's layer JSON; "" when absent.
std::string json_string(const std::string& json, const std::string& key, size_t from = 0) {
  const std::string quoted = "\"" + key + "\"";
  size_t p = json.find(quoted, from);
  if (p == std::string::npos) return "";
  p += quoted.size();
  while (p < json.size() && (json[p] == ' ' || json[p] == ':')) ++p;
  if (p >= json.size() || json[p] != '"') return "";
  std::string out;
  for (++p; p < json.size() && json[p] != '"'; ++p) {
    if (json[p] == '\\' && p + 1 < json.size()) ++p;
    out += json[p];
  }
  return out;
}

// TensorRT names formats like "Row major linear FP32" or "Channel major FP16 format ...".
std::string precision_of(const std::string& format) {
  if (format.find("Int8") != std::string::npos || format.find("INT8") != std::string::npos) return "int8";
  if (format.find("FP16") != std::string::npos || format.find("Half") != std::string::npos) return "fp16";
  if (format.find("Int32") != std::string::npos || format.find("INT32") != std::string::npos) return "int32";
  return "fp32";
}

class TrtExecutable : public Executable {
 public:
  TrtExecutable(const Graph& g, const BuildOptions& opt, const std::string& engine_bytes)
      : device_(opt.device), current_(opt.device), has_batch_axis_(g.has_batch_axis), max_batch_(g.max_batch),
        engine_bytes_(engine_bytes.size()) {
    Logger& log = logger();
    log.clear();
    runtime_.reset(nvinfer1::createInferRuntime(log));
    if (!runtime_) fail(ErrorKind::kRuntime, "tensorrt backend: cannot create a runtime: ", log.errors());
    engine_.reset(runtime_->deserializeCudaEngine(engine_bytes.data(), engine_bytes.size()));
    if (!engine_)
      fail(ErrorKind::kInvalidArgument, "tensorrt backend: the plan's engine cannot be loaded by TensorRT ",
           library_version(), " on this GPU (rebuild the plan here): ", log.errors());
    context_.reset(engine_->createExecutionContext());
    if (!context_) fail(ErrorKind::kRuntime, "tensorrt backend: cannot create an execution context: ", log.errors());

    const int nb = engine_->getNbIOTensors();
    if (size_t(nb) != g.inputs.size() + g.outputs.size())
      fail(ErrorKind::kUnsupported, "tensorrt backend: the engine has ", nb, " inputs/outputs but the graph ",
           g.inputs.size() + g.outputs.size());
    for (int id : g.inputs) add_io(g.value(id), true);
    for (int id : g.outputs) add_io(g.value(id), false);
    read_layers();
  }

  void infer(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) override {
    check_counts(inputs.size(), outputs.size());
    prepare(batch);
    stage_inputs(inputs);
    run(nullptr);
    for (size_t i = 0; i < outputs.size(); ++i) unstage(io_[n_inputs() + i], outputs[i]);
  }

  std::vector<IterationTiming> benchmark(int64_t batch, const std::vector<const void*>& inputs, int iterations,
                                         int warmup) override {
    check_counts(inputs.size(), g_outputs());
    prepare(batch);
    stage_inputs(inputs);
    for (int i = 0; i < warmup; ++i) run(nullptr);
    std::vector<IterationTiming> trace(size_t(iterations > 0 ? iterations : 0));
    for (IterationTiming& t : trace) run(&t);
    return trace;
  }

  std::vector<double> profile_layers(int64_t batch, int iterations) override {
    if (iterations < 1) return {};
    prepare(batch);
    for (IoTensor& t : io_)  // defined inputs; the values do not change the timing of these kernels
      if (t.is_input) std::memset(t.pinned.get(), 0, t.capacity);
    LayerTimer timer;
    context_->setProfiler(&timer);
    try {
      for (int i = 0; i < iterations; ++i) run(nullptr);
    } catch (...) {
      context_->setProfiler(nullptr);
      throw;
    }
    context_->setProfiler(nullptr);
    std::vector<double> out;
    for (const LayerInfo& l : layers_) out.push_back(timer.total(l.name) / iterations);
    return out;
  }

  MemoryReport memory() const override {
    MemoryReport m;
    // The serialized engine is the weights plus kernel selections: the closest figure TensorRT gives for weights.
    m.weights_bytes = engine_bytes_;
#if TRTCORE_TRT_AT_LEAST(10, 1)
    m.activations_bytes = size_t(engine_->getDeviceMemorySizeV2());
#else
    m.activations_bytes = engine_->getDeviceMemorySize();
#endif
    for (const IoTensor& t : io_) m.activations_bytes += t.capacity;
    return m;
  }

  std::vector<LayerInfo> layers() const override { return layers_; }

 private:
  size_t n_inputs() const { return n_inputs_; }
  size_t g_outputs() const { return io_.size() - n_inputs_; }

  void check_counts(size_t inputs, size_t outputs) const {
    if (inputs != n_inputs() || outputs != g_outputs())
      fail(ErrorKind::kInvalidArgument, "tensorrt backend: expected ", n_inputs(), " input and ", g_outputs(),
           " output buffers, got ", inputs, " and ", outputs);
  }

  void add_io(const Value& v, bool is_input) {
    io_.emplace_back();
    IoTensor& t = io_.back();
    t.name = v.name;
    t.is_input = is_input;
    t.dtype = v.dtype;
    t.max_shape = v.shape;
    if (is_input) ++n_inputs_;
    const char* name = v.name.c_str();
    const nvinfer1::TensorIOMode mode = engine_->getTensorIOMode(name);
    const nvinfer1::TensorIOMode want = is_input ? nvinfer1::TensorIOMode::kINPUT : nvinfer1::TensorIOMode::kOUTPUT;
    if (mode != want)
      fail(ErrorKind::kUnsupported, "tensorrt backend: graph ", is_input ? "input" : "output", " '", v.name,
           "' is not an ", is_input ? "input" : "output", " of the engine");
    t.engine_type = engine_->getTensorDataType(name);
    t.engine_elem = trt_type_size(t.engine_type);
    const bool same = t.engine_elem != 0 && t.engine_elem == dtype_size(v.dtype) &&
                      from_trt(t.engine_type, v.name) == v.dtype;
    if (!same) {
      if (v.dtype == DType::kInt64 && t.engine_type == nvinfer1::DataType::kINT32)
        t.conversion = Conversion::kInt64AsInt32;
      else
        fail(ErrorKind::kUnsupported, "tensorrt backend: tensor '", v.name, "' is ", dtype_name(v.dtype),
             " in the graph but ", trt_type_name(t.engine_type), " in the engine");
    }
    t.capacity = std::max<size_t>(size_t(numel(v.shape)) * t.engine_elem, 1);
    cuda_check(cudaMalloc(&t.device.ptr, t.capacity), "cudaMalloc (engine input/output)");
    t.pinned = gpu::PinnedBuffer(t.capacity, "tensorrt backend: staging buffer of '" + v.name + "'");
    if (!context_->setTensorAddress(name, t.device.ptr))
      fail(ErrorKind::kRuntime, "tensorrt backend: cannot bind tensor '", v.name, "': ", logger().errors());
  }

  // Sets the input shapes for `batch` and sizes the outputs from what TensorRT infers.
  void prepare(int64_t batch) {
    cuda_check(cudaSetDevice(device_), "cudaSetDevice");
    if (batch < 1 || batch > max_batch_ || (!has_batch_axis_ && batch != max_batch_))
      fail(ErrorKind::kInvalidArgument, "tensorrt backend: batch ", batch, " is outside the plan's range ",
           has_batch_axis_ ? 1 : max_batch_, "..", max_batch_);
    if (batch == prepared_batch_) return;
    logger().clear();
    for (IoTensor& t : io_) {
      if (!t.is_input) continue;
      Shape s = t.max_shape;
      if (has_batch_axis_ && !s.empty()) s[0] = batch;
      nvinfer1::Dims d{};
      d.nbDims = int32_t(s.size());
      for (size_t k = 0; k < s.size(); ++k) d.d[k] = s[k];
      if (!context_->setInputShape(t.name.c_str(), d))
        fail(ErrorKind::kInvalidArgument, "tensorrt backend: input '", t.name, "' shape ", shape_str(s),
             " is outside the engine's profile: ", logger().errors());
      t.count = numel(s);
    }
    for (IoTensor& t : io_) {
      if (t.is_input) continue;
      const nvinfer1::Dims d = context_->getTensorShape(t.name.c_str());
      int64_t n = 1;
      for (int k = 0; k < d.nbDims; ++k) n *= d.d[k];
      if (d.nbDims < 0 || n < 0 || size_t(n) * t.engine_elem > t.capacity)
        fail(ErrorKind::kRuntime, "tensorrt backend: output '", t.name, "' has an unexpected shape at batch ",
             batch, ": ", logger().errors());
      t.count = n;
    }
    prepared_batch_ = batch;
  }

  void stage_inputs(const std::vector<const void*>& inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      IoTensor& t = io_[i];
      if (t.conversion == Conversion::kNone) {
        std::memcpy(t.pinned.get(), inputs[i], size_t(t.count) * t.engine_elem);
        continue;
      }
      const int64_t* src = static_cast<const int64_t*>(inputs[i]);
      int32_t* dst = static_cast<int32_t*>(t.pinned.get());
      for (int64_t k = 0; k < t.count; ++k) {
        if (src[k] < std::numeric_limits<int32_t>::min() || src[k] > std::numeric_limits<int32_t>::max())
          fail(ErrorKind::kInvalidArgument, "tensorrt backend: input '", t.name, "' holds ", src[k],
               ", which this TensorRT engine (int32 inputs) cannot take");
        dst[k] = int32_t(src[k]);
      }
    }
  }

  void unstage(const IoTensor& t, void* out) const {
    if (t.conversion == Conversion::kNone) {
      std::memcpy(out, t.pinned.get(), size_t(t.count) * t.engine_elem);
      return;
    }
    const int32_t* src = static_cast<const int32_t*>(t.pinned.get());
    int64_t* dst = static_cast<int64_t*>(out);
    for (int64_t k = 0; k < t.count; ++k) dst[k] = src[k];
  }

  // Copies in, computes, copies out on one stream, with a single synchronization at the end.
  void run(IterationTiming* timing) {
    cudaStream_t s = stream_.s;
    cuda_check(cudaEventRecord(start_.get(), s), "cudaEventRecord");
    for (IoTensor& t : io_)
      if (t.is_input)
        cuda_check(cudaMemcpyAsync(t.device.ptr, t.pinned.get(), size_t(t.count) * t.engine_elem,
                                   cudaMemcpyHostToDevice, s),
                   "copy to device");
    cuda_check(cudaEventRecord(compute_start_.get(), s), "cudaEventRecord");
    if (!context_->enqueueV3(s))
      fail(ErrorKind::kRuntime, "tensorrt backend: enqueue failed: ", logger().errors());
    cuda_check(cudaEventRecord(compute_end_.get(), s), "cudaEventRecord");
    for (IoTensor& t : io_)
      if (!t.is_input)
        cuda_check(cudaMemcpyAsync(t.pinned.get(), t.device.ptr, size_t(t.count) * t.engine_elem,
                                   cudaMemcpyDeviceToHost, s),
                   "copy to host");
    cuda_check(cudaEventRecord(end_.get(), s), "cudaEventRecord");
    cuda_check(cudaStreamSynchronize(s), "running the engine");
    if (timing) {
      timing->compute_ms = gpu::elapsed_ms(compute_start_, compute_end_, "tensorrt backend: timing");
      timing->e2e_ms = gpu::elapsed_ms(start_, end_, "tensorrt backend: timing");
    }
  }

  void read_layers() {
    Ptr<nvinfer1::IEngineInspector> inspector(engine_->createEngineInspector());
    if (!inspector) return;
    const int n = engine_->getNbLayers();
    for (int i = 0; i < n; ++i) {
      const char* info = inspector->getLayerInformation(i, nvinfer1::LayerInformationFormat::kJSON);
      const std::string json = info ? info : "";
      LayerInfo l;
      if (!json.empty() && json[0] == '"') {  // built without detailed verbosity: the name alone
        l.name = json_string("{\"Name\":" + json + "}", "Name");
      } else {
        l.name = json_string(json, "Name");
        l.op = json_string(json, "LayerType");
        const size_t outputs = json.find("\"Outputs\"");
        l.precision = precision_of(json_string(json, "Format/Datatype", outputs == std::string::npos ? 0 : outputs));
        l.tactic = json_string(json, "TacticName");
        if (l.tactic.empty()) l.tactic = json_string(json, "TacticValue");
      }
      if (l.name.empty()) l.name = "layer_" + std::to_string(i);
      layers_.push_back(std::move(l));
    }
  }

  int device_;
  CurrentDevice current_;  // before the stream and events, which belong to the current device
  bool has_batch_axis_;
  int64_t max_batch_;
  size_t engine_bytes_;
  // Destroyed bottom-up: buffers (after the last synchronized run), events, stream, then the context before
  // its engine and the engine before its runtime.
  Ptr<nvinfer1::IRuntime> runtime_;
  Ptr<nvinfer1::ICudaEngine> engine_;
  Ptr<nvinfer1::IExecutionContext> context_;
  Stream stream_;
  gpu::Event start_{"tensorrt backend"}, compute_start_{"tensorrt backend"}, compute_end_{"tensorrt backend"},
      end_{"tensorrt backend"};
  std::deque<IoTensor> io_;  // graph inputs, then graph outputs (a deque: buffers never move)
  size_t n_inputs_ = 0;
  int64_t prepared_batch_ = -1;
  std::vector<LayerInfo> layers_;
};

}  // namespace

std::unique_ptr<Executable> make_executable(const Graph& g, const BuildOptions& opt, const std::string& engine) {
  return std::make_unique<TrtExecutable>(g, opt, engine);
}

}  // namespace trtcore::tensorrt
