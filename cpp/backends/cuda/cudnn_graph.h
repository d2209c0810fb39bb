// Convolutions on cuDNN's graph (backend) API: one operation graph conv(x, w) [+ bias] [+ residual] [activation]
// on NHWC activations and KRSC weights, its engine configurations (heuristic modes A and B, then the fallback list),
// and finalized execution plans. An engine configuration is identified by its engine's global index and knob
// choices (EngineConfig), so a plan loaded later rebuilds exactly the configuration that was timed at build.
// Only cuDNN and the CUDA runtime are used here; errors throw trtcore::Error naming `where`.
#pragma once
#include <cudnn.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace trtcore::cuda {

// One backend descriptor (move-only; destruction never throws).
class BackendDesc {
 public:
  BackendDesc() = default;
  BackendDesc(cudnnBackendDescriptorType_t type, const std::string& where);
  // Non-throwing creation (for run-time paths that report a status instead).
  static cudnnStatus_t create(cudnnBackendDescriptorType_t type, BackendDesc* out);
  ~BackendDesc() { reset(); }
  BackendDesc(BackendDesc&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  BackendDesc& operator=(BackendDesc&& o) noexcept {
    if (this != &o) {
      reset();
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  BackendDesc(const BackendDesc&) = delete;
  BackendDesc& operator=(const BackendDesc&) = delete;
  cudnnBackendDescriptor_t get() const { return d_; }
  void reset();

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

// The activation ending the graph (cuDNN pointwise modes; Clip and LeakyRelu are RELU_FWD with clips or a slope).
enum class GraphActivation { kNone, kRelu, kClip, kLeakyRelu, kSigmoid, kTanh, kSwish };

// What one graph convolution computes: y = act(conv(x, w) [* scale] [+ bias] [+ residual_scale * z]). Activations
// are stored NHWC (dense), the filter KRSC, the scale and bias [K].
struct GraphConvSpec {
  cudnnDataType_t data = CUDNN_DATA_HALF;  // x and w: HALF, FLOAT with TF32 allowed, or INT8 (INT32 accumulation)
  cudnnDataType_t out = CUDNN_DATA_HALF;   // y (INT8 output saturates after rounding to nearest)
  cudnnDataType_t residual_data = CUDNN_DATA_HALF;  // z
  cudnnDataType_t epilogue_data = CUDNN_DATA_HALF;  // scale and bias
  int64_t n = 0, c = 0, h = 0, w = 0;      // input
  int64_t k = 0, r = 0, s = 0;             // filter
  int64_t out_h = 0, out_w = 0;
  int64_t stride[2] = {1, 1}, dilation[2] = {1, 1}, pad_begin[2] = {0, 0}, pad_end[2] = {0, 0};
  bool scale = false, bias = false, residual = false;
  double residual_scale = 1.0;
  GraphActivation act = GraphActivation::kNone;
  double lower_clip = 0.0, upper_clip = 0.0, slope = 0.0;  // kClip: [lower, upper]; kLeakyRelu: slope

  // Every operand in one floating type (the float convolutions).
  void set_data(cudnnDataType_t t) { data = out = residual_data = epilogue_data = t; }
};

// Identity of an engine configuration: text "e<global index>[.k<knob type>_<value>]...".
struct EngineConfig {
  int64_t engine = -1;
  std::vector<std::pair<int64_t, int64_t>> knobs;  // (cudnnBackendKnobType_t, value), in cuDNN's order
  std::string text() const;
  static bool parse(const std::string& text, EngineConfig* out);  // false for malformed text
  bool operator==(const EngineConfig& o) const { return engine == o.engine && knobs == o.knobs; }
};

// Device pointers of one execution.
struct GraphConvPtrs {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;  // when the spec has a bias
  const void* z = nullptr;     // when the spec has a residual
  void* y = nullptr;
  const void* scale = nullptr;  // when the spec has a scale
  void* workspace = nullptr;
};

struct GraphOps;  // the finalized operation graph and the descriptors it references

// A finalized execution plan of one engine configuration; keeps the variant pack of the last pointers it ran with.
class GraphPlan {
 public:
  GraphPlan(std::shared_ptr<const GraphOps> ops, std::vector<BackendDesc> owned, cudnnBackendDescriptor_t plan,
            EngineConfig id, size_t workspace);
  const EngineConfig& config() const { return id_; }
  size_t workspace() const { return workspace_; }
  // Enqueues the graph on the handle's stream; the status is returned, not thrown (tuning skips refusals).
  cudnnStatus_t execute(cudnnHandle_t h, const GraphConvPtrs& p);

 private:
  std::shared_ptr<const GraphOps> ops_;
  std::vector<BackendDesc> owned_;  // the engine, knob choices, configuration and plan
  cudnnBackendDescriptor_t plan_ = nullptr;
  BackendDesc pack_;
  EngineConfig id_;
  size_t workspace_ = 0;
  GraphConvPtrs packed_;  // the pointers pack_ was made with
};

class GraphConv {
 public:
  // Builds and finalizes the operation graph for `spec` on handle `h`; ok() is false (why() says why) when cuDNN
  // refuses it (e.g. an activation it cannot fuse).
  GraphConv(const GraphConvSpec& spec, cudnnHandle_t h, std::string where);
  bool ok() const { return ops_ != nullptr; }
  const std::string& why() const { return why_; }

  // Up to `max` distinct configurations cuDNN proposes, best first: heuristic mode A, then B, then the fallback
  // list; engines that accumulate in reduced precision are left out.
  std::vector<EngineConfig> candidates(size_t max) const;
  // The finalized plan of `cfg`, or null (with `why`) when this graph cannot run it.
  std::unique_ptr<GraphPlan> plan(const EngineConfig& cfg, std::string* why) const;

 private:
  void heuristic_configs(cudnnBackendHeurMode_t mode, size_t max, std::vector<EngineConfig>* out) const;

  cudnnHandle_t handle_ = nullptr;
  std::string where_, why_;
  std::shared_ptr<const GraphOps> ops_;
};

// The operation graphs and finalized plans of one convolution by batch size (the spec's n replaced by the batch),
// and by engine configuration, each built once and kept until dropped.
class GraphConvPlans {
 public:
  GraphConvPlans(const GraphConvSpec& spec, std::string where) : spec_(spec), where_(std::move(where)) {}
  const GraphConv& graph(cudnnHandle_t h, int64_t batch);
  // The plan of `cfg` at `batch`, or null (with `why`) when cuDNN cannot build it.
  GraphPlan* plan(cudnnHandle_t h, int64_t batch, const EngineConfig& cfg, std::string* why);
  // Drops the plans of `batch` other than `cfg`'s (all of them when cfg is null).
  void keep(int64_t batch, const EngineConfig* cfg);

 private:
  GraphConvSpec spec_;
  std::string where_;
  std::map<int64_t, std::unique_ptr<GraphConv>> ops_;
  std::map<int64_t, std::map<std::string, std::unique_ptr<GraphPlan>>> plans_;
};

}  // namespace trtcore::cuda
