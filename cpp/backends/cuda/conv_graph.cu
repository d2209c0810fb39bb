// The Conv kernel's graph-API form (see conv_kernel.h): the operation graph of a layer, its candidate engine
// configurations and plans by batch size, and the numerical check of a chosen engine against a legacy form.
#include <cmath>

#include "backends/cuda/conv_kernel.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/graph_activation.h"

namespace trtcore::cuda {
namespace {

// Distinct engine configurations asked of the heuristics, and plans built and timed of them.
constexpr size_t kGraphConfigs = 6;
constexpr size_t kGraphPlans = 3;

// Uniform values in [-amplitude, amplitude) from a hash of the index (deterministic, no state).
template <class T>
__global__ void fill_uniform_kernel(T* p, int64_t n, float amplitude, unsigned seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    unsigned h = unsigned(i) * 2654435761u ^ (seed * 0x9e3779b9u) ^ unsigned(i >> 32);
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    p[i] = store_as<T>(amplitude * (float(h & 0xffffff) / float(0x800000) - 1.f));
  }
}

// Largest |p| (as float bits: non-negative floats order like unsigned integers; NaN sorts above all).
template <class T>
__global__ void max_abs_kernel(const T* p, int64_t n, unsigned* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    atomicMax(out, __float_as_uint(fabsf(load_float(p[i]))));
}

// Elements where |got - ref| exceeds rel * |ref| + abs_frac * max|ref| (NaN counts as a mismatch).
template <class T>
__global__ void mismatch_kernel(const T* got, const T* ref, int64_t n, const unsigned* max_ref, float rel,
                                float abs_frac, unsigned long long* bad) {
  const float scale = __uint_as_float(*max_ref);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float g = load_float(got[i]), r = load_float(ref[i]);
    if (!(fabsf(g - r) <= rel * fabsf(r) + abs_frac * scale)) atomicAdd(bad, 1ull);
  }
}

template <class T>
void fill_uniform(void* p, size_t bytes, float amplitude, unsigned seed, cudaStream_t s, const std::string& where) {
  const int64_t n = int64_t(bytes / sizeof(T));
  if (n == 0) return;
  fill_uniform_kernel<T><<<grid_for(n), kBlockSize, 0, s>>>(static_cast<T*>(p), n, amplitude, seed);
  TRTCORE_CUDA_LAUNCH_CHECK(where, fill_uniform_kernel<T>);
}

// Mismatching elements of `got` against `ref` (n elements each).
template <class T>
unsigned long long count_mismatches(const void* got, const void* ref, int64_t n, cudaStream_t s,
                                    const std::string& where) {
  DeviceBuffer scratch(sizeof(unsigned long long) * 2, where + " (numerical check)");
  TRTCORE_CUDA_CHECK(where, cudaMemsetAsync(scratch.get(), 0, scratch.bytes(), s));
  auto* max_ref = scratch.as<unsigned>();
  auto* bad = scratch.as<unsigned long long>() + 1;
  max_abs_kernel<T><<<grid_for(n), kBlockSize, 0, s>>>(static_cast<const T*>(ref), n, max_ref);
  TRTCORE_CUDA_LAUNCH_CHECK(where, max_abs_kernel<T>);
  // Both sides accumulate in FP32; the legacy split form rounds the convolution before its epilogue.
  constexpr float kRel = 1e-2f, kAbsFrac = 2e-3f;
  mismatch_kernel<T><<<grid_for(n), kBlockSize, 0, s>>>(static_cast<const T*>(got), static_cast<const T*>(ref), n,
                                                        max_ref, kRel, kAbsFrac, bad);
  TRTCORE_CUDA_LAUNCH_CHECK(where, mismatch_kernel<T>);
  unsigned long long host_bad = 0;
  TRTCORE_CUDA_CHECK(where, cudaMemcpyAsync(&host_bad, bad, sizeof host_bad, cudaMemcpyDeviceToHost, s));
  TRTCORE_CUDA_CHECK(where, cudaStreamSynchronize(s));
  return host_bad;
}

}  // namespace

// Ungrouped 2-D convolutions with constant weights whose every activation operand is stored NHWC and dense, on
// tensor-core precisions, with an activation cuDNN's pointwise operations express.
bool ConvKernel::graph_possible() const {
  if (!tensor_ops_allowed() || !weights_constant_ || !nhwc_possible_) return false;
  if (geom_.cudnn_rank != 4 || geom_.spatial != 2 || geom_.group != 1 || geom_.explicit_pad) return false;
  if (x_layout_ != Layout::kNHWC || y_layout_ != Layout::kNHWC || (has_residual_ && z_layout_ != Layout::kNHWC))
    return false;
  GraphConvSpec spec;
  return out_pitch_ == channels_ && graph_spec(geom_.x_shape[0], &spec);
}

bool ConvKernel::graph_spec(int64_t batch, GraphConvSpec* spec) const {
  GraphConvSpec s;
  s.set_data(dt_);
  const Shape xs = geom_.cudnn_x_shape(batch), ys = geom_.cudnn_y_shape(batch), w = geom_.lift(w_shape_);
  s.n = xs[0];
  s.c = xs[1];
  s.h = xs[2];
  s.w = xs[3];
  s.k = w[0];
  s.r = w[2];
  s.s = w[3];
  s.out_h = ys[2];
  s.out_w = ys[3];
  for (int d = 0; d < 2; ++d) {
    s.stride[d] = geom_.stride[d];
    s.dilation[d] = geom_.dilation[d];
    s.pad_begin[d] = geom_.pad_begin[d];
    s.pad_end[d] = geom_.pad_end[d];
  }
  s.bias = has_bias_;
  s.residual = has_residual_;
  if (!graph_activation(act_, 1.0, &s)) return false;
  *spec = s;
  return true;
}

