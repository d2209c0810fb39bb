// The precision stage of a build (see precision_build.h).
#include "runtime/precision_build.h"

#include <chrono>
#include <set>
#include <ctime>
#include <sstream>
#include <sys/stat.h>

#include "backends/cpu/cpu_kernel.h"
#include "plan/checksum.h"
#include "precision/calibrate/cache.h"
#include "runtime/int8_sensitivity.h"
#include "runtime/npy.h"
#include "runtime/samples.h"
#include "trtcore/error.h"
#include "trtcore/io.h"
#include "trtcore/onnx_import.h"
#include "trtcore/passes.h"

namespace trtcore {
namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// A sample folder as calibration data.
// One calibration sample of an input: the calibrator runs max_batch samples per step, so axis 0 is the sample axis
// for a dynamic batch and for a static one whose axis 0 is that batch.
Shape calibration_sample_shape(const Graph& g, int id) {
  Shape s = g.value(id).shape;
  if (!s.empty() && (g.has_batch_axis || s[0] == g.max_batch)) s.erase(s.begin());
  return s;
}

class FolderData : public CalibrationData {
 public:
  FolderData(const std::string& dir, const Graph& g) : folder_(dir, inputs_of(g)) {
    // said here, naming the folder, rather than as the calibrator's bare "0 samples given"
    if (folder_.size() == 0)
      fail(ErrorKind::kInvalidArgument, "--calibration-dir '", dir, "' holds no sample files (expected raw float32 "
           "files, one sample per file)");
  }
  size_t size() const override { return folder_.size(); }
  void read(size_t first, size_t count, const std::vector<float*>& dst) const override { folder_.read(first, count, dst); }

