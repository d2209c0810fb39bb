#include "backends/cuda/planner.h"

#include <algorithm>

#include "trtcore/memory_plan.h"

namespace trtcore::cuda {
namespace {

// NHWC for 4-D activations on tensor-core math (float16; float32 with TF32) written by a layout-aware kernel and
// read only by layout-aware kernels, so layout conversions happen only at the boundaries (inside the Conv/pool
// kernels there). int8/uint8 tensors (between a per-tensor QuantizeLinear and its DequantizeLinear) may be NHWC too;
// the same-layout rule keeps them NHWC only where the float tensors around them are.
std::vector<Layout> decide_layouts(const Graph& g, const std::vector<StepFacts>& steps, Fp32Math fp32_math) {
  const size_t nv = g.values.size();
  std::vector<Layout> layouts(nv, Layout::kNCHW);
  const bool fp32_nhwc = fp32_math == Fp32Math::kTF32;
  auto eligible = [&](DType t) {
    return t == DType::kFloat16 || (fp32_nhwc && t == DType::kFloat32) || t == DType::kInt8 || t == DType::kUInt8;
  };
  std::vector<char> io(nv, 0);
  for (int v : g.inputs) io[size_t(v)] = 1;
  for (int v : g.outputs) io[size_t(v)] = 1;
  std::vector<char> nhwc(nv, 0);
  for (const StepFacts& s : steps) {
    const Node& n = g.nodes[s.node];
    if (s.layout_rule == LayoutRule::kNchwOnly || n.outputs.empty() || n.outputs[0] < 0) continue;
    const size_t o = size_t(n.outputs[0]);
    const Value& val = g.values[o];
    if (!io[o] && !val.constant && eligible(val.dtype) && val.shape.size() == 4) nhwc[o] = 1;
  }
  // Drop NHWC where a consumer cannot read it, until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    auto clear = [&](int v) {
      if (v >= 0 && nhwc[size_t(v)]) {
        nhwc[size_t(v)] = 0;
        changed = true;
      }
    };
    for (const StepFacts& s : steps) {
      const Node& n = g.nodes[s.node];
      if (s.layout_rule == LayoutRule::kNchwOnly) {
        for (int v : n.inputs) clear(v);
      } else if (s.layout_rule == LayoutRule::kAllSameLayout) {
        bool all = true;
        for (int v : n.inputs)
          if (v >= 0 && !nhwc[size_t(v)]) all = false;  // constants and graph inputs stay NCHW
        if (!n.outputs.empty() && n.outputs[0] >= 0 && !nhwc[size_t(n.outputs[0])]) all = false;
        if (!all) {
          for (int v : n.inputs) clear(v);
          if (!n.outputs.empty()) clear(n.outputs[0]);
        }
      } else if (s.layout_rule == LayoutRule::kSameLayout) {
        const int in0 = n.inputs.empty() ? -1 : n.inputs[0];
        const int out0 = n.outputs.empty() ? -1 : n.outputs[0];
        for (size_t i = 1; i < n.inputs.size(); ++i) clear(n.inputs[i]);
        const bool in_h = in0 >= 0 && nhwc[size_t(in0)], out_h = out0 >= 0 && nhwc[size_t(out0)];
        if (in_h != out_h) {
          clear(in0);
          clear(out0);
        }
      }
    }
  }
  for (size_t v = 0; v < nv; ++v)
    if (nhwc[v]) layouts[v] = Layout::kNHWC;
  return layouts;
}

// Concat elimination: an input of a channel Concat (4-D, axis 1) whose producer can write a channel slice and
// whose only reader is that Concat is written straight into its slice of the Concat's buffer; the Concat then
// copies only the other inputs.
std::vector<ConcatSlice> decide_concat_slices(const Graph& g, const std::vector<StepFacts>& steps,
                                              const std::vector<Layout>& layouts) {
  const size_t nv = g.values.size();
  std::vector<ConcatSlice> slices(nv, ConcatSlice{});
  std::vector<int> uses(nv, 0), producer(nv, -1);
  for (size_t k = 0; k < steps.size(); ++k) {
    const Node& n = g.nodes[steps[k].node];
    for (int i : n.inputs)
      if (i >= 0) ++uses[size_t(i)];
    for (int o : n.outputs)
      if (o >= 0) producer[size_t(o)] = int(k);
  }
  std::vector<char> io(nv, 0);  // graph inputs and outputs have buffers of their own
  for (int o : g.outputs) io[size_t(o)] = 1;
  for (int i : g.inputs) io[size_t(i)] = 1;
  for (const StepFacts& s : steps) {
    const Node& n = g.nodes[s.node];
    if (n.op != "Concat" || n.outputs.empty() || n.outputs[0] < 0) continue;
    const Value& out = g.value(n.outputs[0]);
    if (out.shape.size() != 4 || out.constant || io[size_t(n.outputs[0])]) continue;  // arena buffers only
    if (node_axis(n, 4, n.describe()) != 1) continue;
    const int o = n.outputs[0];
    int64_t offset = 0;
    for (int v : n.inputs) {
      if (v < 0) continue;
      const Value& in = g.value(v);
      const int p = producer[size_t(v)];
      const StepFacts* from = p >= 0 ? &steps[size_t(p)] : nullptr;
      const bool ok = from && uses[size_t(v)] == 1 && !io[size_t(v)] && !in.constant && in.dtype == out.dtype &&
                      in.shape.size() == 4 && layouts[size_t(v)] == layouts[size_t(o)] &&
                      g.nodes[from->node].outputs[0] == v && from->alias == OutputAlias::kNone &&
                      from->accepts_output_slice;
      if (ok) slices[size_t(v)] = ConcatSlice{o, out.shape[1], offset};
      offset += in.shape.size() == 4 ? in.shape[1] : 0;
    }
  }
  return slices;
}

