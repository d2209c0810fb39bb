// The QConv kernel's cuDNN graph-API form (see qconv_kernel.h): the operation graph of a layer, its engine
// configurations timed at build and checked against the direct form, and plans by batch size.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cuda/graph_activation.h"
#include "backends/cuda/qconv_kernel.h"

namespace trtcore::cuda {
namespace {

// Distinct engine configurations asked of the heuristics, and plans built and timed of them.
constexpr size_t kGraphConfigs = 6;
constexpr size_t kGraphPlans = 3;

__device__ __forceinline__ unsigned mix(int64_t i, unsigned seed) {
  unsigned h = unsigned(i) * 2654435761u ^ (seed * 0x9e3779b9u) ^ unsigned(i >> 32);
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  return h ^ (h >> 12);
}

// int8 values in [-span, span] from a hash of the index.
__global__ void fill_int8_kernel(int8_t* p, int64_t n, unsigned seed, int span) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = int8_t(int(mix(i, seed) % unsigned(2 * span + 1)) - span);
}

// Uniform values in [-amplitude, amplitude).
template <class T>
__global__ void fill_float_kernel(T* p, int64_t n, float amplitude, unsigned seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = store_as<T>(amplitude * (float(mix(i, seed) & 0xffffff) / float(0x800000) - 1.f));
}

// The engine check's comparison on the device (the outputs of a batch-256 layer are hundreds of megabytes: copying
// them to the host took about a second per candidate). counts[0]: elements beyond the bound, counts[1]: elements
// that differ at all; max_bits: the largest |reference| (non-negative floats order as their bit patterns).
__device__ __forceinline__ float load_float(int8_t v) { return float(v); }

template <class T>
__global__ void abs_max_kernel(const T* __restrict__ ref, int64_t n, unsigned* max_bits) {
  float m = 0.f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    m = fmaxf(m, fabsf(load_float(ref[i])));
  for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if ((threadIdx.x & 31) == 0) atomicMax(max_bits, __float_as_uint(m));
}

// Int8 outputs may differ by one step; float outputs by rel * |ref| + abs_frac * max |ref|. NaN counts as beyond.
template <class T>
__global__ void compare_kernel(const T* __restrict__ ref, const T* __restrict__ got, int64_t n, bool steps, float rel,
                               float abs_frac, const unsigned* max_bits, unsigned long long* counts) {
  const float max_ref = __uint_as_float(*max_bits);
  unsigned long long bad = 0, moved = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float r = load_float(ref[i]), d = fabsf(load_float(got[i]) - r);
    bad += steps ? !(d <= 1.f) : !(d <= rel * fabsf(r) + abs_frac * max_ref);
    moved += d > 0.f;
  }
  for (int o = 16; o > 0; o /= 2) {
    bad += __shfl_xor_sync(0xffffffffu, bad, o);
    moved += __shfl_xor_sync(0xffffffffu, moved, o);
  }
  if ((threadIdx.x & 31) == 0 && bad) atomicAdd(&counts[0], bad);
  if ((threadIdx.x & 31) == 0 && moved) atomicAdd(&counts[1], moved);
}

// Few blocks: each thread walks many elements, and the atomics stay a few thousand.
constexpr unsigned kCompareBlocks = 1024;

cudnnDataType_t cudnn_type(DType t) {
  switch (t) {
    case DType::kInt8: return CUDNN_DATA_INT8;
    case DType::kFloat16: return CUDNN_DATA_HALF;
    default: return CUDNN_DATA_FLOAT;
  }
}

}  // namespace

using namespace qconv;

