// The cuda backend: device facts, op support and the build/load entry points.
#include <memory>

#include "backends/cuda/executable.h"
#include "trtcore/backend.h"

namespace trtcore::cuda {
namespace {

std::string version_str(int v, int major_div, int minor_div, int minor_mod) {
  return std::to_string(v / major_div) + "." + std::to_string((v / minor_div) % minor_mod) + "." +
         std::to_string(v % minor_div);
}

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(const BuildOptions& opt) : device_(opt.device) {
    int count = 0;
    TRTCORE_CUDA_CHECK("cuda backend", cudaGetDeviceCount(&count));
    if (device_ < 0 || device_ >= count)
      fail(ErrorKind::kInvalidArgument, "cuda backend: device ", device_, " requested but ", count,
           " device(s) are visible");
    TRTCORE_CUDA_CHECK("cuda backend", cudaGetDeviceProperties(&prop_, device_));
  }

  std::string name() const override { return "cuda"; }

  std::string device_description() const override {
    const auto env = environment();
    return env.at("gpu") + " (sm_" + std::to_string(prop_.major) + std::to_string(prop_.minor) + ", " +
           std::to_string(prop_.totalGlobalMem >> 20) + " MiB), CUDA runtime " + env.at("cuda_runtime") +
           ", cuDNN " + env.at("cudnn") + ", cuBLASLt " + env.at("cublaslt");
  }

  std::map<std::string, std::string> environment() const override {
    int rt = 0;
    static_cast<void>(cudaRuntimeGetVersion(&rt));
    const int cudnn = int(cudnnGetVersion());   // major*10000 + minor*100 + patch (cuDNN 9)
    const int cublas = int(cublasLtGetVersion());  // major*10000 + minor*100 + patch
    return {{"gpu", prop_.name},
            {"compute_capability", std::to_string(prop_.major) + "." + std::to_string(prop_.minor)},
            {"cuda_runtime", std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10)},
            {"cudnn", version_str(cudnn, 10000, 100, 100)},
            {"cublaslt", version_str(cublas, 10000, 100, 100)}};
  }

  // Tactics are tied to the GPU; library versions are informational (a stored algorithm that a newer library
  // rejects is re-chosen at load by the kernel).
  void check_environment(const std::map<std::string, std::string>& plan_env) const override {
    const auto here = environment();
    for (const char* key : {"gpu", "compute_capability"}) {
      auto want = plan_env.find(key);
      if (want == plan_env.end()) continue;
      if (here.at(key) != want->second)
        fail(ErrorKind::kInvalidArgument, "plan was built for ", key, " '", want->second,
             "' but this machine has '", here.at(key), "'; rebuild the plan here");
    }
  }

  std::vector<std::string> unsupported_nodes(const Graph& g, const BuildOptions& opt) const override {
    std::vector<std::string> out;
    for (const Node& n : g.nodes) {
      bool folded = true;
      for (int o : n.outputs)
        if (o >= 0 && !g.value(o).constant) folded = false;
      if (folded) continue;
      const KernelDef* def = find_cuda_kernel(n.op);
      if (!def) {
        out.push_back(n.describe() + ": no cuda kernel for op '" + n.op + "'");
        continue;
      }
      try {
        const std::string reason = def->make()->check(n, g);
        if (!reason.empty()) out.push_back(n.describe() + ": " + reason);
      } catch (const Error& e) {
        out.push_back(n.describe() + ": " + e.what());
      }
    }
    if (!supports_precision(opt.precision))
      out.push_back(std::string("precision ") + precision_name(opt.precision) +
                    " is not implemented by the cuda backend yet (fp32/tf32/fp16/int8 only)");
    return out;
  }

  bool supports_precision(Precision p) const override {
    return p == Precision::kFP32 || p == Precision::kFP16 || p == Precision::kINT8;
  }
  // FP16 arrives as float16 values and Cast nodes in the graph, INT8 as QuantizeLinear/DequantizeLinear pairs:
  // ungrouped convolutions with channels in fours become QConv (int8 tensor-core kernels: cuDNN graph API,
  // cuBLASLt), the other pairs' constant weight dequantizations (the 3-channel stem, depthwise convolutions) are
  // folded into float weights and those convolutions run in float between the pairs.
  PrecisionLowering precision_lowering(Precision) const override { return PrecisionLowering::kGraph; }

  FusionCaps fusion_caps() const override {  // conv+act, conv+residual, gemm+act, and dense int8 convs
    FusionCaps caps;
    caps.int8_conv = Int8Convs::kDense;
    return caps;
  }

  std::unique_ptr<Executable> build(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                    std::string* tactics_out) override {
    return make_executable(g, with_device(build), sys, TacticMode::kTune, "", tactics_out);
  }

  std::unique_ptr<Executable> load(const Graph& g, const BuildOptions& build, const SystemOptions& sys,
                                   const std::string& tactics) override {
    return make_executable(g, with_device(build), sys, TacticMode::kReuse, tactics, nullptr);
  }

 private:
  BuildOptions with_device(const BuildOptions& b) const {
    BuildOptions o = b;
    o.device = device_;
    return o;
  }

  int device_ = 0;
  cudaDeviceProp prop_{};
};

}  // namespace

bool device_available() {
  try {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      static_cast<void>(cudaGetLastError());
      return false;
    }
    return count > 0;
  } catch (...) {
    return false;
  }
}

std::unique_ptr<Backend> make_backend(const BuildOptions& opt) { return std::make_unique<CudaBackend>(opt); }

}  // namespace trtcore::cuda