 private:
  static std::vector<SampleInput> inputs_of(const Graph& g) {
    std::vector<SampleInput> in;
    for (int id : g.inputs) in.push_back({g.value(id).name, calibration_sample_shape(g, id)});
    return in;
  }
  SampleFolder folder_;
};

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Calibration samples from a .npy/.npz file: one array per input (by input name; a single-input model takes the only
// array), batch axis first.
std::shared_ptr<const CalibrationData> data_from_arrays(const std::string& path, const Graph& g) {
  std::map<std::string, NpyArray> arrays = read_arrays(path);
  std::vector<std::vector<float>> per_input;
  std::vector<size_t> sample_floats;
  for (int id : g.inputs) {
    const Value& v = g.value(id);
    auto it = arrays.find(v.name);
    if (it == arrays.end() && g.inputs.size() == 1 && arrays.size() == 1) it = arrays.begin();
    if (it == arrays.end())
      fail(ErrorKind::kInvalidArgument, path, " has no array named '", v.name, "' (the model's input)");
    const Shape sample = calibration_sample_shape(g, id);
    const Shape& got = it->second.shape;
    if (got.size() != sample.size() + 1 || !std::equal(sample.begin(), sample.end(), got.begin() + 1))
      fail(ErrorKind::kInvalidArgument, path, ": ", it->first.empty() ? "its array" : "array '" + it->first + "'",
           " has shape ", shape_str(got), "; input '", v.name, "' takes Nx", shape_str(sample),
           " (samples along the first axis)");
    per_input.push_back(std::move(it->second.data));
    sample_floats.push_back(size_t(numel(sample)));
  }
  return std::make_shared<InMemoryCalibrationData>(std::move(per_input), std::move(sample_floats));
}

// --calibration-dir: a .npy/.npz file, a folder written by `trtcore prepare` (its calibration subset, else all its
// samples), or a folder of raw samples.
std::shared_ptr<const CalibrationData> data_from_path(const std::string& path, const Graph& g) {
  if (!is_directory(path) && (has_suffix(path, ".npy") || has_suffix(path, ".npz"))) return data_from_arrays(path, g);
  std::string dir = path;
  if (file_exists(path_join(path, "manifest.json")))
    for (const char* sub : {"calibration", "data"})
      if (is_directory(path_join(path, sub))) {
        dir = path_join(path, sub);
        break;
      }
  return std::make_shared<FolderData>(dir, g);
}

// Hashes every sample the calibrator reads (each once, in sample order) for the cache's manifest.
class HashingData : public CalibrationData {
 public:
  HashingData(const CalibrationData& inner, const Graph& g) : inner_(inner) {
    for (int id : g.inputs) floats_.push_back(size_t(numel(calibration_sample_shape(g, id))));
  }
  size_t size() const override { return inner_.size(); }
  void read(size_t first, size_t count, const std::vector<float*>& dst) const override {
    inner_.read(first, count, dst);
    for (size_t s = 0; s < count; ++s) {
      if (first + s < sample_hashes_.size()) continue;  // the second pass reads the same samples again
      uint64_t h = 0;
      for (size_t i = 0; i < dst.size(); ++i) {
        const uint64_t part[2] = {h, crc64(dst[i] + s * floats_[i], floats_[i] * sizeof(float))};
        h = crc64(part, sizeof part);
      }
      sample_hashes_.push_back(h);
    }
  }
  std::string hash() const { return hex64(crc64(sample_hashes_.data(), sample_hashes_.size() * sizeof(uint64_t))); }

 private:
  const CalibrationData& inner_;
  std::vector<size_t> floats_;
  mutable std::vector<uint64_t> sample_hashes_;
};

std::string model_hash(const std::string& onnx_path) {
  const std::string bytes = read_file(onnx_path);
  return hex64(crc64(bytes.data(), bytes.size()));
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "'a', 'b', 'c', 'd' and 22 more": a list of names a warning can hold on one line.
std::string few_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 4;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

// TensorRT names the tensors of layers its ONNX parser adds "(Unnamed Layer* 12) [Shuffle]_output"; no ONNX model has
// them, and its caches list them beside the model's own.
bool tensorrt_internal_name(const std::string& name) { return name.rfind("(Unnamed Layer* ", 0) == 0; }

// Cache tensors that neither the ONNX model nor the graph being built has (TensorRT's internal names aside).
std::vector<std::string> unknown_cache_tensors(const calib::CalibrationCache& cache, const ModelOptions& model,
                                               const Graph& g, size_t* internal) {
  std::set<std::string> known;
  for (const Value& v : import_onnx(model).values) known.insert(v.name);
  for (const Value& v : g.values) known.insert(v.name);
  std::vector<std::string> unknown;
  for (const auto& entry : cache.scales) {
    if (tensorrt_internal_name(entry.first)) ++*internal;
    else if (!known.count(entry.first)) unknown.push_back(entry.first);
  }
  return unknown;
}

// The manifest beside a cache we wrote: its options must be this build's, its model this model.
// Returns whether it vouches for the model (a model hash that matches).
bool check_manifest(const std::string& path, const ModelOptions& model, const BuildOptions& build) {
  const std::string manifest_path = path + ".json";
  const std::string equalization = int8_equalization_name(build.int8_equalization);
  if (!file_exists(manifest_path) && build.int8_equalization != Int8Equalization::kOff)
    fail(ErrorKind::kInvalidArgument, "calibration cache '", path, "' has no manifest (", manifest_path,
         ") saying it was calibrated with --int8-equalization ", equalization,
         "; its scales belong to the model as given. Delete it or name another --calibration-cache");
  if (!file_exists(manifest_path)) return false;
  const calib::CacheManifest m = calib::parse_manifest(read_file(manifest_path), manifest_path);
  if (m.equalization != equalization)
    fail(ErrorKind::kInvalidArgument, "calibration cache '", path, "' was calibrated with --int8-equalization ",
         m.equalization, ", this build asks ", equalization,
         " (the scales differ); delete it or name another --calibration-cache");
  const std::string h = model_hash(model.onnx_path);
  if (!m.model_hash.empty() && m.model_hash != h)
    fail(ErrorKind::kInvalidArgument, "calibration cache '", path, "' was computed for another model (hash ",
         m.model_hash, ", '", model.onnx_path, "' has ", h, "); delete it or name another --calibration-cache");
  return !m.model_hash.empty();
}

// Scales read from an existing cache, checked against the model (manifest hash, else the tensor names) and the
// tensors the policy needs. A tensor without a scale leaves the layers reading it float, as TensorRT does with a
// tensor missing from its cache: the plan stays correct, and one warning names those tensors.
std::map<std::string, float> scales_from_cache(const std::string& path, const ModelOptions& model,
                                               const BuildOptions& build, const Graph& g,
                                               const std::vector<std::string>& needed, std::string* log) {
  const calib::CalibrationCache cache = calib::read_cache_file(path);
  const bool vouched = check_manifest(path, model, build);
  std::map<std::string, float> scales;
  for (const auto& [name, scale] : cache.scales) scales[name] = scale;
  std::vector<std::string> absent;
  for (const std::string& n : needed)
    if (!scales.count(n)) absent.push_back(n);
  if (!needed.empty() && absent.size() == needed.size())
    fail(ErrorKind::kInvalidArgument, "calibration cache '", path, "' names none of the model's quantized tensors (",
         needed.size(), " needed, e.g. '", needed[0], "'): it belongs to another model");
  size_t internal = 0;
  const std::vector<std::string> unknown = vouched ? std::vector<std::string>{}
                                                   : unknown_cache_tensors(cache, model, g, &internal);
  if (!log) return scales;
  *log += "calibration: " + std::to_string(cache.scales.size()) + " scales read from " + path + " (" +
          cache.algorithm + ")" +
          (internal ? "; " + plural(internal, "TensorRT-internal tensor", "TensorRT-internal tensors") +
                          " ('(Unnamed Layer* ...') not used"
                    : std::string()) + "\n";
  if (!unknown.empty())
    *log += "warning: calibration cache '" + path + "' names " +
            plural(unknown.size(), "tensor", "tensors") + " that '" + model.onnx_path + "' does not have: " +
            few_names(unknown) + "; their scales are not used (is the cache for another version of the model?)\n";
  if (!absent.empty())
    *log += "warning: calibration cache '" + path + "' has no scale for " + std::to_string(absent.size()) + " of the " +
            plural(needed.size(), "tensor", "tensors") + " INT8 quantizes: " + few_names(absent) +
            "; the layers reading them stay float\n";
  return scales;
}

// The model run in float32 over the calibration samples, unfused: TensorRT's EntropyCalibration2 calibrates before
// fusion, so every tensor of the model gets a threshold (amax; max |x| for the max algorithm).
struct ModelCalibration {
  CalibrationResult result;
  std::string data_hash;
};

ModelCalibration calibrate_model(const ModelOptions& model, const BuildOptions& build, CalibrationAlgorithm algorithm,
                                 const SystemOptions& sys, Backend& backend, std::string* log,
                                 const ProgressFn& progress, const std::vector<std::string>& channel_means = {},
                                 const ChannelRanges& equalization_ranges = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  Graph cg = import_onnx(model);
  PassContext plain;
  plain.caps = FusionCaps{false, false, false, false, false};
  plain.fold = cpu::evaluate_node;
  if (build.precision == Precision::kINT8) plain.int8_equalization = build.int8_equalization;  // as the build's graph
  plain.int8_channel_ranges = &equalization_ranges;
  optimize(cg, plain);
  std::shared_ptr<const CalibrationData> source = build.calibration_data;
  if (!source) source = data_from_path(build.calibration_dir, cg);
  HashingData data(*source, cg);
  CalibrationSettings cs;
  cs.algorithm = algorithm;
  cs.percentile = build.calibration_percentile;
  cs.batch = build.calibration_batch;
  cs.max_batches = build.calibration_batches;
  cs.channel_mean_tensors = channel_means;
  ModelCalibration mc;
  mc.result = calibrate(cg, backend, sys, float_activations(cg), data, cs, progress);
  mc.data_hash = data.hash();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (log) {
    const std::string from = build.calibration_data ? std::string("the given arrays") : build.calibration_dir;
    *log += "calibration: " + std::to_string(mc.result.samples) + " samples from " + from + ", " +
            calibration_algorithm_name(algorithm) + ", " + std::to_string(mc.result.amax.size()) + " tensors in " +
            std::to_string(int(secs + 0.5)) + " s\n";
    for (const std::string& w : mc.result.warnings) *log += "warning: " + w + "\n";
  }
  return mc;
}

// Whether the FP16 rewrite follows the Q/DQ rewrite: asked for, or by default where the backend builds FP16 plans
// (Engine::build refuses FP16 asked of a backend without it; inspect shows the graph on any machine). A backend
// that lowers FP16 itself (TensorRT's FP16 flag) gets the plain Q/DQ graph and applies the fallback on its own.
bool float_layers_in_fp16(const BuildOptions& build, const Backend& backend) {
  if (backend.precision_lowering(Precision::kFP16) != PrecisionLowering::kGraph) return false;
  if (build.int8_fallback == Int8Fallback::kAuto) return backend.supports_precision(Precision::kFP16);
  return build.int8_fallback == Int8Fallback::kFP16;
}

// The cache, its manifest (which records the options that change the scales) and, for bias correction, the
// per-channel input means, each written atomically.
void write_cache(const BuildOptions& build, const ModelOptions& model, const ModelCalibration& mc,
                 const calib::CalibrationCache& cache, const ChannelRanges& equalization_ranges, std::string* log) {
  calib::write_cache_file(build.calibration_cache, cache);
  calib::CacheManifest m;
  m.model_hash = model_hash(model.onnx_path);
  m.data_hash = mc.data_hash;
  m.algorithm = calibration_algorithm_name(build.calibrator);
  m.percentile = build.calibrator == CalibrationAlgorithm::kPercentile ? build.calibration_percentile : 0;
  m.samples = static_cast<long long>(mc.result.samples);
  m.created = utc_now();
  m.equalization = int8_equalization_name(build.int8_equalization);
  m.channel_means = mc.result.channel_mean.empty() ? "off" : "on";
  if (!mc.result.channel_mean.empty())
    write_file_atomic(build.calibration_cache + ".means", calib::format_channel_means(mc.result.channel_mean));
  if (build.int8_equalization == Int8Equalization::kActivations)
    write_file_atomic(build.calibration_cache + ".ranges", calib::format_channel_means(equalization_ranges));
  write_file_atomic(build.calibration_cache + ".json", calib::format_manifest(m));
  if (log) *log += "calibration cache written: " + build.calibration_cache + "\n";
}

// Bias correction's per-channel means beside an existing cache.
calib::ChannelMeans means_from_cache(const std::string& cache) {
  const std::string path = cache + ".means";
  if (!file_exists(path))
    fail(ErrorKind::kInvalidArgument, "--int8-bias-correction on needs the per-channel means of the calibration "
         "samples, and calibration cache '", cache, "' was made without them (no ", path,
         "); delete the cache to calibrate again, or name another --calibration-cache");
  return calib::parse_channel_means(read_file(path), path);
}

std::shared_ptr<const CalibrationData> samples_for(const BuildOptions& build, const Graph& g, const std::string& why) {
  if (build.calibration_dir.empty() && !build.calibration_data)
    fail(ErrorKind::kInvalidArgument, "--int8-float-layers needs calibration samples (--calibration-dir) to ", why);
  return build.calibration_data ? build.calibration_data : data_from_path(build.calibration_dir, g);
}

// --int8-float-layers auto: the count kept beside the cache (<cache>.float_layers, its first line naming the target
// and options it was measured with), else measured by bisection and written there.
size_t auto_float_layer_count(const Graph& g, const BuildOptions& build, const SystemOptions& sys, Backend& backend,
                              const std::map<std::string, float>& scales, const Int8Options& opt,
                              const std::vector<LayerSensitivity>& scores, bool reuse, std::string* log,
                              const ProgressFn& progress) {
  constexpr size_t kAgreementSamples = 256;  // the calibration samples each count's plan runs (the first ones)
  char head[160];
  std::snprintf(head, sizeof head, "# trtcore int8 float layers: target top-1 agreement %.6g; bias_correction=%s",
                build.int8_target_agreement, int8_bias_correction_name(build.int8_bias_correction));
  const std::string path = build.calibration_cache.empty() ? "" : build.calibration_cache + ".float_layers";
  if (reuse && file_exists(path)) {
    std::istringstream lines(read_file(path));
    std::string first, count;
    std::getline(lines, first);
    std::getline(lines, count);
    char* end = nullptr;
    const unsigned long long n = std::strtoull(count.c_str(), &end, 10);
    if (first == head && !count.empty() && *end == '\0' && n <= scores.size()) {
      if (log) *log += "int8 float layers (auto): " + std::to_string(n) + " read from " + path + "\n";
      return size_t(n);
    }
  }
  std::shared_ptr<const CalibrationData> data = samples_for(build, g, "measure the top-1 agreement of each count");
  const AutoFloatLayers a = int8_auto_float_layers(g, scales, opt, scores, backend, build, sys, *data,
                                                   build.int8_target_agreement, kAgreementSamples, progress);
  if (log) {
    char line[200];
    std::snprintf(line, sizeof line, "int8 float layers (auto): %zu of %zu layers float, top-1 agreement with FP32 "
                  "%.4f on %zu calibration samples (target %.4g); counts tried:\n", a.count, scores.size(),
                  a.agreement, a.samples, build.int8_target_agreement);
    *log += line + a.steps;
  }
  if (!path.empty()) {
    write_file_atomic(path, std::string(head) + "\n" + std::to_string(a.count) + "\n");
    if (log) *log += "int8 float layers written: " + path + "\n";
  }
  return a.count;
}

// --int8-float-layers N|auto: scores every layer INT8 would quantize (or reads the scores kept beside the cache), and
// adds the N most sensitive (auto: as many as reach --int8-target-agreement) to the layers left float.
void keep_sensitive_layers_float(const Graph& g, const ModelOptions& model, const BuildOptions& build,
                                 const SystemOptions& sys, Backend& backend, const std::map<std::string, float>& scales,
                                 bool from_cache, Int8Options& opt, std::string* log, const ProgressFn& progress) {
  SensitivitySettings ss;
  ss.bias_correction = int8_bias_correction_name(build.int8_bias_correction);
  const std::string path = build.calibration_cache.empty() ? "" : build.calibration_cache + ".sensitivity";
  std::vector<LayerSensitivity> scores;
  Graph probe = g;
  std::vector<std::string> layers;
  for (const Int8Decision& d : apply_int8_policy(probe, scales, opt).decisions)
    if (d.int8) layers.push_back(d.node);
  bool have = false;
  if (from_cache && file_exists(path) && parse_sensitivity(read_file(path), path, ss, &scores)) {
    have = scores.size() == layers.size();
    for (const LayerSensitivity& s : scores)
      have = have && std::find(layers.begin(), layers.end(), s.layer) != layers.end();
    if (have && log) *log += "int8 sensitivity: scores read from " + path + "\n";
  }
  if (!have) {
    std::shared_ptr<const CalibrationData> data = samples_for(
        build, g, "score the layers" + (path.empty() ? std::string() : ", or scores for these layers in " + path));
    scores = int8_layer_sensitivity(g, scales, opt, backend, build, sys, *data, ss, progress);
    if (!path.empty()) {
      write_file_atomic(path, format_sensitivity(scores, ss, std::min(data->size(), ss.max_samples)));
      if (log) *log += "int8 sensitivity written: " + path + "\n";
    }
  }
  const bool automatic = build.int8_float_layers_choice == Int8FloatLayers::kAuto;
  const size_t n = automatic ? auto_float_layer_count(g, build, sys, backend, scales, opt, scores, have, log, progress)
                             : size_t(build.int8_float_layers);
  if (n > scores.size())
    fail(ErrorKind::kInvalidArgument, "--int8-float-layers ", n, " asks for more layers than '", model.onnx_path,
         "' quantizes (", plural(scores.size(), "layer", "layers"), ")");
  if (log)
    *log += "int8 sensitivity (output rel L2 vs FP32 with only the layer int8; the " +
            plural(n, "most sensitive layer stays", "most sensitive layers stay") + " float):\n" +
            sensitivity_table(scores, n);
  for (size_t i = 0; i < n; ++i) opt.sensitive_layers.push_back(scores[i].layer);
}

}  // namespace

void check_calibration_cache_writable(const BuildOptions& build) {
  if (!build.calibration_cache.empty() && !file_exists(build.calibration_cache))
    check_writable_file(build.calibration_cache, "the calibration cache");
}

ChannelRanges int8_equalization_ranges(const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                                       Backend& backend, std::string* log, const ProgressFn& progress) {
  if (build.precision != Precision::kINT8 || build.int8_equalization != Int8Equalization::kActivations) return {};
  if (file_exists(build.calibration_cache)) {
    const std::string path = build.calibration_cache + ".ranges";
    if (!file_exists(path))
      fail(ErrorKind::kInvalidArgument, "--int8-equalization activations needs the per-channel ranges of the ",
           "calibration samples, and calibration cache '", build.calibration_cache, "' was made without them (no ",
           path, "); delete the cache to calibrate again, or name another --calibration-cache");
    if (log) *log += "int8 equalization: channel ranges read from " + path + "\n";
    return calib::parse_channel_means(read_file(path), path);
  }
  if (build.calibration_dir.empty() && !build.calibration_data)
    fail(ErrorKind::kInvalidArgument, "--int8-equalization activations needs --calibration-dir (samples whose ",
         "per-channel ranges it balances)");
  Graph g = import_onnx(model);
  PassContext plain;  // the graph as equalize_int8 sees it: the passes before it do not depend on fusion caps
  plain.caps = FusionCaps{false, false, false, false, false};
  plain.disabled = build.disabled_passes;
  plain.fold = cpu::evaluate_node;
  optimize(g, plain);
  std::shared_ptr<const CalibrationData> source = build.calibration_data;
  if (!source) source = data_from_path(build.calibration_dir, g);
  CalibrationSettings cs;
  cs.algorithm = CalibrationAlgorithm::kMax;
  cs.batch = build.calibration_batch;
  cs.max_batches = build.calibration_batches;
  cs.channel_max_tensors = int8_equalization_tensors(g);
  if (cs.channel_max_tensors.empty()) return {};
  ChannelRanges ranges = calibrate(g, backend, sys, cs.channel_max_tensors, *source, cs, progress).channel_max;
  if (log) *log += "int8 equalization: channel ranges of " + std::to_string(ranges.size()) + " tensors measured\n";
  return ranges;
}

Int8Report apply_int8(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                      Backend& backend, std::string* log, const ProgressFn& progress,
                      const ChannelRanges& equalization_ranges) {
  const bool fp16 = float_layers_in_fp16(build, backend);
  const bool bias_correction = build.int8_bias_correction == Int8BiasCorrection::kOn;
  const std::vector<std::string> needed = int8_observed_tensors(g);
  std::map<std::string, float> scales, ranges;  // ranges: max |x| per tensor, for the FP16 range guard
  calib::ChannelMeans means;
  const bool from_cache = file_exists(build.calibration_cache);
  if (from_cache) {
    scales = scales_from_cache(build.calibration_cache, model, build, g, needed, log);
    for (const auto& [name, scale] : scales) ranges[name] = scale * 127.f;
    if (bias_correction) means = means_from_cache(build.calibration_cache);
  } else {
    if (build.calibration_dir.empty() && !build.calibration_data)
      fail(ErrorKind::kInvalidArgument, "--int8 needs --calibration-dir (samples to calibrate on)",
           build.calibration_cache.empty() ? "" : " or an existing --calibration-cache; '" + build.calibration_cache +
                                                       "' does not exist yet");
    const ModelCalibration mc = calibrate_model(model, build, build.calibrator, sys, backend, log, progress,
                                                bias_correction ? needed : std::vector<std::string>{},
                                                equalization_ranges);
    ranges = mc.result.amax;
    means = mc.result.channel_mean;
    calib::CalibrationCache cache;
    cache.algorithm = calib::cache_algorithm_name(build.calibrator);
    for (const auto& [name, amax] : mc.result.amax) {
      scales[name] = calib::scale_from_amax(amax);
      cache.scales.emplace_back(name, scales[name]);
    }
    if (!build.calibration_cache.empty()) write_cache(build, model, mc, cache, equalization_ranges, log);
  }
  Int8Options opt;
  opt.exclude_layers = build.exclude_layers;
  if (bias_correction) opt.channel_means = &means;
  for (const std::string& name : build.exclude_layers) {
    bool found = false;
    for (const Node& n : g.nodes) found = found || n.name == name;
    if (!found) fail(ErrorKind::kInvalidArgument, "--exclude-layers names '", name, "', which is no layer of the model");
  }
  if (build.int8_float_layers > 0 || build.int8_float_layers_choice == Int8FloatLayers::kAuto)
    keep_sensitive_layers_float(g, model, build, sys, backend, scales, from_cache, opt, log, progress);
  Int8Report report = apply_int8_policy(g, scales, opt);
  if (log) {
    *log += "precision: " + std::to_string(report.int8_layers) + " int8 layers, " + std::to_string(report.qdq_pairs) +
            " quantize/dequantize pairs" +
            (report.int8_max_pools ? ", " + std::to_string(report.int8_max_pools) + " max pools on int8" : "") +
            (bias_correction ? ", " + std::to_string(report.bias_corrected) + " biases corrected" : "") + "\n";
    for (const Int8Decision& d : report.decisions)
      if (!d.int8 && !(from_cache && d.cause == Int8FloatCause::kNoScale))  // the cache's warning named them
        *log += "precision: " + d.node + " stays float: " + d.reason + "\n";
  }
  if (fp16) {  // TensorRT's habit: what INT8 leaves in float, and the math between DequantizeLinear and Q, in FP16
    const Fp16Report r = apply_fp16_policy(g, IoPrecision::kFloat32, ranges);
    if (log) {
      *log += "precision: float layers in fp16 (--int8-fallback fp32 keeps them fp32): " +
              std::to_string(r.fp16_nodes) + " fp16 nodes, " + std::to_string(r.casts_inserted) + " casts inserted\n";
      for (const Fp16Decision& d : r.decisions)
        if (d.range_guard) *log += "precision: " + d.node + " stays float32: " + d.reason + "\n";
    }
  }
  return report;
}

Fp16Report apply_fp16(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                      Backend& backend, std::string* log, const ProgressFn& progress) {
  // With samples at hand, tensors whose values leave float16's range keep their layers in float32 (a range guard
  // TensorRT does not have: random-weight and some trained nets overflow to Inf/NaN in FP16 otherwise).
  std::map<std::string, float> ranges;
  if (!build.calibration_dir.empty() || build.calibration_data)
    ranges = calibrate_model(model, build, CalibrationAlgorithm::kMax, sys, backend, log, progress).result.amax;
  const Fp16Report r = apply_fp16_policy(g, build.io_half ? IoPrecision::kFloat16 : IoPrecision::kFloat32, ranges);
  if (log) {
    *log += "precision: " + std::to_string(r.fp16_nodes) + " fp16 nodes, " + std::to_string(r.casts_inserted) +
            " casts inserted\n";
    for (const Fp16Decision& d : r.decisions)
      if (d.range_guard) *log += "precision: " + d.node + " stays float32: " + d.reason + "\n";
  }
  return r;
}

void apply_precision(Graph& g, const ModelOptions& model, const BuildOptions& build, const SystemOptions& sys,
                     Backend& backend, std::string* log, const ProgressFn& progress,
                     const ChannelRanges& equalization_ranges) {
  if (build.precision == Precision::kFP16) apply_fp16(g, model, build, sys, backend, log, progress);
  if (build.precision == Precision::kINT8)
    apply_int8(g, model, build, sys, backend, log, progress, equalization_ranges);
}

}  // namespace trtcore
