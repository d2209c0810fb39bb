// Backend registry: the only place that knows which backend libraries were compiled in.
#include <memory>

#include "trtcore/backend.h"
#include "trtcore/error.h"

#ifdef TRTCORE_WITH_CUDA
#include "backends/cuda_loader.h"
#endif

namespace trtcore {
namespace cpu {
std::unique_ptr<Backend> make_backend();
std::string isa_description();
}
#ifdef TRTCORE_WITH_TENSORRT
namespace tensorrt {
std::unique_ptr<Backend> make_backend(const BuildOptions& opt);
bool available();
}  // namespace tensorrt
#endif

std::vector<std::string> compiled_backends() {
  std::vector<std::string> names{"cpu"};
#ifdef TRTCORE_WITH_CUDA
  names.push_back("cuda");
#endif
#ifdef TRTCORE_WITH_TENSORRT
  names.push_back("tensorrt");
#endif
  return names;
}

std::string cpu_kernel_isa() { return cpu::isa_description(); }

bool cuda_device_available() {
#ifdef TRTCORE_WITH_CUDA
  const CudaPluginApi* api = cuda_plugin().api;
  return api && api->device_available();
#else
  return false;
#endif
}

std::unique_ptr<Backend> create_backend(BackendKind kind, const BuildOptions& opt) {
  switch (kind) {
    case BackendKind::kAuto:
      return cuda_device_available() ? create_backend(BackendKind::kCuda, opt) : cpu::make_backend();
    case BackendKind::kCpu:
      return cpu::make_backend();
    case BackendKind::kCuda:
#ifdef TRTCORE_WITH_CUDA
    {
      const CudaPlugin& plugin = cuda_plugin();
      if (!plugin.api) fail(ErrorKind::kUnsupported, "backend 'cuda': ", plugin.error);
      if (!plugin.api->device_available())
        fail(ErrorKind::kUnsupported, "backend 'cuda': no usable CUDA device (driver missing or no GPU)");
      return plugin.api->make_backend(opt);
    }
#else
      fail(ErrorKind::kUnsupported, "backend 'cuda' was not compiled into this build (nvcc/cuDNN/cuBLASLt not found)");
#endif
    case BackendKind::kTensorRT:
#ifdef TRTCORE_WITH_TENSORRT
      return tensorrt::make_backend(opt);
#else
      fail(ErrorKind::kUnsupported, "backend 'tensorrt' was not compiled into this build (TensorRT not found)");
#endif
  }
  fail(ErrorKind::kInvalidArgument, "unknown backend");
}

}  // namespace trtcore
