// INT8 calibration driver (see calibrator.h).
#include "precision/calibrator.h"

#include <algorithm>
#include <cmath>

#include "precision/calibrate/stats.h"
#include "trtcore/error.h"

namespace trtcore {
namespace {

// Shapes at a run's batch, inferred once per distinct batch (at most two: the full one and the last).
class ShapesAt {
 public:
  explicit ShapesAt(const Graph& g) : g_(g) {}
  const std::vector<Shape>& operator()(int64_t batch) {
    auto it = cache_.find(batch);
    if (it == cache_.end()) it = cache_.emplace(batch, shapes_for_batch(g_, batch)).first;
    return it->second;
  }

 private:
  const Graph& g_;
  std::map<int64_t, std::vector<Shape>> cache_;
};

// Adds each channel's (axis 1) sum of `x` (shape `s`) to `sums`, and the values per channel to `count`.
void add_channel_sums(const float* x, const Shape& s, std::vector<double>& sums, double& count) {
  const int64_t outer = s[0], channels = s[1], inner = numel(s) / std::max<int64_t>(1, outer * channels);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const float* p = x + (o * channels + c) * inner;
      double acc = 0;
      for (int64_t i = 0; i < inner; ++i) acc += std::isfinite(p[i]) ? p[i] : 0.f;
      sums[size_t(c)] += acc;
    }
  count += double(outer * inner);
}

// Raises each channel's (axis 1) entry of `maxima` to the largest finite |x| of that channel in `x` (shape `s`).
void add_channel_max(const float* x, const Shape& s, std::vector<float>& maxima) {
  const int64_t outer = s[0], channels = s[1], inner = numel(s) / std::max<int64_t>(1, outer * channels);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c) {
      const float* p = x + (o * channels + c) * inner;
      float m = maxima[size_t(c)];
      for (int64_t i = 0; i < inner; ++i)
        if (std::isfinite(p[i])) m = std::max(m, std::fabs(p[i]));
      maxima[size_t(c)] = m;
    }
}

}  // namespace

InMemoryCalibrationData::InMemoryCalibrationData(std::vector<std::vector<float>> per_input,
                                                 std::vector<size_t> sample_floats)
    : data_(std::move(per_input)), sample_floats_(std::move(sample_floats)) {
  if (data_.size() != sample_floats_.size() || data_.empty())
    fail(ErrorKind::kInvalidArgument, "calibration data: one array per model input expected");
  for (size_t i = 0; i < data_.size(); ++i) {
    if (sample_floats_[i] == 0 || data_[i].size() % sample_floats_[i] != 0)
      fail(ErrorKind::kInvalidArgument, "calibration data for input ", i, " holds ", data_[i].size(),
           " values, not a whole number of samples of ", sample_floats_[i]);
    const size_t n = data_[i].size() / sample_floats_[i];
    if (i > 0 && n != samples_)
      fail(ErrorKind::kInvalidArgument, "calibration data: input ", i, " has ", n, " samples, input 0 has ", samples_);
    samples_ = n;
  }
}

void InMemoryCalibrationData::read(size_t first, size_t count, const std::vector<float*>& dst) const {
  if (first + count > samples_ || dst.size() != data_.size())
    fail(ErrorKind::kInvalidArgument, "calibration data: samples ", first, "..", first + count, " of ", samples_);
  for (size_t i = 0; i < data_.size(); ++i)
    std::copy(data_[i].begin() + long(first * sample_floats_[i]), data_[i].begin() + long((first + count) * sample_floats_[i]),
              dst[i]);
}

std::vector<std::string> float_activations(const Graph& g) {
  std::vector<std::string> names;
  for (const Value& v : g.values)
    if (!v.is_constant() && v.dtype == DType::kFloat32 && !v.shape.empty()) names.push_back(v.name);
  // values no node reads or writes (left behind by passes) cannot be observed
  std::vector<char> used(g.values.size(), 0);
  for (int i : g.inputs) used[size_t(i)] = 1;
  for (const Node& n : g.nodes)
    for (int o : n.outputs)
      if (o >= 0) used[size_t(o)] = 1;
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const int id = g.find_value(name);
    if (id >= 0 && used[size_t(id)]) out.push_back(name);
  }
  return out;
}

