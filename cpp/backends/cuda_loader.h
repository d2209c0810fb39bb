// Finds and opens libtrtcore_cuda.so (backends/cuda_plugin.h) the first time the cuda backend is asked for.
#pragma once
#include <string>

#include "backends/cuda_plugin.h"

namespace trtcore {

struct CudaPlugin {
  const CudaPluginApi* api = nullptr;  // null when the library is missing or does not load
  std::string path;                    // the library file tried
  std::string error;                   // why api is null: names the file and what failed
};

// Opened once per process (later calls return the same result). TRTCORE_CUDA_LIBRARY names the file to use;
// otherwise it is looked for beside the library or executable holding this code, then in lib/, ../lib and ../.
const CudaPlugin& cuda_plugin();

}  // namespace trtcore
