// The cuda backend is a shared library of its own (libtrtcore_cuda.so, beside the Python module or the executable),
// opened by backends/registry.cpp only when the cuda backend is asked for, so a cpu run never maps cuDNN, cuBLASLt
// or the CUDA runtime. The library exports one C function that returns this table.
#pragma once
#include <memory>

#include "trtcore/backend.h"
#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore {

// Bumped whenever this table or a type passed through it changes shape.
inline constexpr int kCudaPluginAbi = 1;
inline constexpr const char* kCudaPluginFile = "libtrtcore_cuda.so";
inline constexpr const char* kCudaPluginSymbol = "trtcore_cuda_plugin";

struct CudaPluginApi {
  int abi;
  const char* version;  // TRTCORE_VERSION of the library: it must be the loader's own
  // sizes of the types crossing the boundary, so a library from another build is refused, not misread
  size_t graph_size, build_options_size, system_options_size;
  std::unique_ptr<Backend> (*make_backend)(const BuildOptions& opt);
  bool (*device_available)();
};

inline CudaPluginApi expected_cuda_plugin_layout() {
  return CudaPluginApi{kCudaPluginAbi, TRTCORE_VERSION, sizeof(Graph), sizeof(BuildOptions), sizeof(SystemOptions),
                       nullptr, nullptr};
}

}  // namespace trtcore

extern "C" {
using TrtcoreCudaPluginFn = const trtcore::CudaPluginApi* (*)();
}
