// Buffer planning by liveness: tensors whose lifetimes do not overlap share memory (one arena per executable).
#pragma once
#include <cstddef>
#include <vector>

namespace trtcore {

struct BufferRequest {
  size_t bytes = 0;
  int first_use = 0;  // step that writes it
  int last_use = 0;   // last step that reads it (inclusive)
};

struct BufferPlan {
  std::vector<size_t> offsets;  // one per request, aligned
  size_t total_bytes = 0;
};

// Greedy placement, largest tensors first, at the lowest offset free for their whole lifetime.
BufferPlan plan_buffers(const std::vector<BufferRequest>& requests, size_t alignment = 256);

}  // namespace trtcore
