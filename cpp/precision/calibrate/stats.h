// Per-tensor statistics and the threshold (amax) algorithms of INT8 calibration. Backend-independent: the calibrator
// feeds it float32 activations; nothing here knows about graphs or backends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trtcore/options.h"

namespace trtcore::calib {

// The build option's enum (trtcore/options.h), named here for the algorithms' code.
using Algorithm = CalibrationAlgorithm;
inline const char* algorithm_name(Algorithm a) { return calibration_algorithm_name(a); }
inline Algorithm algorithm_from_name(const std::string& name) { return calibration_algorithm_from_name(name); }

struct AlgorithmSettings {
  Algorithm algorithm = Algorithm::kEntropy;
  double percentile = 99.99;  // kPercentile: the |x| percentile kept
  int bins = 2048;            // histogram bins over [0, amax]
};

// |x| statistics of one tensor, gathered in two passes over the whole calibration set so the result never depends on
// the batch size or the order of the samples: pass 1 finds max |x|; pass 2 bins |x| over the fixed range [0, max].
class TensorStats {
 public:
  explicit TensorStats(int bins = 2048);  // throws kInvalidArgument for bins < 1
  // A finished histogram (e.g. from another process); hist.size() is the bin count, max_abs the range's upper end.
  static TensorStats from_histogram(std::vector<uint64_t> hist, float max_abs);
  void observe_range(const float* x, size_t n);      // pass 1; non-finite values are counted, not binned
  void begin_histogram();                            // fixes the range from pass 1
  void observe_histogram(const float* x, size_t n);  // pass 2; non-finite values skipped (already counted)
  float max_abs() const { return max_abs_; }
  uint64_t nonfinite() const { return nonfinite_; }
  const std::vector<uint64_t>& histogram() const { return hist_; }
  int bins() const { return bins_; }
  double bin_width() const;                          // max_abs / bins (0 for an all-zero tensor)
 private:
  int bins_;
  float max_abs_ = 0.f;
  uint64_t nonfinite_ = 0;
  std::vector<uint64_t> hist_;
  double inv_width_ = 0;  // bins / max_abs, fixed by begin_histogram
};

// The calibrated threshold amax (scale = amax / 127) of one tensor. An all-zero tensor gives 0; callers map that to
// a scale of 1 (TensorRT and onnxruntime refuse scale 0).
float compute_amax(const TensorStats& s, const AlgorithmSettings& settings);

// The KL-divergence (TensorRT EntropyCalibration2) threshold of a |x| histogram over [0, max_abs]: defined in
// entropy.cpp, used by compute_amax. Needs at least 128 bins.
float entropy_amax(const std::vector<uint64_t>& hist, double max_abs);

// Symmetric per-output-channel weight thresholds: channel c covers elements [c*per_channel, (c+1)*per_channel).
std::vector<float> per_channel_amax(const float* w, int64_t channels, int64_t per_channel);

// scale = amax / 127, with 1.0 for amax <= 0 or non-finite.
float scale_from_amax(float amax);

}  // namespace trtcore::calib
