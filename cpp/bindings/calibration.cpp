// Python access to the calibration statistics and the TensorRT cache format (thin: logic is in precision/calibrate).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "precision/calibrate/cache.h"
#include "precision/calibrate/stats.h"

namespace py = pybind11;
using trtcore::calib::Algorithm;
using trtcore::calib::AlgorithmSettings;
using trtcore::calib::CacheManifest;
using trtcore::calib::CalibrationCache;
using trtcore::calib::TensorStats;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Both passes over the arrays in the given order, as the calibrator runs them over the sample files.
TensorStats gather(const std::vector<FloatArray>& arrays, int bins) {
  TensorStats s(bins);
  for (const FloatArray& a : arrays) s.observe_range(a.data(), size_t(a.size()));
  s.begin_histogram();
  for (const FloatArray& a : arrays) s.observe_histogram(a.data(), size_t(a.size()));
  return s;
}

AlgorithmSettings settings(const std::string& algorithm, double percentile, int bins) {
  AlgorithmSettings st;
  st.algorithm = trtcore::calib::algorithm_from_name(algorithm);
  st.percentile = percentile;
  st.bins = bins;
  return st;
}

py::dict cache_dict(const CalibrationCache& c) {
  py::dict scales;
  for (const auto& [name, scale] : c.scales) scales[py::str(name)] = scale;
  py::dict d;
  d["version"] = c.version;
  d["algorithm"] = c.algorithm;
  d["scales"] = scales;
  return d;
}

CalibrationCache cache_from(const py::dict& scales, const std::string& algorithm, const std::string& version) {
  CalibrationCache c;
  c.algorithm = algorithm;
  c.version = version;
  for (const auto& item : scales) c.scales.emplace_back(item.first.cast<std::string>(), item.second.cast<float>());
  return c;
}

}  // namespace

void bind_calibration(py::module_& m) {
  m.def(
      "calibration_amax",
      [](const std::vector<FloatArray>& arrays, const std::string& algorithm, double percentile, int bins) {
        return trtcore::calib::compute_amax(gather(arrays, bins), settings(algorithm, percentile, bins));
      },
      py::arg("arrays"), py::arg("algorithm") = "entropy", py::arg("percentile") = 99.99, py::arg("bins") = 2048,
      "The calibrated |x| threshold of the arrays taken together (two passes, so independent of their order).");
  m.def(
      "calibration_stats",
      [](const std::vector<FloatArray>& arrays, int bins) {
        const TensorStats s = gather(arrays, bins);
        py::dict d;
        d["max_abs"] = s.max_abs();
        d["nonfinite"] = s.nonfinite();
        d["bin_width"] = s.bin_width();
        d["histogram"] = py::array_t<uint64_t>(py::ssize_t(s.histogram().size()), s.histogram().data());
        return d;
      },
      py::arg("arrays"), py::arg("bins") = 2048);
  m.def(
      "calibration_amax_from_histogram",
      [](py::array_t<uint64_t, py::array::c_style | py::array::forcecast> hist, float max_abs,
         const std::string& algorithm, double percentile) {
        std::vector<uint64_t> h(hist.data(), hist.data() + hist.size());
        const int bins = int(h.size());
        const TensorStats s = TensorStats::from_histogram(std::move(h), max_abs);
        return trtcore::calib::compute_amax(s, settings(algorithm, percentile, bins));
      },
      py::arg("histogram"), py::arg("max_abs"), py::arg("algorithm") = "entropy", py::arg("percentile") = 99.99);
  m.def(
      "calibration_per_channel_amax",
      [](const FloatArray& w) {
        const int64_t channels = w.ndim() > 0 ? int64_t(w.shape(0)) : 1;
        const int64_t per = channels > 0 ? int64_t(w.size()) / channels : 0;
        return trtcore::calib::per_channel_amax(w.data(), channels, per);
      },
      py::arg("weights"), "max |w| per slice along axis 0 (the output channels).");
  m.def("calibration_scale_from_amax", &trtcore::calib::scale_from_amax, py::arg("amax"));
  m.def(
      "format_calibration_cache",
      [](const py::dict& scales, const std::string& algorithm, const std::string& version) {
        return trtcore::calib::format_cache(cache_from(scales, algorithm, version));
      },
      py::arg("scales"), py::arg("algorithm") = "EntropyCalibration2", py::arg("version") = "100300");
  m.def(
      "parse_calibration_cache",
      [](const std::string& text, const std::string& file) {
        return cache_dict(trtcore::calib::parse_cache(text, file));
      },
      py::arg("text"), py::arg("file") = "<string>");
  m.def(
      "write_calibration_cache",
      [](const std::string& path, const py::dict& scales, const std::string& algorithm, const std::string& version) {
        trtcore::calib::write_cache_file(path, cache_from(scales, algorithm, version));
      },
      py::arg("path"), py::arg("scales"), py::arg("algorithm") = "EntropyCalibration2", py::arg("version") = "100300");
  m.def(
      "read_calibration_cache",
      [](const std::string& path) { return cache_dict(trtcore::calib::read_cache_file(path)); }, py::arg("path"));
  m.def(
      "format_calibration_manifest",
      [](const std::string& model_hash, const std::string& data_hash, const std::string& algorithm, double percentile,
         long long samples, const std::string& created) {
        const CacheManifest mf{model_hash, data_hash, algorithm, percentile, samples, created};
        return trtcore::calib::format_manifest(mf);
      },
      py::arg("model_hash"), py::arg("data_hash"), py::arg("algorithm"), py::arg("percentile"), py::arg("samples"),
      py::arg("created"));
  m.def(
      "parse_calibration_manifest",
      [](const std::string& text, const std::string& file) {
        const CacheManifest mf = trtcore::calib::parse_manifest(text, file);
        py::dict d;
        d["model_hash"] = mf.model_hash;
        d["data_hash"] = mf.data_hash;
        d["algorithm"] = mf.algorithm;
        d["percentile"] = mf.percentile;
        d["samples"] = mf.samples;
        d["created"] = mf.created;
        return d;
      },
      py::arg("text"), py::arg("file") = "<string>");
}
