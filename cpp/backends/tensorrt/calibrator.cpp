#include "backends/tensorrt/calibrator.h"

#include <algorithm>
#include <fstream>

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
  sample_bytes_ = size_t(numel(in.shape) / samples_per_batch_) * sizeof(float);
  const bool have_cache = !cache_path_.empty() && file_exists(cache_path_);
  if (!opt.calibration_dir.empty()) files_ = list_directory(opt.calibration_dir);
  if (!have_cache && files_.empty())
    fail(ErrorKind::kInvalidArgument, "tensorrt backend: INT8 needs calibration samples (a non-empty --calibration-dir",
         opt.calibration_dir.empty() ? "" : " '" + opt.calibration_dir + "'", ") or an existing calibration cache",
         cache_path_.empty() ? "" : " '" + cache_path_ + "'");
  if (!files_.empty()) {
    host_.resize(sample_bytes_ * size_t(samples_per_batch_));
    cuda_check(cudaMalloc(&device_, host_.size()), "cudaMalloc (calibration batch)");
  }
}

EntropyCalibrator::~EntropyCalibrator() {
  if (device_) static_cast<void>(cudaFree(device_));
}

bool EntropyCalibrator::getBatch(void* bindings[], char const* names[], int32_t nb_bindings) noexcept {
  if (!error_.empty() || next_ >= files_.size() || nb_bindings != 1) return false;
  try {
    if (input_name_ != names[0])
      fail(ErrorKind::kRuntime, "calibration asked for tensor '", names[0], "', expected '", input_name_, "'");
    // The last, partial batch wraps around to the first files so that every batch is full.
    for (int64_t s = 0; s < samples_per_batch_; ++s) {
      const std::string path = files_[(next_ + size_t(s)) % files_.size()];
      const std::string bytes = read_file(path);
      if (bytes.size() != sample_bytes_)
        fail(ErrorKind::kInvalidArgument, path, ": calibration sample has ", bytes.size(), " bytes; input '",
             input_name_, "' needs ", sample_bytes_, " (float32, one sample)");
      std::copy(bytes.begin(), bytes.end(), host_.begin() + std::ptrdiff_t(sample_bytes_ * size_t(s)));
    }
    next_ += size_t(samples_per_batch_);
    cuda_check(cudaMemcpy(device_, host_.data(), host_.size(), cudaMemcpyHostToDevice), "calibration upload");
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
