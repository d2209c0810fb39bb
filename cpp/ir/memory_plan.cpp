#include "trtcore/memory_plan.h"

#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "trtcore/error.h"

namespace trtcore {

BufferPlan plan_buffers(const std::vector<BufferRequest>& requests, size_t alignment) {
  BufferPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  auto align = [&](size_t x) { return (x + alignment - 1) / alignment * alignment; };
  std::vector<size_t> placed;
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    // Intervals already placed that are alive at the same time, sorted by offset.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t p : placed) {
      const BufferRequest& q = requests[p];
      if (q.first_use <= r.last_use && r.first_use <= q.last_use)
        busy.push_back({plan.offsets[p], plan.offsets[p] + align(q.bytes)});
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + align(r.bytes) <= lo) break;
      offset = std::max(offset, hi);
    }
    plan.offsets[idx] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + align(r.bytes));
    placed.push_back(idx);
  }
  return plan;
}

namespace {

std::string gib(size_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << double(bytes) / double(size_t(1) << 30) << " GiB";
  return os.str();
}

}  // namespace

void check_activation_memory(const Graph& g, size_t limit_bytes, const std::string& model) {
  const size_t steps = g.nodes.size();
  std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
  for (size_t s = 0; s < steps; ++s) {
    for (int o : g.nodes[s].outputs)
      if (o >= 0 && first[size_t(o)] < 0) first[size_t(o)] = int(s);
    for (int i : g.nodes[s].inputs)
      if (i >= 0) last[size_t(i)] = int(s);
  }
  for (int o : g.outputs) last[size_t(o)] = int(steps);  // the caller holds outputs to the end
  std::vector<size_t> live(steps + 1, 0);
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].is_constant() || first[v] < 0) continue;
    const size_t bytes = size_t(numel(g.values[v].shape)) * dtype_size(g.values[v].dtype);
    for (int s = first[v]; s <= std::max(first[v], last[v]); ++s) live[size_t(s)] += bytes;
  }
  const size_t peak = size_t(std::max_element(live.begin(), live.end()) - live.begin());
  if (live.empty() || live[peak] <= limit_bytes) return;
  const int at = int(std::min(peak, steps - 1));
  std::vector<std::pair<size_t, std::string>> alive;
  for (size_t v = 0; v < g.values.size(); ++v)
    if (!g.values[v].is_constant() && first[v] >= 0 && first[v] <= at && std::max(first[v], last[v]) >= at)
      alive.push_back({size_t(numel(g.values[v].shape)) * dtype_size(g.values[v].dtype), g.values[v].name});
  std::sort(alive.rbegin(), alive.rend());
  std::string largest;
  for (size_t k = 0; k < alive.size() && k < 3; ++k)
    largest += (k ? ", '" : "'") + alive[k].second + "' " + gib(alive[k].first);
  fail(ErrorKind::kInvalidArgument, model, ": the tensors alive at ", g.nodes[size_t(at)].describe(), " need ",
       gib(live[peak]), " of activation memory, more than this machine's ", gib(limit_bytes), " (largest: ", largest,
       "); build for a smaller batch or input size");
}

size_t host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : ~size_t(0);
}

}  // namespace trtcore
