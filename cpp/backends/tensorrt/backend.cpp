// The tensorrt backend: TensorRT builds and tunes the whole optimized graph as one engine; the engine bytes are
// the plan's tactics blob, so loading a plan deserializes instead of rebuilding.
#include <memory>

#include "backends/tensorrt/engine_builder.h"
#include "backends/tensorrt/executable.h"
#include "backends/tensorrt/trt_common.h"
#include "trtcore/backend.h"

namespace trtcore::tensorrt {

bool available();

namespace {

class TrtBackend : public Backend {
 public:
  explicit TrtBackend(const BuildOptions& opt) : device_(opt.device) {
    int count = 0;
    cuda_check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    if (device_ < 0 || device_ >= count)
      fail(ErrorKind::kInvalidArgument, "tensorrt backend: device ", device_, " requested but ", count,
           " device(s) are visible");
    cuda_check(cudaGetDeviceProperties(&prop_, device_), "cudaGetDeviceProperties");
  }

  std::string name() const override { return "tensorrt"; }

  std::string device_description() const override {
    return std::string(prop_.name) + " (sm_" + std::to_string(prop_.major) + std::to_string(prop_.minor) + ", " +
           std::to_string(prop_.totalGlobalMem >> 20) + " MiB), TensorRT " + library_version();
  }

  // A serialized engine runs only on the TensorRT version and GPU model that built it, so all three are checked
  // (the default check_environment compares every stored key).
  std::map<std::string, std::string> environment() const override {
    return {{"gpu", prop_.name},
            {"compute_capability", std::to_string(prop_.major) + "." + std::to_string(prop_.minor)},
            {"tensorrt", library_version()}};
  }

  // Op coverage is decided by TensorRT's parser at build time (its errors name the node); only what is known
  // before any work is reported here.
  std::vector<std::string> unsupported_nodes(const Graph& g, const BuildOptions& opt) const override {
    std::vector<std::string> out;
    for (int id : g.inputs)
      if (g.value(id).dtype == DType::kFloat64)
        out.push_back("input '" + g.value(id).name + "': TensorRT has no float64 tensors");
    return out;
  }

  bool supports_precision(Precision) const override { return true; }

  // INT8 is explicit quantization on every TensorRT version (TensorRT 11 has no calibrators): the core's INT8 stage
  // calibrates and inserts Q/DQ pairs, and TensorRT builds the Q/DQ model. FP16 is TensorRT's own.
  PrecisionLowering precision_lowering(Precision p) const override {
    return p == Precision::kINT8 ? PrecisionLowering::kGraph : PrecisionLowering::kBackend;
  }

  // TensorRT fuses on its own; trtcore's fused forms would only be expanded again by the ONNX writer. It reads the
  // int8 weights behind their DequantizeLinear itself.
  FusionCaps fusion_caps() const override {
    FusionCaps caps{false, false, false, false, false};
    caps.int8_weights = true;
    return caps;
  }

  std::unique_ptr<Executable> build(const Graph& g, const BuildOptions& build, const SystemOptions&,
                                    std::string* tactics_out) override {
    std::string engine = build_engine(g, build);
    std::unique_ptr<Executable> exec = make_executable(g, build, engine);
    if (tactics_out) *tactics_out = std::move(engine);
    return exec;
  }

  std::unique_ptr<Executable> load(const Graph& g, const BuildOptions& build, const SystemOptions&,
                                   const std::string& tactics) override {
    if (tactics.empty())
      fail(ErrorKind::kCorrupt, "tensorrt backend: the plan holds no TensorRT engine");
    return make_executable(g, build, tactics);
  }

 private:
  int device_;
  cudaDeviceProp prop_{};
};

}  // namespace

std::unique_ptr<Backend> make_backend(const BuildOptions& opt) {
  if (!available())
    fail(ErrorKind::kUnsupported, "backend 'tensorrt': no usable CUDA device (driver missing or no GPU)");
  return std::make_unique<TrtBackend>(opt);
}

bool available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

}  // namespace trtcore::tensorrt