// Storage class, size and graph-io position of every value. Every value written by a step that is not a graph
// input or output lives in the arena; Reshape-like outputs may alias their input. Returns each value's root (the
// value whose buffer it uses).
std::vector<int> assign_storage(const Graph& g, const std::vector<StepFacts>& steps, CudaPlan& plan) {
  const size_t nv = g.values.size();
  std::vector<BufferInfo>& buffers = plan.buffers;
  buffers.assign(nv, BufferInfo{});
  for (size_t v = 0; v < nv; ++v) {
    const Value& val = g.values[v];
    buffers[v].dtype = val.dtype;
    buffers[v].layout = plan.layouts[v];
    if (val.dtype != DType::kUndefined) buffers[v].bytes = size_t(numel(val.shape)) * dtype_size(val.dtype);
    if (val.constant) buffers[v].storage = Storage::kConstant;
  }
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    BufferInfo& b = buffers[size_t(g.inputs[k])];
    b.storage = Storage::kGraphInput;
    b.io_index = int(k);
  }
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    BufferInfo& b = buffers[size_t(g.outputs[k])];
    if (b.storage == Storage::kNone) b.storage = Storage::kGraphOutput;
    if (b.io_index < 0 || b.storage == Storage::kGraphOutput) b.io_index = int(k);
  }
  std::vector<int> root(nv);
  for (size_t v = 0; v < nv; ++v) root[v] = int(v);
  for (const StepFacts& s : steps) {
    const Node& n = g.nodes[s.node];
    for (int o : n.outputs)
      if (o >= 0 && buffers[size_t(o)].storage == Storage::kNone) buffers[size_t(o)].storage = Storage::kArena;
    if (s.alias == OutputAlias::kInput0 && !n.inputs.empty() && n.inputs[0] >= 0 && !n.outputs.empty() &&
        n.outputs[0] >= 0 && buffers[size_t(n.outputs[0])].storage == Storage::kArena) {
      const int in_root = root[size_t(n.inputs[0])];
      const Storage rs = buffers[size_t(in_root)].storage;
      // Aliasing a graph output would let a later step see the final result early; constants are read-only.
      if (rs == Storage::kArena || rs == Storage::kGraphInput) {
        root[size_t(n.outputs[0])] = in_root;
        buffers[size_t(n.outputs[0])].alias_of = in_root;
      }
    }
  }
  return root;
}

// A Concat input written in place lives inside the Concat's buffer, at its channel offset.
void place_concat_slices(const Graph& g, CudaPlan& plan, std::vector<int>& root) {
  std::vector<BufferInfo>& buffers = plan.buffers;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const ConcatSlice& sl = plan.slices[v];
    if (sl.concat < 0) continue;
    // Its producer already writes with the Concat's channel pitch: anything but two arena buffers is a bug.
    if (buffers[v].storage != Storage::kArena || buffers[size_t(sl.concat)].storage != Storage::kArena)
      fail(ErrorKind::kRuntime, "cuda executable: concat slice '", g.value(int(v)).name,
           "' is not in the activation arena");
    const Shape& s = g.value(int(v)).shape;
    const size_t elem = dtype_size(g.value(int(v)).dtype);
    // Offset of sample 0's slice: channel-major (NCHW) or channel-minor (NHWC) storage.
    const size_t per_channel = plan.layouts[v] == Layout::kNHWC ? 1 : size_t(s[2] * s[3]);
    root[v] = sl.concat;
    buffers[v].alias_of = sl.concat;
    buffers[v].slice_offset = size_t(sl.channel_offset) * per_channel * elem;
  }
}

// First and last step that touch each root, by value id (-1: never).
struct Liveness {
  std::vector<int> first, last;
};

