// Opens the cuda backend's shared library on demand: dladdr gives the file holding this code (the Python module or
// the executable), and the library is looked for beside it.
#include "backends/cuda_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace trtcore {
namespace {

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// Directories to search: beside this code's file as named and as resolved (a symlinked module), then lib/, ../lib
// (a wheel: trtcore/_core and trtcore/bin/trtcore-exec, the library in trtcore/lib) and ../.
std::vector<std::string> search_dirs() {
  std::vector<std::string> bases;
  Dl_info info{};
  std::string self = dladdr(reinterpret_cast<void*>(&cuda_plugin), &info) && info.dli_fname ? info.dli_fname : "";
  const std::string exe = real_path("/proc/self/exe");
  // the main executable may be reported by the name it was started with: use its full path instead
  if (self.empty() || self.find('/') == std::string::npos || real_path(self) == exe) self = exe;
  if (!self.empty()) {
    bases.push_back(directory_of(self));
    const std::string resolved = real_path(self);
    if (!resolved.empty() && directory_of(resolved) != bases[0]) bases.push_back(directory_of(resolved));
  }
  std::vector<std::string> dirs;
  for (const std::string& b : bases)
    for (const char* rel : {"", "/lib", "/../lib", "/.."}) dirs.push_back(b + rel);
  return dirs;
}

std::string check_layout(const CudaPluginApi& api) {
  const CudaPluginApi want = expected_cuda_plugin_layout();
  if (api.abi != want.abi || std::string(api.version) != want.version || api.graph_size != want.graph_size ||
      api.build_options_size != want.build_options_size || api.system_options_size != want.system_options_size)
    return std::string("it belongs to trtcore ") + api.version + " (another build than this trtcore " + want.version +
           "); reinstall trtcore";
  return "";
}

CudaPlugin open_plugin() {
  CudaPlugin p;
  const char* env = std::getenv("TRTCORE_CUDA_LIBRARY");
  std::vector<std::string> tried;
  if (env && *env) {
    p.path = env;
  } else {
    for (const std::string& d : search_dirs()) {
      const std::string f = d + "/" + kCudaPluginFile;
      tried.push_back(f);
      if (access(f.c_str(), F_OK) == 0) {
        p.path = f;
        break;
      }
    }
  }
  if (p.path.empty()) {
    p.error = std::string(kCudaPluginFile) + " (the cuda backend library) was not found; looked for ";
    for (size_t i = 0; i < tried.size(); ++i) p.error += (i ? ", " : "") + tried[i];
    return p;
  }
  void* handle = dlopen(p.path.c_str(), RTLD_NOW | RTLD_LOCAL);  // never closed: its code backs live objects
  if (!handle) {
    const char* why = dlerror();
    const std::string reason = why ? why : "unknown error";
    p.error = "cannot load " + p.path + ": " + reason;
    // a library it needs is missing (not the file itself): say where those come from
    if (reason.rfind(p.path, 0) != 0)
      p.error += " (the cuda backend needs cuDNN 9 and cuBLAS 13: pip install nvidia-cudnn-cu13 nvidia-cublas, "
                 "or a system install on LD_LIBRARY_PATH)";
    return p;
  }
  auto entry = reinterpret_cast<TrtcoreCudaPluginFn>(dlsym(handle, kCudaPluginSymbol));
  if (!entry) {
    p.error = p.path + " is not trtcore's cuda backend library (no " + kCudaPluginSymbol + ")";
    return p;
  }
  const CudaPluginApi* api = entry();
  const std::string mismatch = api ? check_layout(*api) : "it returned no entry table";
  if (!mismatch.empty()) {
    p.error = "cannot use " + p.path + ": " + mismatch;
    return p;
  }
  p.api = api;
  return p;
}

}  // namespace

const CudaPlugin& cuda_plugin() {
  static const CudaPlugin plugin = open_plugin();
  return plugin;
}

}  // namespace trtcore
