// INT8 calibration driver: runs a float32 graph over the calibration samples through the ordinary Backend interface
// (any backend), observing chosen tensors as extra outputs, and returns each tensor's threshold (amax). Two passes
// over the samples (range, then histogram over the fixed range) make the result independent of batch size and order.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "trtcore/backend.h"
#include "trtcore/calibration.h"
#include "trtcore/progress.h"

namespace trtcore {

struct CalibrationSettings {
  CalibrationAlgorithm algorithm = CalibrationAlgorithm::kEntropy;
  double percentile = 99.99;
  int64_t batch = 0;          // samples per run: 0 = the graph's maximum batch, at most 8; clamped to that batch
  int64_t max_batches = 0;    // 0 = every sample
  std::vector<std::string> channel_mean_tensors;  // tensors whose per-channel (axis 1) means are also recorded
  std::vector<std::string> channel_max_tensors;   // tensors whose per-channel (axis 1) max |x| is also recorded
};

struct CalibrationResult {
  std::map<std::string, float> amax;     // tensor name -> threshold
  size_t samples = 0;
  std::vector<std::string> warnings;     // tensors holding NaN/Inf, samples left out
  std::map<std::string, std::vector<float>> channel_mean;  // settings.channel_mean_tensors: mean of x per channel
  std::map<std::string, std::vector<float>> channel_max;   // settings.channel_max_tensors: max |x| per channel
};

// `g`: the float32 graph to run (shapes at its maximum batch); `tensors`: value names to observe (absent ones are
// an error naming them). The backend builds `g` with `build`'s precision forced to FP32.
CalibrationResult calibrate(const Graph& g, Backend& backend, const SystemOptions& sys,
                            const std::vector<std::string>& tensors, const CalibrationData& data,
                            const CalibrationSettings& settings, const ProgressFn& progress);

// Every float32 activation (non-constant value) of `g`, graph inputs included: what TensorRT's EntropyCalibration2
// records before fusion.
std::vector<std::string> float_activations(const Graph& g);

}  // namespace trtcore
