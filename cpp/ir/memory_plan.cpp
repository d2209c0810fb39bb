#include "trtcore/memory_plan.h"

#include <algorithm>
#include <numeric>

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

}  // namespace trtcore
