// INT8 layer sensitivity for --int8-float-layers N: each layer the INT8 policy quantizes is scored by the error it
// causes alone (a plan where only it is int8, compared with the float32 plan on calibration samples), and the N
// highest-scoring layers stay float. Scores are kept beside the calibration cache (<cache>.sensitivity, CSV).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "precision/int8_policy.h"
#include "trtcore/backend.h"
#include "trtcore/calibration.h"
#include "trtcore/progress.h"

namespace trtcore {

struct LayerSensitivity {
  std::string layer;
  std::string op;      // the layer's label ("Conv+Clip")
  double score = 0;    // mean over samples of ||y - y_fp32|| / ||y_fp32|| over all outputs, only this layer int8
};

struct SensitivitySettings {
  size_t max_samples = 32;  // samples each plan runs (the first ones of the calibration data)
  std::string bias_correction = "off";  // recorded in the file: scores made with other options are not reused
};

// Scores, highest first, of the layers `apply_int8_policy(g, scales, base)` quantizes. `g`: the optimized float
// graph before the precision stage.
std::vector<LayerSensitivity> int8_layer_sensitivity(const Graph& g, const std::map<std::string, float>& scales,
                                                     const Int8Options& base, Backend& backend,
                                                     const BuildOptions& build, const SystemOptions& sys,
                                                     const CalibrationData& data, const SensitivitySettings& settings,
                                                     const ProgressFn& progress);

// --int8-float-layers auto: the fewest leading layers of `scores` kept float for which the plan's top-1 (argmax of
// the first output per sample) agrees with the FP32 plan's on at least `target` of the first `max_samples`
// calibration samples. A bisection over the count (about log2(layers) plans, each count built once), which assumes
// agreement grows with the count, as the ranking intends; every count tried is appended to `steps`.
struct AutoFloatLayers {
  size_t count = 0;
  double agreement = 1;  // measured with `count` layers float
  size_t samples = 0;
  std::string steps;     // "N float: agreement" lines, in the order tried
};
AutoFloatLayers int8_auto_float_layers(const Graph& g, const std::map<std::string, float>& scales,
                                       const Int8Options& base, const std::vector<LayerSensitivity>& scores,
                                       Backend& backend, const BuildOptions& build, const SystemOptions& sys,
                                       const CalibrationData& data, double target, size_t max_samples,
                                       const ProgressFn& progress);

// The CSV file: a "# ..." line naming the metric, samples and bias correction, a header, then one row per layer.
std::string format_sensitivity(const std::vector<LayerSensitivity>& scores, const SensitivitySettings& settings,
                               size_t samples);
// Reads a file written by format_sensitivity; false (and nothing read) when it was made with another bias
// correction setting. Errors (kCorrupt) name `file` and the line.
bool parse_sensitivity(const std::string& text, const std::string& file, const SensitivitySettings& settings,
                       std::vector<LayerSensitivity>* scores);

// The table the build log prints: rank, layer, op, score, and which layers stay float.
std::string sensitivity_table(const std::vector<LayerSensitivity>& scores, size_t kept_float);

}  // namespace trtcore
