#include "trtcore/options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "trtcore/error.h"

namespace trtcore {

const char* backend_kind_name(BackendKind k) {
  switch (k) {
    case BackendKind::kAuto: return "auto";
    case BackendKind::kCpu: return "cpu";
    case BackendKind::kCuda: return "cuda";
    case BackendKind::kTensorRT: return "tensorrt";
  }
  return "auto";
}

BackendKind backend_kind_from_name(const std::string& s) {
  for (BackendKind k : {BackendKind::kAuto, BackendKind::kCpu, BackendKind::kCuda, BackendKind::kTensorRT})
    if (s == backend_kind_name(k)) return k;
  fail(ErrorKind::kInvalidArgument, "unknown backend '", s, "'; expected auto, cpu, cuda or tensorrt");
}

void check_system_options(const SystemOptions& sys) {
  // More threads than this only oversubscribe the cores, and far more exhaust the process's thread limit.
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  const int most = 4 * cores;
  if (sys.threads < 0 || sys.threads > most)
    fail(ErrorKind::kInvalidArgument, "--threads must be 0 (all cores) or 1..", most, " (4 per core of this machine's ",
         cores, "), got ", sys.threads);
}

const char* int8_fallback_name(Int8Fallback f) {
  switch (f) {
    case Int8Fallback::kAuto: return "auto";
    case Int8Fallback::kFP16: return "fp16";
    case Int8Fallback::kFP32: return "fp32";
  }
  return "auto";
}

Int8Fallback int8_fallback_from_name(const std::string& name) {
  for (Int8Fallback f : {Int8Fallback::kAuto, Int8Fallback::kFP16, Int8Fallback::kFP32})
    if (name == int8_fallback_name(f)) return f;
  fail(ErrorKind::kInvalidArgument, "unknown INT8 fallback precision '", name, "'; expected auto, fp16 or fp32");
}

const char* int8_bias_correction_name(Int8BiasCorrection b) { return b == Int8BiasCorrection::kOn ? "on" : "off"; }

Int8BiasCorrection int8_bias_correction_from_name(const std::string& name) {
  for (Int8BiasCorrection b : {Int8BiasCorrection::kOff, Int8BiasCorrection::kOn})
    if (name == int8_bias_correction_name(b)) return b;
  fail(ErrorKind::kInvalidArgument, "unknown INT8 bias correction '", name, "'; expected off or on");
}

const char* int8_equalization_name(Int8Equalization e) {
  switch (e) {
    case Int8Equalization::kOff: return "off";
    case Int8Equalization::kOn: return "on";
    case Int8Equalization::kActivations: return "activations";
  }
  return "off";
}

Int8Equalization int8_equalization_from_name(const std::string& name) {
  for (Int8Equalization e : {Int8Equalization::kOff, Int8Equalization::kOn, Int8Equalization::kActivations})
    if (name == int8_equalization_name(e)) return e;
  fail(ErrorKind::kInvalidArgument, "unknown INT8 equalization '", name, "'; expected off, on or activations");
}

void set_int8_float_layers(BuildOptions& build, const std::string& text) {
  if (text == "auto") {
    build.int8_float_layers_choice = Int8FloatLayers::kAuto;
    build.int8_float_layers = 0;
    return;
  }
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    fail(ErrorKind::kInvalidArgument, "--int8-float-layers takes a number of layers or auto, got '", text, "'");
  build.int8_float_layers_choice = Int8FloatLayers::kCount;
  build.int8_float_layers = n;
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFP32: return "fp32";
    case Precision::kFP16: return "fp16";
    case Precision::kINT8: return "int8";
  }
  return "fp32";
}

const char* calibration_algorithm_name(CalibrationAlgorithm a) {
  switch (a) {
    case CalibrationAlgorithm::kEntropy: return "entropy";
    case CalibrationAlgorithm::kMax: return "max";
    case CalibrationAlgorithm::kPercentile: return "percentile";
    case CalibrationAlgorithm::kMse: return "mse";
  }
  return "entropy";
}

CalibrationAlgorithm calibration_algorithm_from_name(const std::string& name) {
  for (CalibrationAlgorithm a : {CalibrationAlgorithm::kEntropy, CalibrationAlgorithm::kMax,
                                 CalibrationAlgorithm::kPercentile, CalibrationAlgorithm::kMse})
    if (name == calibration_algorithm_name(a)) return a;
  fail(ErrorKind::kInvalidArgument, "unknown calibrator '", name, "'; expected one of entropy, max, percentile, mse");
}

}  // namespace trtcore
