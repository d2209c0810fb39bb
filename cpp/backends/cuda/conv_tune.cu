// The Conv kernel's tuning (see conv_kernel.h): every candidate form timed on the real shapes, the fastest kept.
#include <algorithm>
#include <limits>

#include "backends/cuda/conv_kernel.h"

namespace trtcore::cuda {

// Milliseconds per call of one candidate (infinity when cuDNN refuses it or its scratch exceeds `limit`).
// `scratch`: what the candidate needs from the shared workspace.
float ConvKernel::time_choice(const ConvChoice& c, BatchDescs& d, ConvArgs a, size_t limit, CudaInitContext& ctx,
                              size_t* scratch) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  *scratch = c.form == ConvForm::kGemm ? LtGemm::kWorkspaceBytes : 0;
  if (c.form == ConvForm::kGraph) {
    std::string why;
    d.graph = graph_plan(ctx.cudnn, geom_.x_shape[0], c.graph, &why);
    if (!d.graph || d.graph->workspace() > limit) return kInf;
    *scratch = d.graph->workspace();
  } else if (!own_kernel(c.form) && c.form != ConvForm::kGemm) {
    if (!set_math(c.math)) return kInf;
    size_t bytes = 0;
    if (workspace_for(ctx.cudnn, d, c.layout, c.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > limit) return kInf;
    d.ws = bytes;
    *scratch = bytes + staging_bytes(geom_.x_shape[0], c.layout);
  }
  if (enqueue(c, d, a, ctx.cudnn, ctx.stream) != CUDNN_STATUS_SUCCESS) {
    static_cast<void>(cudaGetLastError());
    return kInf;
  }
  TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
  // Plans run as CUDA graphs, where launch overhead vanishes: time a captured graph of the repetitions, so
  // forms with more (small) launches are not penalised for host time; plain launches if capture is refused.
  constexpr int kReps = 5;
  cudaGraphExec_t exec = nullptr;
  if (cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
    bool ok = true;
    for (int i = 0; i < kReps && ok; ++i) ok = enqueue(c, d, a, ctx.cudnn, ctx.stream) == CUDNN_STATUS_SUCCESS;
    cudaGraph_t graph = nullptr;
    ok = cudaStreamEndCapture(ctx.stream, &graph) == cudaSuccess && ok;
    if (ok && cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) exec = nullptr;
    if (graph) static_cast<void>(cudaGraphDestroy(graph));
    static_cast<void>(cudaGetLastError());
  }
  auto launch = [&]() -> bool {
    if (exec) return cudaGraphLaunch(exec, ctx.stream) == cudaSuccess;
    for (int i = 0; i < kReps; ++i)
      if (enqueue(c, d, a, ctx.cudnn, ctx.stream) != CUDNN_STATUS_SUCCESS) return false;
    return true;
  };
  float ms = kInf;
  gpu::Event start(where_), stop(where_);
  if (launch()) {  // warm-up of the graph itself
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(start.get(), ctx.stream));
    const bool ok = launch();
    TRTCORE_CUDA_CHECK(where_, cudaEventRecord(stop.get(), ctx.stream));
    TRTCORE_CUDA_CHECK(where_, cudaEventSynchronize(stop.get()));
    if (ok) ms = gpu::elapsed_ms(start, stop, where_);
  }
  TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
  if (exec) static_cast<void>(cudaGraphExecDestroy(exec));
  return ms / kReps;
}

// Zeroed operands at the maximum batch, the output at the Concat's pitch when it is a slice, and a workspace of the
// largest staging plus what a candidate may use (a quarter of the free memory at most).
ConvKernel::TuneBuffers ConvKernel::tune_buffers(const Node& node, const Graph& g, CudaInitContext& ctx) {
  TuneBuffers t;
  size_t free_bytes = 0, total_bytes = 0;
  TRTCORE_CUDA_CHECK(where_, cudaMemGetInfo(&free_bytes, &total_bytes));
  t.limit = std::min(ctx.workspace_limit, free_bytes / 4);
  const int64_t max_batch = geom_.x_shape[0];
  const size_t y_bytes = size_t(numel(geom_.cudnn_y_shape(max_batch))) * elem_;
  t.x = DeviceBuffer(size_t(numel(geom_.cudnn_x_shape(max_batch))) * elem_, where_ + " (tuning input)");
  // A channel-slice output spans the whole Concat buffer's pitch.
  t.y = DeviceBuffer(y_bytes / size_t(channels_) * size_t(out_pitch_), where_ + " (tuning output)");
  t.z = DeviceBuffer(has_residual_ ? y_bytes : 0, where_ + " (tuning residual)");
  t.b = DeviceBuffer(size_t(channels_) * elem_, where_ + " (tuning bias)");
  const size_t staging = staging_bytes(max_batch, nhwc_possible_ ? ConvLayout::kNhwc : ConvLayout::kNchw);
  t.ws = DeviceBuffer(staging + t.limit, where_ + " (tuning workspace)");
  for (const DeviceBuffer* buf : {&t.x, &t.y, &t.z, &t.b})
    if (buf->bytes()) TRTCORE_CUDA_CHECK(where_, cudaMemset(buf->get(), 0, buf->bytes()));
  const void* w = nullptr;
  if (g.value(node.inputs[1]).constant) {
    w = ctx.device_constant(node.inputs[1]);
  } else {
    t.w_tmp = DeviceBuffer(size_t(numel(w_shape_)) * elem_, where_ + " (tuning weights)");
    TRTCORE_CUDA_CHECK(where_, cudaMemset(t.w_tmp.get(), 0, t.w_tmp.bytes()));
    w = t.w_tmp.get();
  }
  ConvArgs& a = t.args;
  a.batch = max_batch;
  a.x = t.x.get();
  a.w = w;
  a.bias = t.b.get();
  a.z = has_residual_ ? t.z.get() : nullptr;
  a.y = t.y.get();
  a.ws = t.ws.as<char>();
  a.ws_bytes = t.ws.bytes();
  a.lt = ctx.cublaslt;
  return t;
}

