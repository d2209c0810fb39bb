// INT8 layer sensitivity (see int8_sensitivity.h).
#include "runtime/int8_sensitivity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "backends/cpu/cpu_kernel.h"
#include "trtcore/error.h"
#include "trtcore/passes.h"

namespace trtcore {
namespace {

// Runs lowered copies of the graph over the same samples and returns their outputs (float32, concatenated).
class SampleRunner {
 public:
  SampleRunner(const Graph& g, const CalibrationData& data, size_t max_samples) : data_(data) {
    batch_ = g.max_batch > 0 ? g.max_batch : 1;
    samples_ = std::min(data.size(), max_samples);
    if (!g.has_batch_axis) samples_ -= samples_ % size_t(batch_);  // a static batch runs whole batches only
    if (samples_ == 0)
      fail(ErrorKind::kInvalidArgument, "--int8-float-layers needs at least ", batch_, " calibration sample(s) to ",
           "score the layers; ", data.size(), " given");
    for (int id : g.inputs) in_buf_.emplace_back(size_t(numel(g.value(id).shape)));
  }
  size_t samples() const { return samples_; }

  // Outputs of `exec` for every sample: one vector per sample.
  std::vector<std::vector<float>> run(Executable& exec, const Graph& g) {
    std::vector<const void*> in_ptr;
    std::vector<float*> in_fill;
    for (auto& b : in_buf_) in_ptr.push_back(b.data()), in_fill.push_back(b.data());
    std::vector<std::vector<float>> out_buf;
    std::vector<void*> out_ptr;
    for (int id : g.outputs) {
      if (g.value(id).dtype != DType::kFloat32)
        fail(ErrorKind::kUnsupported, "--int8-float-layers compares float32 outputs; output '", g.value(id).name,
             "' is ", dtype_name(g.value(id).dtype));
      out_buf.emplace_back(size_t(numel(g.value(id).shape)));
      out_ptr.push_back(out_buf.back().data());
    }
    std::vector<std::vector<float>> per_sample(samples_);
    for (size_t first = 0; first < samples_; first += size_t(batch_)) {
      const size_t count = std::min(size_t(batch_), samples_ - first);
      data_.read(first, count, in_fill);
      exec.infer(int64_t(count), in_ptr, out_ptr);
      for (size_t k = 0; k < out_buf.size(); ++k) {
        const size_t per = out_buf[k].size() / size_t(batch_);
        for (size_t s = 0; s < count; ++s)
          per_sample[first + s].insert(per_sample[first + s].end(), out_buf[k].begin() + long(s * per),
                                       out_buf[k].begin() + long((s + 1) * per));
      }
    }
    return per_sample;
  }

