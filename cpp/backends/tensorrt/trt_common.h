// Shared pieces of the tensorrt backend: the logger, owning pointers, dtype mapping and version facts.
// NV_TENSORRT_MAJOR selects the API: 8.6 (explicit-batch flag, size_t device memory), 10.x (named tensors only,
// int64 device memory), 11 (no FP16/INT8 builder flags and no calibrators).
#pragma once
#include <NvInfer.h>
#include <NvOnnxParser.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "trtcore/dtype.h"
#include "trtcore/error.h"

#define TRTCORE_TRT_AT_LEAST(major, minor) \
  (NV_TENSORRT_MAJOR > (major) || (NV_TENSORRT_MAJOR == (major) && NV_TENSORRT_MINOR >= (minor)))

// Calibrators and some builder flags are deprecated in late 10.x but remain the only route there; the
// deprecation warnings are silenced around those uses only.
#if defined(__GNUC__)
#define TRTCORE_TRT_ALLOW_DEPRECATED_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wdeprecated-declarations\"")
#define TRTCORE_TRT_ALLOW_DEPRECATED_END _Pragma("GCC diagnostic pop")
#else
#define TRTCORE_TRT_ALLOW_DEPRECATED_BEGIN
#define TRTCORE_TRT_ALLOW_DEPRECATED_END
#endif

namespace trtcore::tensorrt {

// Collects TensorRT's errors so that failures become trtcore::Error messages; never prints.
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override;
  // Clears what was collected, before an operation whose errors are to be reported.
  void clear();
  // "; "-joined errors (the last few) collected since clear(), or "" when there were none.
  std::string errors() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
};

// One logger for the process: TensorRT requires it to outlive every builder, runtime and engine made with it.
Logger& logger();

struct Deleter {
  template <class T>
  void operator()(T* p) const { delete p; }
};
template <class T>
using Ptr = std::unique_ptr<T, Deleter>;

// "10.13.3" from the library that is loaded (not the headers compiled against).
std::string library_version();

DType from_trt(nvinfer1::DataType t, const std::string& tensor);  // throws kUnsupported naming the tensor
const char* trt_type_name(nvinfer1::DataType t);
size_t trt_type_size(nvinfer1::DataType t);

void cuda_check(cudaError_t status, const char* what);

}  // namespace trtcore::tensorrt
