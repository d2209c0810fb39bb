// The cuda backend's planning stage: storage layouts, Concat slices and the activation memory plan, decided from
// the graph and what each step's kernel reports about itself. Host-only: the executable applies the plan (allocates,
// hands layouts and slices to kernel init, points each step at its buffers).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "trtcore/graph.h"
#include "trtcore/options.h"

namespace trtcore::cuda {

// What the planner needs of one step's kernel. The first group is asked of the fresh kernel before init, the
// second after init (the tactic decides them).
struct StepFacts {
  size_t node = 0;  // index in graph.nodes
  LayoutRule layout_rule = LayoutRule::kNchwOnly;
  OutputAlias alias = OutputAlias::kNone;
  bool accepts_output_slice = false;
  int output_over_input = -1;  // after init
  size_t workspace_bytes = 0;  // after init
};

// Where a value lives on the device.
enum class Storage { kNone, kConstant, kArena, kGraphInput, kGraphOutput };

// One planned buffer: kept per value so per-tensor dtype/layout (FP16 storage, NHWC) can be planned later.
struct BufferInfo {
  Storage storage = Storage::kNone;
  DType dtype = DType::kUndefined;
  Layout layout = Layout::kNCHW;
  size_t bytes = 0;   // at the maximum batch
  size_t offset = 0;  // kArena: offset in the arena
  int alias_of = -1;  // kArena: shares the buffer of this value (Reshape-like outputs, Concat slices)
  size_t slice_offset = 0;  // bytes from the start of alias_of's buffer (a Concat input written in place)
  int io_index = -1;  // kGraphInput/kGraphOutput: position in graph.inputs/outputs
};

// A Concat input its producer writes straight into the Concat's buffer.
struct ConcatSlice {
  int concat = -1;              // the Concat output this value is written into, or -1
  int64_t total_channels = 0;   // that output's channels
  int64_t channel_offset = 0;   // where this value's channels start in it
};

// Everything planned for one executable; every vector is indexed by value id.
struct CudaPlan {
  std::vector<Layout> layouts;       // storage layout of each value
  std::vector<ConcatSlice> slices;   // planned before init; a producer that declines its slice clears it
  std::vector<BufferInfo> buffers;   // plan_memory
  size_t arena_bytes = 0;            // plan_memory: the activation arena
  size_t workspace_bytes = 0;        // plan_memory: the largest scratch any step needs

  Layout layout_of(int v) const { return v >= 0 ? layouts[size_t(v)] : Layout::kNCHW; }
};

// Before kernel init: storage layouts, then the Concat slices (which depend on them).
CudaPlan plan_layouts_and_slices(const Graph& g, const std::vector<StepFacts>& steps, Fp32Math fp32_math);

// After kernel init: buffers by liveness in one arena (aliases, in-place Concat slices and outputs written over a
// dying input share their root's buffer), graph inputs/outputs in buffers of their own, and the workspace size.
void plan_memory(const Graph& g, const std::vector<StepFacts>& steps, CudaPlan& plan);

}  // namespace trtcore::cuda