 private:
  const CalibrationData& data_;
  int64_t batch_ = 1;
  size_t samples_ = 0;
  std::vector<std::vector<float>> in_buf_;
};

double mean_relative_l2(const std::vector<std::vector<float>>& y, const std::vector<std::vector<float>>& ref) {
  double sum = 0;
  for (size_t s = 0; s < ref.size(); ++s) {
    double num = 0, den = 0;
    for (size_t i = 0; i < ref[s].size(); ++i) {
      const double d = double(y[s][i]) - double(ref[s][i]);
      num += d * d;
      den += double(ref[s][i]) * double(ref[s][i]);
    }
    sum += den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  }
  return ref.empty() ? 0 : sum / double(ref.size());
}

std::unique_ptr<Executable> build_lowered(Graph g, Backend& backend, const BuildOptions& build,
                                          const SystemOptions& sys, Graph* lowered) {
  PassContext ctx;
  ctx.caps = backend.fusion_caps();
  ctx.disabled = build.disabled_passes;
  ctx.fold = cpu::evaluate_node;
  lower(g, ctx);
  std::unique_ptr<Executable> exec = backend.build(g, build, sys, nullptr);
  *lowered = std::move(g);
  return exec;
}

}  // namespace

std::vector<LayerSensitivity> int8_layer_sensitivity(const Graph& g, const std::map<std::string, float>& scales,
                                                     const Int8Options& base, Backend& backend,
                                                     const BuildOptions& build, const SystemOptions& sys,
                                                     const CalibrationData& data, const SensitivitySettings& settings,
                                                     const ProgressFn& progress) {
  Graph probe = g;
  std::vector<std::string> layers;
  for (const Int8Decision& d : apply_int8_policy(probe, scales, base).decisions)
    if (d.int8) layers.push_back(d.node);
  SampleRunner runner(g, data, settings.max_samples);
  BuildOptions fp32 = build;
  fp32.precision = Precision::kFP32;
  Graph lowered;
  std::vector<std::vector<float>> ref;
  {
    std::unique_ptr<Executable> exec = build_lowered(g, backend, fp32, sys, &lowered);
    ref = runner.run(*exec, lowered);
  }
  std::vector<LayerSensitivity> scores;
  for (size_t i = 0; i < layers.size(); ++i) {
    Graph one = g;
    Int8Options opt = base;
    for (const std::string& other : layers)
      if (other != layers[i]) opt.exclude_layers.push_back(other);
    apply_int8_policy(one, scales, opt);
    LayerSensitivity s;
    s.layer = layers[i];
    for (const Node& n : g.nodes)
      if (n.name == layers[i]) s.op = n.layer_label();
    std::unique_ptr<Executable> exec = build_lowered(std::move(one), backend, build, sys, &lowered);
    s.score = mean_relative_l2(runner.run(*exec, lowered), ref);
    scores.push_back(s);
    if (progress) progress("int8 layer sensitivity", i + 1, layers.size());
  }
  std::stable_sort(scores.begin(), scores.end(),
                   [](const LayerSensitivity& a, const LayerSensitivity& b) { return a.score > b.score; });
  return scores;
}

// Per sample, the index of the largest value of the first output (top-1 of a classifier's logits).
std::vector<size_t> top1_of_first_output(const std::vector<std::vector<float>>& per_sample, const Graph& g) {
  const int64_t batch = g.max_batch > 0 ? g.max_batch : 1;
  const size_t width = size_t(numel(g.value(g.outputs[0]).shape) / batch);
  std::vector<size_t> top;
  for (const std::vector<float>& y : per_sample)
    top.push_back(size_t(std::max_element(y.begin(), y.begin() + long(std::min(width, y.size()))) - y.begin()));
  return top;
}

AutoFloatLayers int8_auto_float_layers(const Graph& g, const std::map<std::string, float>& scales,
                                       const Int8Options& base, const std::vector<LayerSensitivity>& scores,
                                       Backend& backend, const BuildOptions& build, const SystemOptions& sys,
                                       const CalibrationData& data, double target, size_t max_samples,
                                       const ProgressFn& progress) {
  SampleRunner runner(g, data, max_samples);
  BuildOptions fp32 = build;
  fp32.precision = Precision::kFP32;
  Graph lowered;
  std::vector<size_t> ref;
  {
    std::unique_ptr<Executable> exec = build_lowered(g, backend, fp32, sys, &lowered);
    ref = top1_of_first_output(runner.run(*exec, lowered), lowered);
  }
  AutoFloatLayers result;
  result.samples = runner.samples();
  std::map<size_t, double> tried;
  auto agreement = [&](size_t n) {
    auto it = tried.find(n);
    if (it != tried.end()) return it->second;
    Graph one = g;
    Int8Options opt = base;
    for (size_t i = 0; i < n; ++i) opt.sensitive_layers.push_back(scores[i].layer);
    apply_int8_policy(one, scales, opt);
    std::unique_ptr<Executable> exec = build_lowered(std::move(one), backend, build, sys, &lowered);
    const std::vector<size_t> top = top1_of_first_output(runner.run(*exec, lowered), lowered);
    size_t same = 0;
    for (size_t s = 0; s < ref.size(); ++s) same += top[s] == ref[s];
    const double a = ref.empty() ? 1.0 : double(same) / double(ref.size());
    char line[96];
    std::snprintf(line, sizeof line, "  %zu float: top-1 agreement %.4f\n", n, a);
    result.steps += line;
    if (progress) progress("int8 float layers (auto)", tried.size() + 1, tried.size() + 1);
    return tried[n] = a;
  };
  // the smallest count that reaches the target: lo fails (or is -1), hi reaches it (all float always does)
  size_t hi = scores.size();
  if (agreement(0) >= target) hi = 0;
  size_t lo = 0;
  while (hi > lo + 1) {
    const size_t mid = lo + (hi - lo) / 2;
    (agreement(mid) >= target ? hi : lo) = mid;
  }
  result.count = hi;
  result.agreement = agreement(hi);
  return result;
}

std::string format_sensitivity(const std::vector<LayerSensitivity>& scores, const SensitivitySettings& settings,
                               size_t samples) {
  std::string out = "# trtcore int8 layer sensitivity: score = mean over " + std::to_string(samples) +
                    " calibration samples of ||y - y_fp32|| / ||y_fp32|| with only the layer int8; bias_correction=" +
                    settings.bias_correction + "\nrank,score,op,layer\n";
  for (size_t i = 0; i < scores.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%zu,%.9g,", i + 1, scores[i].score);
    out += buf + scores[i].op + "," + scores[i].layer + "\n";
  }
  return out;
}

bool parse_sensitivity(const std::string& text, const std::string& file, const SensitivitySettings& settings,
                       std::vector<LayerSensitivity>* scores) {
  std::vector<LayerSensitivity> read;
  size_t line = 0;
  bool settings_match = false;
  std::istringstream lines(text);
  std::string row;
  while (std::getline(lines, row)) {
    ++line;
    if (line == 1) {
      if (row.rfind("# trtcore int8 layer sensitivity", 0) != 0)
        fail(ErrorKind::kCorrupt, file, ":1: not an INT8 sensitivity file (expected '# trtcore int8 layer sensitivity')");
      settings_match = row.find("bias_correction=" + settings.bias_correction) != std::string::npos;
      continue;
    }
    if (line == 2 || row.empty()) continue;
    const size_t a = row.find(','), b = a == std::string::npos ? a : row.find(',', a + 1);
    const size_t c = b == std::string::npos ? b : row.find(',', b + 1);
    if (c == std::string::npos) fail(ErrorKind::kCorrupt, file, ":", line, ": expected rank,score,op,layer");
    LayerSensitivity s;
    char* after = nullptr;
    const std::string score = row.substr(a + 1, b - a - 1);
    s.score = std::strtod(score.c_str(), &after);
    if (after == score.c_str() || *after != '\0' || !std::isfinite(s.score))
      fail(ErrorKind::kCorrupt, file, ":", line, ": score '", score, "' is not a number");
    s.op = row.substr(b + 1, c - b - 1);
    s.layer = row.substr(c + 1);
    read.push_back(s);
  }
  if (!settings_match) return false;
  *scores = std::move(read);
  return true;
}

std::string sensitivity_table(const std::vector<LayerSensitivity>& scores, size_t kept_float) {
  std::string out;
  for (size_t i = 0; i < scores.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %3zu. %10.6f  ", i + 1, scores[i].score);
    std::string op = scores[i].op;
    op.resize(std::max<size_t>(op.size(), 14), ' ');
    out += buf + op + "  " + scores[i].layer + (i < kept_float ? "  (float)" : "") + "\n";
  }
  return out;
}

}  // namespace trtcore