// Every candidate form timed in turn (the direct depthwise kernel, the GEMM form, then cudnnFind's best
// algorithms of each layout, split and fused); those that cannot run are left out.
std::vector<ConvKernel::Timed> ConvKernel::time_candidates(CudaInitContext& ctx, BatchDescs& d,
                                                            const TuneBuffers& t) {
  const ConvArgs& a = t.args;
  std::vector<Timed> timed;
  auto add = [&](const ConvChoice& c) {
    size_t scratch = 0;
    const float ms = time_choice(c, d, a, t.limit, ctx, &scratch);
    ctx.record(tactic_of(c), ms);
    if (ms < std::numeric_limits<float>::infinity()) timed.push_back({c, ms, scratch});
  };
  if (depthwise_) {
    ConvChoice dw;
    dw.form = ConvForm::kDepthwise;
    add(dw);
    if (depthwise_pixel_possible()) {  // one pixel a thread, beside the size-picked kernel
      dw.dw_tile = DepthwiseTile::kPixel;
      add(dw);
    }
  }
  if (small_) {
    ConvChoice sc;
    sc.form = ConvForm::kSmall;
    add(sc);
  }
  if (gemm_possible()) {
    make_gemm();
    gemm_->tune(ctx.cublaslt, ctx.stream, gemm_shape(a.batch), gemm_args(a));
    ConvChoice gc;
    gc.form = ConvForm::kGemm;
    add(gc);
  }

  if (graph_possible())
    for (const ConvChoice& c : graph_candidates(ctx, t.limit)) add(c);

  // cudnnFind ranks algorithms for the bare convolution; `x` is sized for the padded shape and `y` for the
  // output, so both serve as NCHW or NHWC operands of any layout (contents do not matter for timing).
  std::vector<ConvChoice> cands;
  // NHWC-stored depthwise convolutions run our kernel only (cuDNN's NHWC grouped kernels are slow).
  if (nhwc_possible_ && !(fixed_nhwc_ && depthwise_))
    cands = find_candidates(ConvLayout::kNhwc, d, a, t.ws.get(), t.limit, ctx);
  // NHWC-stored operands fix the layout: an NCHW form would need transforms the tuner does not model.
  if (!fixed_nhwc_)
    for (const ConvChoice& c : find_candidates(ConvLayout::kNchw, d, a, t.ws.get(), t.limit, ctx)) cands.push_back(c);
  for (const ConvChoice& base : cands) {
    for (ConvForm form : {ConvForm::kSplit, ConvForm::kFused}) {
      if (form == ConvForm::kFused && (!fusable_ || !needs_epilogue())) continue;
      ConvChoice c = base;
      c.form = form;
      add(c);
    }
  }
  return timed;
}

// The fastest timed candidate, unless one within kScratchTolerance of it needs less scratch memory (the shared
// workspace is the largest scratch of any layer, so big-scratch tactics cost memory for a gain in the noise).
bool ConvKernel::choose_timed(const std::vector<Timed>& timed) {
  constexpr float kScratchTolerance = 1.03f;
  bool found = false;
  float best = std::numeric_limits<float>::infinity();
  for (const Timed& c : timed) best = std::min(best, c.ms);
  size_t least = std::numeric_limits<size_t>::max();
  for (const Timed& c : timed)
    if (c.ms <= best * kScratchTolerance && c.scratch < least) {
      least = c.scratch;
      choice_ = c.choice;
      found = true;
    }
  return found;
}

// Times the candidates; false when none runs (the caller falls back to the heuristic). A graph-API engine is kept
// only when its output matches the fastest other form's on random operands.
bool ConvKernel::tune(const Node& node, const Graph& g, CudaInitContext& ctx, BatchDescs& d) {
  TuneBuffers t = tune_buffers(node, g, ctx);
  if (nhwc_possible_) prepare_nhwc(node, ctx);
  std::vector<Timed> timed = time_candidates(ctx, d, t);
  bool found = choose_timed(timed);
  while (found && choice_.form == ConvForm::kGraph) {
    const ConvChoice graph = choice_;
    const Timed* ref = nullptr;
    for (const Timed& c : timed)
      if (c.choice.form != ConvForm::kGraph && (!ref || c.ms < ref->ms)) ref = &c;
    if (ref && graph_matches(graph, ref->choice, d, t, ctx)) break;
    timed.erase(std::remove_if(timed.begin(), timed.end(),
                               [&](const Timed& c) { return c.choice.form == ConvForm::kGraph &&
                                                            c.choice.graph == graph.graph; }),
                timed.end());
    found = choose_timed(timed);
  }
  TRTCORE_CUDA_CHECK(where_, cudaStreamSynchronize(ctx.stream));
  const int64_t max_batch = geom_.x_shape[0];
  if (found && choice_.form == ConvForm::kGraph) {
    std::string why;
    d.graph = graph_plan(ctx.cudnn, max_batch, choice_.graph, &why);
    keep_graph_plan(max_batch, &choice_.graph);
  } else {
    d.graph = nullptr;
    keep_graph_plan(max_batch, nullptr);
  }
  if (!found) return false;
  if (choice_.layout != ConvLayout::kNhwc || own_kernel(choice_.form))
    w_nhwc_ = DeviceBuffer();  // the NHWC weight copy is not needed
  return true;
}

}  // namespace trtcore::cuda