// Ungrouped convolutions between NHWC tensors of signed int8 with zero points 0 (TensorRT's explicit-quantization
// form), writing int8 or float, with an activation that commutes with the division by the output scale.
bool QConvKernel::graph_spec(const Node& node, const Graph& g, const CudaInitContext& ctx, GraphConvSpec* spec) const {
  if (x_type_ != DType::kInt8 || epi_.x_zp != 0 || geom_.cg != geom_.c || geom_.c % 4 != 0 || geom_.k % 4 != 0)
    return false;
  const bool int8_out = epi_.quantized && y_type_ == DType::kInt8 && epi_.y_zp == 0.f;
  if (!int8_out && (epi_.quantized || !is_float(y_type_))) return false;
  if (ctx.in_layout(0) != Layout::kNHWC || ctx.out_layout(0) != Layout::kNHWC) return false;
  const bool residual = present(node, 9);
  if (residual && ctx.in_layout(9) != Layout::kNHWC) return false;
  GraphConvSpec s;
  if (!graph_activation(FusedActivation::from(node.attrs), epi_.ys, &s)) return false;
  s.data = CUDNN_DATA_INT8;
  s.out = cudnn_type(y_type_);
  s.residual_data = cudnn_type(r_type_);
  s.epilogue_data = CUDNN_DATA_FLOAT;
  s.n = g.value(node.inputs[0]).shape[0];
  s.c = geom_.c, s.h = geom_.h, s.w = geom_.w;
  s.k = geom_.k, s.r = geom_.kh, s.s = geom_.kw;
  s.out_h = geom_.oh, s.out_w = geom_.ow;
  s.stride[0] = geom_.sh, s.stride[1] = geom_.sw;
  s.dilation[0] = geom_.dh, s.dilation[1] = geom_.dw;
  s.pad_begin[0] = geom_.ph, s.pad_begin[1] = geom_.pw;
  s.pad_end[0] = geom_.pe_h, s.pad_end[1] = geom_.pe_w;
  s.scale = true;
  s.bias = present(node, 8);
  s.residual = residual;
  // in the output's units: a float residual divided by y_scale, an 8-bit one (zero point 0) times r_scale / y_scale
  if (residual && is_8bit(r_type_) && (r_type_ != DType::kInt8 || epi_.r_zp != 0.f)) return false;
  s.residual_scale = double(epi_.r_scale) / double(epi_.ys);
  *spec = s;
  return true;
}

float QConvKernel::tune_graph(const Node& node, const Graph& g, CudaInitContext& ctx) {
  constexpr float kNone = std::numeric_limits<float>::infinity();
  GraphConvSpec spec;
  if (!graph_spec(node, g, ctx, &spec)) return kNone;
  graph_ = std::make_unique<GraphConvPlans>(spec, where_);
  const GraphConv& ops = graph_->graph(ctx.cudnn, max_batch_);
  if (!ops.ok()) return kNone;
  std::vector<float> scale, bias;
  scaled_epilogue(node, g, epi_.ys, &scale, &bias);
  graph_scale_ = upload_floats(scale, where_ + " (graph scales)");
  if (spec.bias) graph_bias_ = upload_floats(bias, where_ + " (graph bias)");

  const Value& x = g.value(node.inputs[0]);
  const Value& y = g.value(node.outputs[0]);
  DeviceBuffer xb(size_t(numel(x.shape)), where_ + " (tuning input)");
  DeviceBuffer yb(size_t(numel(y.shape)) * dtype_size(y.dtype), where_ + " (tuning output)");
  DeviceBuffer rb;
  if (spec.residual) {
    const Value& r = g.value(node.inputs[9]);
    rb = DeviceBuffer(size_t(numel(r.shape)) * dtype_size(r.dtype), where_ + " (tuning residual)");
  }
  TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(xb.get(), 0, xb.bytes(), ctx.stream));
  if (rb.get()) TRTCORE_CUDA_CHECK(where_, cudaMemsetAsync(rb.get(), 0, rb.bytes(), ctx.stream));
  float best = kNone;
  size_t built = 0;
  std::string why;
  for (const EngineConfig& cfg : ops.candidates(kGraphConfigs)) {
    if (built >= kGraphPlans) break;
    GraphPlan* plan = graph_->plan(ctx.cudnn, max_batch_, cfg, &why);
    if (!plan || plan->workspace() > ctx.workspace_limit) continue;
    ++built;
    DeviceBuffer ws(plan->workspace(), where_ + " (graph workspace)");
    const GraphConvPtrs p = graph_ptrs(xb.get(), rb.get(), yb.get(), ws.get());
    if (plan->execute(ctx.cudnn, p) != CUDNN_STATUS_SUCCESS) {
      static_cast<void>(cudaGetLastError());
      continue;
    }
    const float ms = time_ms([&] { static_cast<void>(plan->execute(ctx.cudnn, p)); }, ctx.stream);
    const bool faster = ms < best;
    const bool matches = faster && graph_matches(plan, ctx);
    ctx.record("i8-graph:" + cfg.text(), ms, faster && !matches ? "output differs from the direct form's" : "");
    if (matches) {
      best = ms;
      graph_cfg_ = cfg;
    }
  }
  drop_check_reference();
  if (best == kNone) return kNone;
  graph_->keep(max_batch_, &graph_cfg_);
  GraphPlan* kept = graph_->plan(ctx.cudnn, max_batch_, graph_cfg_, &why);
  graph_by_batch_[max_batch_] = kept;
  graph_ws_ = kept ? kept->workspace() : 0;
  return best;
}

