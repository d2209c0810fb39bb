#include "backends/tensorrt/trt_common.h"

namespace trtcore::tensorrt {

namespace {
constexpr size_t kKeptErrors = 8;  // enough to explain a failure without flooding the message
}

void Logger::log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept {
  if (severity != Severity::kERROR && severity != Severity::kINTERNAL_ERROR) return;
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_.size() == kKeptErrors) errors_.erase(errors_.begin());
    errors_.emplace_back(msg ? msg : "");
  } catch (...) {
    // log() must not throw into TensorRT; a lost message only shortens an error text.
  }
}

void Logger::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.clear();
}

std::string Logger::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const std::string& e : errors_) out += (out.empty() ? "" : "; ") + e;
  return out;
}

Logger& logger() {
  static Logger* instance = new Logger();  // never destroyed: engines may be released during static teardown
  return *instance;
}

std::string library_version() {
  const int v = int(getInferLibVersion());
#if NV_TENSORRT_MAJOR >= 10
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
#else
  return std::to_string(v / 1000) + "." + std::to_string((v / 100) % 10) + "." + std::to_string(v % 100);
#endif
}

const char* trt_type_name(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return "float32";
    case nvinfer1::DataType::kHALF: return "float16";
    case nvinfer1::DataType::kINT8: return "int8";
    case nvinfer1::DataType::kINT32: return "int32";
    case nvinfer1::DataType::kBOOL: return "bool";
    case nvinfer1::DataType::kUINT8: return "uint8";
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kINT64: return "int64";
    case nvinfer1::DataType::kBF16: return "bfloat16";
#endif
    default: return "a TensorRT-only type";
  }
}

size_t trt_type_size(nvinfer1::DataType t) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32: return 4;
    case nvinfer1::DataType::kHALF: return 2;
    case nvinfer1::DataType::kINT8:
    case nvinfer1::DataType::kUINT8:
    case nvinfer1::DataType::kBOOL: return 1;
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kINT64: return 8;
    case nvinfer1::DataType::kBF16: return 2;
#endif
    default: return 0;
  }
}

DType from_trt(nvinfer1::DataType t, const std::string& tensor) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: return DType::kFloat32;
    case nvinfer1::DataType::kHALF: return DType::kFloat16;
    case nvinfer1::DataType::kINT8: return DType::kInt8;
    case nvinfer1::DataType::kINT32: return DType::kInt32;
    case nvinfer1::DataType::kBOOL: return DType::kBool;
    case nvinfer1::DataType::kUINT8: return DType::kUInt8;
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kINT64: return DType::kInt64;
#endif
    default:
      fail(ErrorKind::kUnsupported, "tensorrt backend: engine tensor '", tensor, "' has type ", trt_type_name(t),
           ", which trtcore cannot exchange");
  }
}

void cuda_check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    fail(ErrorKind::kRuntime, "tensorrt backend: ", what, " failed: ", cudaGetErrorString(status));
}

}  // namespace trtcore::tensorrt