CalibrationResult calibrate(const Graph& graph, Backend& backend, const SystemOptions& sys,
                            const std::vector<std::string>& tensors, const CalibrationData& data,
                            const CalibrationSettings& settings, const ProgressFn& progress) {
  Graph g = graph;
  std::vector<int> observed;
  std::vector<std::string> missing;
  for (const std::string& name : tensors) {
    const int id = g.find_value(name);
    if (id < 0) {
      missing.push_back(name);
      continue;
    }
    observed.push_back(id);
    if (std::find(g.outputs.begin(), g.outputs.end(), id) == g.outputs.end()) g.outputs.push_back(id);
  }
  if (!missing.empty()) fail(ErrorKind::kInvalidArgument, "calibration: the graph has no tensor '", missing[0], "'");
  for (int in : g.inputs)
    if (g.value(in).dtype != DType::kFloat32)
      fail(ErrorKind::kUnsupported, "calibration feeds float32 samples; input '", g.value(in).name, "' is ",
           dtype_name(g.value(in).dtype));

  BuildOptions fp32;
  fp32.precision = Precision::kFP32;
  fp32.fp32_math = Fp32Math::kStrict;
  std::unique_ptr<Executable> exec = backend.build(g, fp32, sys, nullptr);

  // a static batch runs whole batches only; a dynamic one any batch up to its maximum
  constexpr int64_t kDefaultBatch = 8;
  const int64_t asked = settings.batch > 0 ? settings.batch : kDefaultBatch;
  const int64_t batch = g.has_batch_axis ? std::max<int64_t>(1, std::min(asked, g.max_batch)) : g.max_batch;
  CalibrationResult result;
  // an explicit batch the plan cannot run is clamped, and the build says so (it sets how many samples
  // --calibration-batches N reads)
  if (settings.batch > 0 && settings.batch != batch)
    result.warnings.push_back(
        "--calibration-batch " + std::to_string(settings.batch) +
        (g.has_batch_axis ? " is more than the plan's batch " + std::to_string(batch)
                          : " differs from the model's fixed batch " + std::to_string(batch)) +
        ": calibrating " + std::to_string(batch) + " samples per run");
  size_t usable = data.size();
  if (!g.has_batch_axis) usable -= usable % size_t(batch);
  if (settings.max_batches > 0) usable = std::min(usable, size_t(settings.max_batches * batch));
  if (usable == 0)
    fail(ErrorKind::kInvalidArgument, "calibration needs at least ", batch, " sample(s); ", data.size(), " given");
  result.samples = usable;
  if (usable < data.size())
    result.warnings.push_back("calibration used " + std::to_string(usable) + " of " + std::to_string(data.size()) +
                              " samples");

  std::vector<std::vector<float>> in_buf;
  std::vector<float*> in_ptr;
  std::vector<const void*> in_const;
  for (int id : g.inputs) {
    in_buf.emplace_back(size_t(numel(g.value(id).shape)));
    in_ptr.push_back(in_buf.back().data());
    in_const.push_back(in_buf.back().data());
  }
  std::vector<std::vector<uint8_t>> out_buf;
  std::vector<void*> out_ptr;
  for (int id : g.outputs) {
    out_buf.emplace_back(size_t(numel(g.value(id).shape)) * dtype_size(g.value(id).dtype));
    out_ptr.push_back(out_buf.back().data());
  }
  std::map<int, size_t> out_slot;
  for (size_t k = 0; k < g.outputs.size(); ++k) out_slot.emplace(g.outputs[k], k);

  std::vector<calib::TensorStats> stats(observed.size(), calib::TensorStats(2048));
  // per-channel sums (axis 1, in double: many samples) of the tensors bias correction reads
  std::vector<std::vector<double>> channel_sum(observed.size());
  std::vector<double> channel_count(observed.size(), 0.0);
  std::vector<std::vector<float>> channel_max(observed.size());  // per-channel max |x| (equalization)
  for (size_t k = 0; k < observed.size(); ++k) {
    const std::string& name = g.value(observed[k]).name;
    const Shape& s = g.value(observed[k]).shape;
    const auto& want = settings.channel_mean_tensors;
    if (s.size() >= 2 && std::find(want.begin(), want.end(), name) != want.end()) channel_sum[k].assign(size_t(s[1]), 0.0);
    const auto& want_max = settings.channel_max_tensors;
    if (s.size() >= 2 && std::find(want_max.begin(), want_max.end(), name) != want_max.end())
      channel_max[k].assign(size_t(s[1]), 0.f);
  }
  const size_t steps = (usable + size_t(batch) - 1) / size_t(batch);
  ShapesAt shapes_at(g);
  // max needs the ranges alone; the other algorithms a histogram over them
  const int passes = settings.algorithm == CalibrationAlgorithm::kMax ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    const std::string what = passes == 1 ? "calibration (ranges)"
                             : pass == 0 ? "calibration pass 1/2 (ranges)"
                                         : "calibration pass 2/2 (histograms)";
    if (pass == 1)
      for (calib::TensorStats& s : stats) s.begin_histogram();
    for (size_t step = 0; step < steps; ++step) {
      const size_t first = step * size_t(batch), count = std::min(size_t(batch), usable - first);
      data.read(first, count, in_ptr);
      exec->infer(int64_t(count), in_const, out_ptr);
      const std::vector<Shape>& shapes = shapes_at(int64_t(count));
      for (size_t k = 0; k < observed.size(); ++k) {
        const float* p = reinterpret_cast<const float*>(out_buf[out_slot.at(observed[k])].data());
        const size_t n = size_t(numel(shapes[size_t(observed[k])]));
        if (pass == 0) stats[k].observe_range(p, n);
        else stats[k].observe_histogram(p, n);
        if (pass == 0 && !channel_sum[k].empty()) add_channel_sums(p, shapes[size_t(observed[k])], channel_sum[k],
                                                                  channel_count[k]);
        if (pass == 0 && !channel_max[k].empty()) add_channel_max(p, shapes[size_t(observed[k])], channel_max[k]);
      }
      if (progress) progress(what, first + count, usable);
    }
  }
  calib::AlgorithmSettings as;
  as.algorithm = settings.algorithm;
  as.percentile = settings.percentile;
  calib::AlgorithmSettings full_range = as;
  full_range.algorithm = CalibrationAlgorithm::kMax;
  for (size_t k = 0; k < observed.size(); ++k) {
    const std::string& name = g.value(observed[k]).name;
    // A graph input keeps its whole range: its values are the data itself, and a spike of one common value (an
    // image's uniform background) would otherwise pull entropy's threshold onto it and clip everything brighter.
    const bool input = std::find(g.inputs.begin(), g.inputs.end(), observed[k]) != g.inputs.end();
    if (!channel_sum[k].empty() && channel_count[k] > 0) {
      std::vector<float>& mean = result.channel_mean[name];
      for (double sum : channel_sum[k]) mean.push_back(float(sum / channel_count[k]));
    }
    if (!channel_max[k].empty()) result.channel_max[name] = channel_max[k];
    result.amax[name] = calib::compute_amax(stats[k], input ? full_range : as);
    if (stats[k].nonfinite() > 0)
      result.warnings.push_back("tensor '" + name + "' held " + std::to_string(stats[k].nonfinite()) +
                                " NaN/Inf value(s) during calibration");
  }
  return result;
}

}  // namespace trtcore