// Liveness of each root over the step order (aliases extend their root's life).
Liveness live_ranges(const Graph& g, const std::vector<StepFacts>& steps, const std::vector<int>& root) {
  const size_t nv = g.values.size();
  Liveness live{std::vector<int>(nv, -1), std::vector<int>(nv, -1)};
  std::vector<int>& first = live.first;
  std::vector<int>& last = live.last;
  for (size_t step = 0; step < steps.size(); ++step) {
    const Node& n = g.nodes[steps[step].node];
    for (int o : n.outputs) {
      if (o < 0) continue;
      const size_t r = size_t(root[size_t(o)]);
      if (first[r] < 0) first[r] = int(step);
      last[r] = std::max(last[r], int(step));
    }
    for (int i : n.inputs)
      if (i >= 0) last[size_t(root[size_t(i)])] = std::max(last[size_t(root[size_t(i)])], int(step));
  }
  return live;
}

// An output written over an input that dies at this step (a residual added in place) shares its buffer.
void share_in_place_outputs(const Graph& g, const std::vector<StepFacts>& steps, CudaPlan& plan,
                            std::vector<int>& root, std::vector<int>& last) {
  const size_t nv = g.values.size();
  std::vector<BufferInfo>& buffers = plan.buffers;
  for (size_t step = 0; step < steps.size(); ++step) {
    const int k = steps[step].output_over_input;
    const Node& n = g.nodes[steps[step].node];
    if (k < 0 || size_t(k) >= n.inputs.size() || n.inputs[size_t(k)] < 0 || n.outputs.empty() || n.outputs[0] < 0)
      continue;
    const int in = n.inputs[size_t(k)], out = n.outputs[0];
    const int r = root[size_t(in)];
    bool ok = root[size_t(out)] == out && buffers[size_t(out)].storage == Storage::kArena &&
              buffers[size_t(r)].storage == Storage::kArena && last[size_t(r)] == int(step) &&
              buffers[size_t(in)].slice_offset == 0 && buffers[size_t(r)].bytes >= buffers[size_t(out)].bytes &&
              plan.layouts[size_t(in)] == plan.layouts[size_t(out)] && g.value(in).dtype == g.value(out).dtype;
    for (size_t i = 0; ok && i < n.inputs.size(); ++i)  // no other operand of this step may live there
      if (i != size_t(k) && n.inputs[i] >= 0 && root[size_t(n.inputs[i])] == r) ok = false;
    if (!ok) continue;
    for (size_t v = 0; v < nv; ++v)  // `out` and whatever aliases it now live in r
      if (root[v] == out) {
        root[v] = r;
        buffers[v].alias_of = r;
      }
    last[size_t(r)] = std::max(last[size_t(r)], last[size_t(out)]);
  }
}

// Arena offsets of the roots by liveness, then of everything that aliases one.
void place_in_arena(CudaPlan& plan, const std::vector<int>& root, const Liveness& live) {
  std::vector<BufferInfo>& buffers = plan.buffers;
  const size_t nv = buffers.size();
  std::vector<BufferRequest> reqs;
  std::vector<size_t> ids;
  for (size_t v = 0; v < nv; ++v) {
    if (buffers[v].storage != Storage::kArena || root[v] != int(v) || live.first[v] < 0) continue;
    reqs.push_back({std::max<size_t>(buffers[v].bytes, 1), live.first[v], std::max(live.first[v], live.last[v])});
    ids.push_back(v);
  }
  const BufferPlan placed = plan_buffers(reqs, 256);
  plan.arena_bytes = placed.total_bytes;
  for (size_t k = 0; k < ids.size(); ++k) buffers[ids[k]].offset = placed.offsets[k];
  for (size_t v = 0; v < nv; ++v)
    if (buffers[v].alias_of >= 0)
      buffers[v].offset = buffers[size_t(buffers[v].alias_of)].offset + buffers[v].slice_offset;
}

}  // namespace

CudaPlan plan_layouts_and_slices(const Graph& g, const std::vector<StepFacts>& steps, Fp32Math fp32_math) {
  CudaPlan plan;
  plan.layouts = decide_layouts(g, steps, fp32_math);
  plan.slices = decide_concat_slices(g, steps, plan.layouts);
  return plan;
}

void plan_memory(const Graph& g, const std::vector<StepFacts>& steps, CudaPlan& plan) {
  std::vector<int> root = assign_storage(g, steps, plan);
  place_concat_slices(g, plan, root);
  Liveness live = live_ranges(g, steps, root);
  share_in_place_outputs(g, steps, plan, root, live.last);
  place_in_arena(plan, root, live);
  plan.workspace_bytes = 0;
  for (const StepFacts& s : steps) plan.workspace_bytes = std::max(plan.workspace_bytes, s.workspace_bytes);
}

}  // namespace trtcore::cuda
