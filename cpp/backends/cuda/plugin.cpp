// The entry point of libtrtcore_cuda.so (see backends/cuda_plugin.h); everything else in the library is hidden.
#include "backends/cuda_plugin.h"

namespace trtcore::cuda {
std::unique_ptr<Backend> make_backend(const BuildOptions& opt);
bool device_available();
}  // namespace trtcore::cuda

extern "C" __attribute__((visibility("default"))) const trtcore::CudaPluginApi* trtcore_cuda_plugin() {
  static const trtcore::CudaPluginApi api = [] {
    trtcore::CudaPluginApi a = trtcore::expected_cuda_plugin_layout();
    a.make_backend = &trtcore::cuda::make_backend;
    a.device_available = &trtcore::cuda::device_available;
    return a;
  }();
  return &api;
}
