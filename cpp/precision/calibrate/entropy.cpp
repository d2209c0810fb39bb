// TensorRT's EntropyCalibration2 threshold search, with the semantics of NVIDIA's histogram calibrator
// (pytorch-quantization / ModelOpt): the threshold whose 128-level quantization of the |x| histogram loses the least
// information, measured as KL(P || Q).
#include <cmath>
#include <limits>
#include <vector>

#include "precision/calibrate/stats.h"
#include "trtcore/error.h"

namespace trtcore::calib {
namespace {

constexpr size_t kLevels = 128;  // int8 magnitudes 0..127 (sign handled by |x|)

double x_log_x(double v) { return v > 0 ? v * std::log(v) : 0.0; }

// Prefix sums over the histogram, so one candidate costs O(kLevels) instead of O(bins).
struct Prefix {
  std::vector<double> count;     // count[j]: sum of bins [0, j)
  std::vector<double> nonzero;   // nonzero[j]: number of non-empty bins in [0, j)
  std::vector<double> xlogx;     // xlogx[j]: sum of b*log(b) over bins [0, j)
  explicit Prefix(const std::vector<double>& b) : count(b.size() + 1), nonzero(b.size() + 1), xlogx(b.size() + 1) {
    for (size_t j = 0; j < b.size(); ++j) {
      count[j + 1] = count[j] + b[j];
      nonzero[j + 1] = nonzero[j] + (b[j] > 0 ? 1 : 0);
      xlogx[j + 1] = xlogx[j] + x_log_x(b[j]);
    }
  }
};

// KL(P || Q) for the first i bins (infinity when P has mass where Q has none). P: bins [0, i) with every count beyond
// bin i-1 added to bin i-1. Q: bin j belongs to level floor(j*128/i); each level's count is spread evenly over its
// non-empty bins. Both are normalised to sum 1, so KL = (sum P log P - sum P log Q)/T - log T + log sum Q.
double divergence(const std::vector<double>& b, const Prefix& pre, size_t i) {
  const double total = pre.count[b.size()];
  const double outliers = total - pre.count[i];
  const double last = b[i - 1] + outliers;
  if (b[i - 1] == 0 && outliers > 0) return std::numeric_limits<double>::infinity();
  const double sum_q = pre.count[i];
  const double p_log_p = pre.xlogx[i - 1] + x_log_x(last);
  double p_log_q = 0;
  double q_last = 0;
  for (size_t g = 0; g < kLevels; ++g) {
    const size_t start = (g * i + kLevels - 1) / kLevels;  // first j with floor(j*128/i) == g
    const size_t end = ((g + 1) * i + kLevels - 1) / kLevels;
    const double mass = pre.count[end] - pre.count[start];
    if (mass <= 0) continue;
    const double q = mass / (pre.nonzero[end] - pre.nonzero[start]);
    p_log_q += mass * std::log(q);
    if (end == i) q_last = q;
  }
  if (outliers > 0) p_log_q += outliers * std::log(q_last);
  return (p_log_p - p_log_q) / total - std::log(total) + std::log(sum_q);
}

}  // namespace

float entropy_amax(const std::vector<uint64_t>& hist, double max_abs) {
  const size_t bins = hist.size();
  TRTCORE_CHECK(bins >= kLevels, ErrorKind::kInvalidArgument, "entropy calibration needs at least ", kLevels,
                " histogram bins, got ", bins);
  std::vector<double> b(hist.begin(), hist.end());
  b[0] = b[1];  // the spike of exact zeros (ReLU outputs, padding) would otherwise dominate P
  const Prefix pre(b);
  if (pre.count[bins] <= 0) return float(max_abs);
  double best = std::numeric_limits<double>::infinity();
  size_t best_i = bins;
  for (size_t i = kLevels; i <= bins; ++i) {
    const double kl = divergence(b, pre, i);
    if (kl <= best) {  // ties go to the largest threshold
      best = kl;
      best_i = i;
    }
  }
  // The threshold is the upper edge of bin best_i - 1, as in NVIDIA's calibrator (edges[i]).
  return float(double(best_i) * max_abs / double(bins));
}

}  // namespace trtcore::calib