// The recorded configuration ("heuristic": the first one cuDNN proposes that builds and matches the direct form).
bool QConvKernel::reuse_graph(const Node& node, const Graph& g, CudaInitContext& ctx, const std::string& config) {
  GraphConvSpec spec;
  if (!graph_spec(node, g, ctx, &spec)) return false;
  graph_ = std::make_unique<GraphConvPlans>(spec, where_);
  const GraphConv& ops = graph_->graph(ctx.cudnn, max_batch_);
  if (!ops.ok()) return false;
  std::vector<float> scale, bias;
  scaled_epilogue(node, g, epi_.ys, &scale, &bias);
  graph_scale_ = upload_floats(scale, where_ + " (graph scales)");
  if (spec.bias) graph_bias_ = upload_floats(bias, where_ + " (graph bias)");
  std::vector<EngineConfig> order;
  EngineConfig stored;
  if (config == "heuristic") order = ops.candidates(kGraphConfigs);
  else if (EngineConfig::parse(config, &stored)) order.push_back(stored);
  std::string why;
  for (const EngineConfig& cfg : order) {
    GraphPlan* plan = graph_->plan(ctx.cudnn, max_batch_, cfg, &why);
    if (!plan || plan->workspace() > ctx.workspace_limit) continue;
    if (config == "heuristic" && !graph_matches(plan, ctx)) continue;
    drop_check_reference();
    graph_cfg_ = cfg;
    graph_->keep(max_batch_, &graph_cfg_);
    graph_by_batch_[max_batch_] = plan;
    graph_ws_ = plan->workspace();
    return true;
  }
  drop_check_reference();
  graph_.reset();
  return false;  // a configuration this cuDNN does not offer: the direct form runs
}

GraphConvPtrs QConvKernel::graph_ptrs(const void* x, const void* z, void* y, void* ws) const {
  GraphConvPtrs p;
  p.x = x;
  p.w = packed_.get();
  p.scale = graph_scale_.get();
  p.bias = graph_bias_.get();
  p.z = z;
  p.y = y;
  p.workspace = ws;
  return p;
}

// The check's operands and the direct form's output on them, made once per convolution and kept while its
// configurations are tried. Inputs span +-15 steps (activations' usual size) so that few outputs saturate: a
// saturated output agrees whatever the arithmetic before it.
void QConvKernel::make_check_reference(CudaInitContext& ctx) {
  const std::string where = where_ + " (graph engine check)";
  const int64_t x_n = int64_t(max_batch_) * geom_.c * geom_.h * geom_.w;
  const int64_t y_n = int64_t(max_batch_) * geom_.k * geom_.oh * geom_.ow;
  check_x_ = DeviceBuffer(size_t(x_n), where);
  check_ref_ = DeviceBuffer(size_t(y_n) * dtype_size(y_type_), where);
  fill_int8_kernel<<<grid_for(x_n), kBlockSize, 0, ctx.stream>>>(check_x_.as<int8_t>(), x_n, 1, 15);
  TRTCORE_CUDA_LAUNCH_CHECK(where, fill_int8_kernel);
  std::vector<TensorView> ins(10);
  ins[0] = TensorView{DType::kInt8, Shape{max_batch_, geom_.c, geom_.h, geom_.w}, check_x_.get()};
  if (has_residual_) {
    check_r_ = DeviceBuffer(size_t(y_n) * dtype_size(r_type_), where);
    const float amplitude = 64.f * epi_.ys;  // residuals that move the result across several steps
    if (r_type_ == DType::kInt8)
      fill_int8_kernel<<<grid_for(y_n), kBlockSize, 0, ctx.stream>>>(check_r_.as<int8_t>(), y_n, 2, 60);
    else if (r_type_ == DType::kFloat16)
      fill_float_kernel<__half><<<grid_for(y_n), kBlockSize, 0, ctx.stream>>>(check_r_.as<__half>(), y_n, amplitude, 2);
    else
      fill_float_kernel<float><<<grid_for(y_n), kBlockSize, 0, ctx.stream>>>(check_r_.as<float>(), y_n, amplitude, 2);
    TRTCORE_CUDA_LAUNCH_CHECK(where, "fill_float_kernel");
    ins[9] = TensorView{r_type_, Shape{max_batch_, geom_.k, geom_.oh, geom_.ow}, check_r_.get()};
  }
  launch_direct(ins, {TensorView{y_type_, Shape{max_batch_, geom_.k, geom_.oh, geom_.ow}, check_ref_.get()}},
                ctx.stream);
}

