#include "backends/tensorrt/calibrator.h"

#include <fstream>

#include "runtime/samples.h"
#include "trtcore/io.h"

#if NV_TENSORRT_MAJOR < 11
namespace trtcore::tensorrt {

TRTCORE_TRT_ALLOW_DEPRECATED_BEGIN

static bool file_exists(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

EntropyCalibrator::EntropyCalibrator(const Graph& g, const BuildOptions& opt) : cache_path_(opt.calibration_cache) {
  if (g.inputs.size() != 1)
    fail(ErrorKind::kUnsupported, "tensorrt backend: INT8 calibration feeds one input; the model has ",
         g.inputs.size());
  const Value& in = g.value(g.inputs[0]);
  if (in.dtype != DType::kFloat32)
    fail(ErrorKind::kUnsupported, "tensorrt backend: INT8 calibration needs a float32 input; '", in.name, "' is ",
         dtype_name(in.dtype));
  input_name_ = in.name;
  samples_per_batch_ = in.shape.empty() ? 1 : in.shape[0];
  const Shape sample(in.shape.begin() + (in.shape.empty() ? 0 : 1), in.shape.end());
  const bool have_cache = !cache_path_.empty() && file_exists(cache_path_);
  if (!opt.calibration_dir.empty()) samples_.emplace(opt.calibration_dir, std::vector<SampleInput>{{in.name, sample}});
  const size_t count = samples_ ? samples_->size() : 0;
  if (!have_cache && count == 0)
    fail(ErrorKind::kInvalidArgument, "tensorrt backend: INT8 needs calibration samples (a non-empty --calibration-dir",
         opt.calibration_dir.empty() ? "" : " '" + opt.calibration_dir + "'", ") or an existing calibration cache",
         cache_path_.empty() ? "" : " '" + cache_path_ + "'");
  if (count > 0) {
    host_.resize(samples_->sample_floats(0) * size_t(samples_per_batch_));
    cuda_check(cudaMalloc(&device_, host_.size() * sizeof(float)), "cudaMalloc (calibration batch)");
  }
}

EntropyCalibrator::~EntropyCalibrator() {
  if (device_) static_cast<void>(cudaFree(device_));
}

bool EntropyCalibrator::getBatch(void* bindings[], char const* names[], int32_t nb_bindings) noexcept {
  if (!error_.empty() || !samples_ || next_ >= samples_->size() || nb_bindings != 1) return false;
  try {
    if (input_name_ != names[0])
      fail(ErrorKind::kRuntime, "calibration asked for tensor '", names[0], "', expected '", input_name_, "'");
    // The last, partial batch wraps around to the first files so that every batch is full.
    const size_t floats = samples_->sample_floats(0);
    for (int64_t s = 0; s < samples_per_batch_; ++s)
      samples_->read((next_ + size_t(s)) % samples_->size(), 1, {host_.data() + size_t(s) * floats});
    next_ += size_t(samples_per_batch_);
    cuda_check(cudaMemcpy(device_, host_.data(), host_.size() * sizeof(float), cudaMemcpyHostToDevice),
               "calibration upload");
    bindings[0] = device_;
    return true;
  } catch (const std::exception& e) {
    error_ = e.what();
    return false;
  }
}

void const* EntropyCalibrator::readCalibrationCache(std::size_t& length) noexcept {
  length = 0;
  if (cache_path_.empty() || !file_exists(cache_path_)) return nullptr;
  try {
    cache_ = read_file(cache_path_);
  } catch (const std::exception& e) {
    error_ = e.what();
    return nullptr;
  }
  length = cache_.size();
  return cache_.empty() ? nullptr : cache_.data();
}

void EntropyCalibrator::writeCalibrationCache(void const* ptr, std::size_t length) noexcept {
  if (cache_path_.empty()) return;
  try {
    write_file_atomic(cache_path_, ptr, length);
  } catch (const std::exception& e) {
    error_ = e.what();
  }
}

TRTCORE_TRT_ALLOW_DEPRECATED_END

}  // namespace trtcore::tensorrt
#endif
