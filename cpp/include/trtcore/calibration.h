// Calibration samples handed to an INT8 build from code (the command line reads a folder instead): the builder's
// counterpart of TensorRT's calibrator object, set in BuildOptions.
#pragma once
#include <cstddef>
#include <vector>

namespace trtcore {

// Samples for every graph input, in graph input order, float32.
class CalibrationData {
 public:
  virtual ~CalibrationData() = default;
  virtual size_t size() const = 0;  // number of samples
  // Reads samples [first, first + count) into dst[i] (count samples of input i each).
  virtual void read(size_t first, size_t count, const std::vector<float*>& dst) const = 0;
};

// Samples held in memory: per input, `samples` consecutive samples of `sample_floats[i]` floats each.
class InMemoryCalibrationData : public CalibrationData {
 public:
  InMemoryCalibrationData(std::vector<std::vector<float>> per_input, std::vector<size_t> sample_floats);
  size_t size() const override { return samples_; }
  void read(size_t first, size_t count, const std::vector<float*>& dst) const override;

 private:
  std::vector<std::vector<float>> data_;
  std::vector<size_t> sample_floats_;
  size_t samples_ = 0;
};

}  // namespace trtcore
