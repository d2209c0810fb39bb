// Options grouped by phase (trtexec's habit). The CLI, the standalone executable and Python all fill these.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trtcore/dtype.h"

namespace trtcore {

class CalibrationData;  // trtcore/calibration.h

enum class BackendKind { kAuto, kCpu, kCuda, kTensorRT };
const char* backend_kind_name(BackendKind k);
BackendKind backend_kind_from_name(const std::string& s);  // "auto", "cpu", "cuda", "tensorrt"

enum class Precision { kFP32, kFP16, kINT8 };
const char* precision_name(Precision p);

// How INT8 calibration picks each tensor's threshold (amax; scale = amax / 127).
enum class CalibrationAlgorithm { kEntropy, kMax, kPercentile, kMse };
const char* calibration_algorithm_name(CalibrationAlgorithm a);                // "entropy", "max", "percentile", "mse"
CalibrationAlgorithm calibration_algorithm_from_name(const std::string& name);  // throws listing the names

// INT8 builds: the precision of the layers left in float, and of the float math between a DequantizeLinear and the
// next QuantizeLinear. kAuto is FP16 where the backend builds FP16 plans (cuda, as TensorRT does) and FP32 elsewhere.
enum class Int8Fallback { kAuto, kFP16, kFP32 };
const char* int8_fallback_name(Int8Fallback f);                // "auto", "fp16", "fp32"
Int8Fallback int8_fallback_from_name(const std::string& name);  // throws listing the names

// INT8 builds: whether each Conv/Gemm bias absorbs the mean output shift its int8 weight rounding causes
// (E[x] per input channel from the calibration samples times the rounding error of the weights).
enum class Int8BiasCorrection { kOff, kOn };
const char* int8_bias_correction_name(Int8BiasCorrection b);                // "off", "on"
Int8BiasCorrection int8_bias_correction_from_name(const std::string& name);  // throws listing the names

// INT8 builds: cross-layer equalization of Conv -> [Relu|Clip] -> Conv pairs before calibration (the float32
// function is unchanged; per-tensor activation ranges become balanced across channels). kOn balances the two weight
// ranges (data-free); kActivations balances each channel's activation range, measured on the calibration samples.
enum class Int8Equalization { kOff, kOn, kActivations };
const char* int8_equalization_name(Int8Equalization e);                // "off", "on", "activations"
Int8Equalization int8_equalization_from_name(const std::string& name);  // throws listing the names

// INT8 builds: how many of the layers most sensitive to INT8 stay float: a given count, or (auto) the fewest for
// which the plan's top-1 agrees with the FP32 plan on the calibration samples at int8_target_agreement.
enum class Int8FloatLayers { kCount, kAuto };

// How FP32 layers may compute on tensor cores.
enum class Fp32Math { kStrict, kTF32 };

// Model phase: what is read and how shapes are fixed.
struct ModelOptions {
  std::string onnx_path;
  int64_t max_batch = 0;                  // --batch: a dynamic (or overridden) batch axis is built for this; 0 = the model's
  std::map<std::string, Shape> shapes;    // --shapes name:1x3x640x640 for other dynamic axes
};

// Build phase: what the builder may do.
struct BuildOptions {
  BackendKind backend = BackendKind::kAuto;
  Precision precision = Precision::kFP32;
  Fp32Math fp32_math = Fp32Math::kStrict;
  bool io_half = false;                   // --io-half: FP16 inputs/outputs
  std::vector<std::string> disabled_passes;
  std::string timing_cache;               // --timing-cache file; empty = none
  int64_t workspace_mib = 0;              // --workspace: per-layer scratch cap for tactics (MiB); 0 = automatic
  std::string calibration_dir;            // INT8: directory of raw sample files
  std::string calibration_cache;         // INT8: cache file read if present, written otherwise
  CalibrationAlgorithm calibrator = CalibrationAlgorithm::kEntropy;
  double calibration_percentile = 99.99;  // --percentile for the percentile calibrator
  int64_t calibration_batch = 0;          // samples per calibration run; 0 = the plan's batch, at most 8
  int64_t calibration_batches = 0;        // --calibration-batches: cap on the batches read; 0 = every sample
  std::vector<std::string> exclude_layers;  // --exclude-layers: layers INT8 leaves in float
  Int8Fallback int8_fallback = Int8Fallback::kAuto;  // --int8-fallback (--int8 --half: fp16)
  Int8BiasCorrection int8_bias_correction = Int8BiasCorrection::kOff;  // --int8-bias-correction
  Int8Equalization int8_equalization = Int8Equalization::kOff;          // --int8-equalization
  int64_t int8_float_layers = 0;  // --int8-float-layers: the N most sensitive weighted layers stay float
  Int8FloatLayers int8_float_layers_choice = Int8FloatLayers::kCount;  // --int8-float-layers auto: kAuto
  double int8_target_agreement = 0.99;  // --int8-target-agreement: what --int8-float-layers auto reaches
  std::shared_ptr<const CalibrationData> calibration_data;  // samples given from code, instead of calibration_dir
  int device = 0;                         // CUDA device ordinal
};

// System phase: resources used at run time.
// --int8-float-layers: "auto" or a count (negative counts are left for the build to refuse, naming them).
void set_int8_float_layers(BuildOptions& build, const std::string& text);

struct SystemOptions {
  int threads = 0;         // cpu backend threads; 0 = all cores
  bool cuda_graph = true;  // capture the whole run in a CUDA graph
};
// Throws kInvalidArgument naming --threads unless it is 0 (all cores) or 1..4 per core of this machine.
void check_system_options(const SystemOptions& sys);

// Inference phase: how a run is driven and timed.
struct InferenceOptions {
  int64_t batch = 0;       // 0 = the plan's maximum batch
  int iterations = 10;
  int warmup = 3;
  bool profile = false;    // per-layer times
};

}  // namespace trtcore
