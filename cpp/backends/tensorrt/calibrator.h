// INT8 entropy calibration from a directory of raw samples (TensorRT before 11, which still has calibrators).
#pragma once
#include <optional>

#include "backends/tensorrt/trt_common.h"
#include "runtime/samples.h"
#include "trtcore/graph.h"
#include "trtcore/options.h"

#if NV_TENSORRT_MAJOR < 11
namespace trtcore::tensorrt {

TRTCORE_TRT_ALLOW_DEPRECATED_BEGIN
// Feeds the graph's single float32 input, max_batch samples a call (the optimization profile's opt shape), from
// the files of BuildOptions::calibration_dir; reads and writes BuildOptions::calibration_cache when it is set.
// TensorRT's callbacks cannot throw, so problems are kept and reported by error() after the build.
class EntropyCalibrator : public nvinfer1::IInt8EntropyCalibrator2 {
 public:
  EntropyCalibrator(const Graph& g, const BuildOptions& opt);
  ~EntropyCalibrator() override;
  EntropyCalibrator(const EntropyCalibrator&) = delete;
  EntropyCalibrator& operator=(const EntropyCalibrator&) = delete;

  // Explicit-batch networks take the batch from the calibration profile; the calibrator's batch size must be 1.
  int32_t getBatchSize() const noexcept override { return 1; }
  bool getBatch(void* bindings[], char const* names[], int32_t nb_bindings) noexcept override;
  void const* readCalibrationCache(std::size_t& length) noexcept override;
  void writeCalibrationCache(void const* ptr, std::size_t length) noexcept override;

  const std::string& error() const { return error_; }

 private:
  std::string input_name_;
  std::string cache_path_;
  std::optional<SampleFolder> samples_;
  int64_t samples_per_batch_ = 1;
  size_t next_ = 0;
  std::vector<float> host_;
  void* device_ = nullptr;
  std::string cache_;
  std::string error_;
};
TRTCORE_TRT_ALLOW_DEPRECATED_END

}  // namespace trtcore::tensorrt
#endif