// The graph forms of this layer (null when the activation has no graph form).
GraphConvPlans* ConvKernel::graph_forms() {
  GraphConvSpec spec;
  if (!graph_ && graph_spec(geom_.x_shape[0], &spec)) graph_ = std::make_unique<GraphConvPlans>(spec, where_);
  return graph_.get();
}

const GraphConv* ConvKernel::graph_conv(cudnnHandle_t h, int64_t batch) {
  GraphConvPlans* forms = graph_forms();
  return forms ? &forms->graph(h, batch) : nullptr;
}

GraphPlan* ConvKernel::graph_plan(cudnnHandle_t h, int64_t batch, const EngineConfig& cfg, std::string* why) {
  GraphConvPlans* forms = graph_forms();
  if (!forms) {
    *why = "the activation has no graph form";
    return nullptr;
  }
  return forms->plan(h, batch, cfg, why);
}

// Plans of the first configurations cuDNN proposes at the maximum batch that build and fit `limit`.
std::vector<ConvChoice> ConvKernel::graph_candidates(CudaInitContext& ctx, size_t limit) {
  std::vector<ConvChoice> out;
  const int64_t batch = geom_.x_shape[0];
  const GraphConv* ops = graph_conv(ctx.cudnn, batch);
  if (!ops || !ops->ok()) return out;
  std::string why;
  for (const EngineConfig& cfg : ops->candidates(kGraphConfigs)) {
    if (out.size() >= kGraphPlans) break;
    const GraphPlan* p = graph_plan(ctx.cudnn, batch, cfg, &why);
    if (!p || p->workspace() > limit) continue;
    ConvChoice c;
    c.form = ConvForm::kGraph;
    c.layout = ConvLayout::kNhwc;
    c.math = base_math();
    c.graph = cfg;
    out.push_back(c);
  }
  return out;
}

// The plan of the stored configuration at the maximum batch (for "graph:heuristic", the first proposed one that
// builds, which choice_ then names), or null when it cannot be built within the workspace limit.
GraphPlan* ConvKernel::graph_reuse(CudaInitContext& ctx) {
  const int64_t batch = geom_.x_shape[0];
  std::string why;
  if (choice_.graph.engine < 0) {
    const GraphConv* ops = graph_conv(ctx.cudnn, batch);
    if (!ops || !ops->ok()) return nullptr;
    for (const EngineConfig& cfg : ops->candidates(kGraphConfigs)) {
      const GraphPlan* p = graph_plan(ctx.cudnn, batch, cfg, &why);
      if (p && p->workspace() <= ctx.workspace_limit) {
        choice_.graph = cfg;
        break;
      }
    }
    if (choice_.graph.engine < 0) return nullptr;
  }
  GraphPlan* p = graph_plan(ctx.cudnn, batch, choice_.graph, &why);
  keep_graph_plan(batch, &choice_.graph);
  return p && p->workspace() <= ctx.workspace_limit ? p : nullptr;
}

cudnnStatus_t ConvKernel::enqueue_graph(const BatchDescs& d, const ConvArgs& a, cudnnHandle_t h) {
  if (!d.graph) return CUDNN_STATUS_NOT_INITIALIZED;
  GraphConvPtrs p;
  p.x = a.x;
  p.w = w_nhwc_.get();
  p.bias = has_bias_ ? a.bias : nullptr;
  p.z = a.z;
  p.y = a.y;
  p.workspace = a.ws;
  return d.graph->execute(h, p);
}

// Runs the graph form and a legacy form on the same random operands (bias values wide enough to cross the
// activation's bends) and compares the outputs: engines with wrong numerics are never chosen.
bool ConvKernel::graph_matches(const ConvChoice& graph, const ConvChoice& ref, BatchDescs& d, TuneBuffers& t,
                               CudaInitContext& ctx) {
  const std::string where = where_ + " (graph engine check)";
  cudaStream_t s = ctx.stream;
  auto fill = [&](DeviceBuffer& b, float amplitude, unsigned seed) {
    if (half_) fill_uniform<__half>(b.get(), b.bytes(), amplitude, seed, s, where);
    else fill_uniform<float>(b.get(), b.bytes(), amplitude, seed, s, where);
  };
  fill(t.x, 1.f, 1);
  if (has_residual_) fill(t.z, 1.f, 2);
  if (has_bias_) fill(t.b, 8.f, 3);
  DeviceBuffer y_ref(t.y.bytes(), where);
  ConvArgs a = t.args;
  size_t scratch = 0;
  if (!own_kernel(ref.form) && ref.form != ConvForm::kGemm) {
    if (!set_math(ref.math) || workspace_for(ctx.cudnn, d, ref.layout, ref.algo, &scratch) != CUDNN_STATUS_SUCCESS)
      return false;
    d.ws = scratch;
  }
  a.y = y_ref.get();
  if (enqueue(ref, d, a, ctx.cudnn, s) != CUDNN_STATUS_SUCCESS) return false;
  std::string why;
  d.graph = graph_plan(ctx.cudnn, geom_.x_shape[0], graph.graph, &why);
  a.y = t.y.get();
  if (enqueue(graph, d, a, ctx.cudnn, s) != CUDNN_STATUS_SUCCESS) return false;
  const int64_t n = int64_t(t.y.bytes() / elem_);
  const unsigned long long bad = half_ ? count_mismatches<__half>(t.y.get(), y_ref.get(), n, s, where)
                                       : count_mismatches<float>(t.y.get(), y_ref.get(), n, s, where);
  return bad == 0;
}

void ConvKernel::keep_graph_plan(int64_t batch, const EngineConfig* cfg) {
  if (graph_) graph_->keep(batch, cfg);
}

}  // namespace trtcore::cuda
