// |x| histograms of calibration activations and the max / percentile / MSE thresholds over them (entropy.cpp holds
// the KL search).
#include "precision/calibrate/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "trtcore/error.h"

namespace trtcore::calib {

TensorStats::TensorStats(int bins) : bins_(bins) {
  TRTCORE_CHECK(bins >= 1, ErrorKind::kInvalidArgument, "calibration histogram needs at least 1 bin, got ", bins);
}

TensorStats TensorStats::from_histogram(std::vector<uint64_t> hist, float max_abs) {
  TRTCORE_CHECK(!hist.empty(), ErrorKind::kInvalidArgument, "calibration histogram has no bins");
  TRTCORE_CHECK(std::isfinite(max_abs) && max_abs >= 0, ErrorKind::kInvalidArgument,
                "calibration histogram range must be a finite value >= 0, got ", max_abs);
  TensorStats s(int(hist.size()));
  s.max_abs_ = max_abs;
  s.hist_ = std::move(hist);
  s.inv_width_ = max_abs > 0 ? double(s.bins_) / double(max_abs) : 0.0;
  return s;
}

void TensorStats::observe_range(const float* x, size_t n) {
  TRTCORE_CHECK(hist_.empty(), ErrorKind::kInvalidArgument,
                "calibration statistics: observe_range called after begin_histogram");
  float m = max_abs_;
  uint64_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (!std::isfinite(a)) {
      ++bad;
      continue;
    }
    m = std::max(m, a);
  }
  max_abs_ = m;
  nonfinite_ += bad;
}

void TensorStats::begin_histogram() {
  hist_.assign(size_t(bins_), 0);
  inv_width_ = max_abs_ > 0 ? double(bins_) / double(max_abs_) : 0.0;
}

void TensorStats::observe_histogram(const float* x, size_t n) {
  TRTCORE_CHECK(hist_.size() == size_t(bins_), ErrorKind::kInvalidArgument,
                "calibration statistics: observe_histogram called before begin_histogram");
  const size_t last = size_t(bins_) - 1;
  const double width = bin_width();
  uint64_t* h = hist_.data();
  for (size_t i = 0; i < n; ++i) {
    const double a = std::fabs(x[i]);
    if (!std::isfinite(a)) continue;
    // A value past pass 1's maximum (a backend that is not bit-reproducible) lands in the last bin.
    size_t b = std::min(size_t(a * inv_width_), last);
    // Bin b is exactly [b*width, (b+1)*width): the product above may round across an edge.
    if (b > 0 && a < double(b) * width) --b;
    else if (b < last && a >= double(b + 1) * width) ++b;
    h[b] += 1;
  }
}

double TensorStats::bin_width() const { return max_abs_ > 0 ? double(max_abs_) / bins_ : 0.0; }

namespace {

// The |x| of 0-based rank k, placed uniformly inside the bin that holds it.
double order_statistic(const std::vector<uint64_t>& hist, double width, uint64_t k) {
  uint64_t before = 0;
  for (size_t b = 0; b < hist.size(); ++b) {
    if (hist[b] > 0 && k < before + hist[b]) return width * (double(b) + (double(k - before) + 0.5) / double(hist[b]));
    before += hist[b];
  }
  return width * double(hist.size());
}

// numpy's default ("linear") percentile definition: rank p/100*(n-1), interpolated between the neighbouring ranks.
float percentile_amax(const TensorStats& s, double percentile) {
  TRTCORE_CHECK(percentile >= 0 && percentile <= 100, ErrorKind::kInvalidArgument,
                "calibration percentile must be in [0, 100], got ", percentile);
  uint64_t n = 0;
  for (uint64_t c : s.histogram()) n += c;
  if (n == 0 || percentile == 100) return s.max_abs();
  const double rank = percentile / 100.0 * double(n - 1);
  const uint64_t k = uint64_t(std::floor(rank));
  const double lo = order_statistic(s.histogram(), s.bin_width(), k);
  const double hi = k + 1 < n ? order_statistic(s.histogram(), s.bin_width(), k + 1) : lo;
  const double v = lo + (rank - double(k)) * (hi - lo);
  return float(std::min(v, double(s.max_abs())));
}

// The candidate upper bin edge whose symmetric int8 fake-quantization of the bin centres has the least squared error.
float mse_amax(const TensorStats& s) {
  const std::vector<uint64_t>& hist = s.histogram();
  const double width = s.bin_width();
  std::vector<std::pair<double, double>> centres;  // (centre, count) of the non-empty bins
  for (size_t b = 0; b < hist.size(); ++b)
    if (hist[b] > 0) centres.emplace_back((double(b) + 0.5) * width, double(hist[b]));
  double best_err = std::numeric_limits<double>::infinity();
  double best = double(s.max_abs());
  for (size_t k = 1; k <= hist.size(); ++k) {
    const double amax = double(k) * width;
    const double step = amax / 127.0;
    double err = 0;
    for (const auto& [c, count] : centres) {
      const double q = std::min(std::nearbyint(c / step), 127.0) * step;
      err += count * (q - c) * (q - c);
    }
    if (err < best_err) {
      best_err = err;
      best = amax;
    }
  }
  return float(best);
}

}  // namespace

float compute_amax(const TensorStats& s, const AlgorithmSettings& settings) {
  if (s.max_abs() <= 0) return 0.f;
  if (settings.algorithm == Algorithm::kMax) return s.max_abs();
  TRTCORE_CHECK(s.histogram().size() == size_t(s.bins()), ErrorKind::kInvalidArgument,
                "calibration algorithm '", algorithm_name(settings.algorithm),
                "' needs the histogram pass (begin_histogram / observe_histogram) first");
  switch (settings.algorithm) {
    case Algorithm::kEntropy: return entropy_amax(s.histogram(), double(s.max_abs()));
    case Algorithm::kPercentile: return percentile_amax(s, settings.percentile);
    case Algorithm::kMse: return mse_amax(s);
    case Algorithm::kMax: break;
  }
  return s.max_abs();
}

std::vector<float> per_channel_amax(const float* w, int64_t channels, int64_t per_channel) {
  TRTCORE_CHECK(channels >= 0 && per_channel >= 0, ErrorKind::kInvalidArgument,
                "per-channel amax needs non-negative sizes, got ", channels, " channels of ", per_channel);
  std::vector<float> out(size_t(channels), 0.f);
  for (int64_t c = 0; c < channels; ++c) {
    const float* p = w + c * per_channel;
    float m = 0.f;
    for (int64_t i = 0; i < per_channel; ++i) {
      const float a = std::fabs(p[i]);
      if (std::isfinite(a)) m = std::max(m, a);
    }
    out[size_t(c)] = m;
  }
  return out;
}

float scale_from_amax(float amax) {
  const float scale = amax / 127.f;
  return (std::isfinite(scale) && scale > 0.f) ? scale : 1.f;
}

}  // namespace trtcore::calib
