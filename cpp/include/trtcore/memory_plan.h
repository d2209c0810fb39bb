// Buffer planning by liveness: tensors whose lifetimes do not overlap share memory (one arena per executable).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "trtcore/graph.h"

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

// The bytes of computed values (outputs included) alive at once at the busiest node: no arena can be smaller.
// Fails naming `model`, that node and the largest tensors alive there when it exceeds `limit_bytes`.
void check_activation_memory(const Graph& g, size_t limit_bytes, const std::string& model);

// Physical memory of this machine in bytes.
size_t host_memory_bytes();

}  // namespace trtcore