// Runs `plan` on the check's operands and compares with the direct form: int8 outputs may differ by one step where
// the folded scale rounds a near-tie the other way (rarely: at most 1% of them), float outputs by rounding only.
bool QConvKernel::graph_matches(GraphPlan* plan, CudaInitContext& ctx) {
  const std::string where = where_ + " (graph engine check)";
  if (!check_ref_.get()) make_check_reference(ctx);
  const int64_t y_n = int64_t(max_batch_) * geom_.k * geom_.oh * geom_.ow;
  DeviceBuffer ws(plan->workspace(), where), y_got(size_t(y_n) * dtype_size(y_type_), where);
  if (plan->execute(ctx.cudnn, graph_ptrs(check_x_.get(), check_r_.get(), y_got.get(), ws.get())) !=
      CUDNN_STATUS_SUCCESS) {
    static_cast<void>(cudaGetLastError());
    return false;
  }
  return matches_reference(y_got, ctx.stream, where);
}

bool QConvKernel::matches_reference(const DeviceBuffer& y_got, cudaStream_t stream, const std::string& where) {
  const int64_t y_n = int64_t(max_batch_) * geom_.k * geom_.oh * geom_.ow;
  const bool steps = y_type_ == DType::kInt8;
  const float rel = y_type_ == DType::kFloat16 ? 1e-2f : 1e-4f, abs_frac = y_type_ == DType::kFloat16 ? 2e-3f : 1e-5f;
  // [max |ref| bits, pad, bad count, moved count]: one buffer, one copy back
  DeviceBuffer scratch(4 * sizeof(unsigned long long), where);
  TRTCORE_CUDA_CHECK(where, cudaMemsetAsync(scratch.get(), 0, scratch.bytes(), stream));
  unsigned* max_bits = static_cast<unsigned*>(scratch.get());
  unsigned long long* counts = static_cast<unsigned long long*>(scratch.get()) + 2;
  const auto go = [&](auto t) {
    using T = decltype(t);
    const T* ref = static_cast<const T*>(check_ref_.get());
    const unsigned blocks = std::min(grid_for(y_n), kCompareBlocks);
    abs_max_kernel<T><<<blocks, kBlockSize, 0, stream>>>(ref, y_n, max_bits);
    compare_kernel<T><<<blocks, kBlockSize, 0, stream>>>(ref, static_cast<const T*>(y_got.get()), y_n, steps,
                                                                rel, abs_frac, max_bits, counts);
  };
  if (y_type_ == DType::kInt8) go(int8_t{});
  else if (y_type_ == DType::kFloat16) go(__half{});
  else go(float{});
  TRTCORE_CUDA_LAUNCH_CHECK(where, "compare_kernel");
  unsigned long long host[4] = {0, 0, 0, 0};
  TRTCORE_CUDA_CHECK(where, cudaMemcpyAsync(host, scratch.get(), sizeof(host), cudaMemcpyDeviceToHost, stream));
  TRTCORE_CUDA_CHECK(where, cudaStreamSynchronize(stream));
  return host[2] == 0 && (!steps || host[3] <= uint64_t(y_n) / 100);
}

void QConvKernel::drop_check_reference() {
  check_x_ = DeviceBuffer();
  check_ref_ = DeviceBuffer();
  check_r_ = DeviceBuffer();
}

// The plan of the chosen configuration at `batch`, built on first use; null when cuDNN cannot build it.
GraphPlan* QConvKernel::graph_plan_at(cudnnHandle_t h, int64_t batch) {
  auto it = graph_by_batch_.find(batch);
  if (it != graph_by_batch_.end()) return it->second;
  std::string why;
  GraphPlan* plan = graph_->plan(h, batch, graph_cfg_, &why);
  graph_by_batch_[batch] = plan;
  return plan;
}

void QConvKernel::run_graph(const std::vector<TensorView>& in, const std::vector<TensorView>& out,
                            CudaRunContext& ctx) {
  GraphPlan* plan = graph_plan_at(ctx.cudnn, in[0].shape[0]);
  if (!plan || plan->workspace() > ctx.workspace_bytes) {  // this batch runs the direct form
    launch_direct(in, out, ctx.stream);
    return;
  }
  const void* z = in.size() > 9 ? in[9].data : nullptr;
  const cudnnStatus_t s = plan->execute(ctx.cudnn, graph_ptrs(in[0].data, z, out[0].data, ctx.workspace));
  if (s != CUDNN_STATUS_SUCCESS)
    fail(ErrorKind::kRuntime, where_, ": cuDNN graph convolution ", graph_cfg_.text(), " failed: ",
         cudnnGetErrorString(s));
}

}  // namespace trtcore::cuda
