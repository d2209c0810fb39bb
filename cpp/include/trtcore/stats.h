// Timing statistics computed from a trace of iterations.
#pragma once
#include <string>
#include <vector>

namespace trtcore {

struct Stats {
  size_t count = 0;
  double mean = 0, std = 0, min = 0, max = 0, median = 0, p90 = 0, p95 = 0, p99 = 0;
};

// Percentiles by linear interpolation between order statistics (numpy's default).
Stats compute_stats(std::vector<double> samples);

}  // namespace trtcore
