// cuDNN graph-API convolutions (see cudnn_graph.h): the operation graph, engine configurations and plans.
#include "backends/cuda/cudnn_graph.h"

#include <algorithm>
#include <cstdlib>

#include "trtcore/error.h"

namespace trtcore::cuda {

// Every descriptor of the graph stays alive as long as a plan made from it.
struct GraphOps {
  std::vector<BackendDesc> owned;
  cudnnBackendDescriptor_t graph = nullptr;
  std::vector<int64_t> uids;  // of the tensors a variant pack binds
};

namespace {

// Tensor unique ids in the variant pack; virtual intermediates count up from kVirtual.
enum : int64_t { kUidX = 1, kUidW, kUidBias, kUidZ, kUidY, kUidScale, kVirtual = 100 };
constexpr size_t kMaxEngineConfigs = 32;
constexpr size_t kMaxKnobs = 64;

const char* status_text(cudnnStatus_t s) { return cudnnGetErrorString(s); }

using Raw = cudnnBackendDescriptor_t;

// Records the first refusal of a sequence of attribute calls; later calls are skipped. Descriptor creation
// failures (out of memory) throw. Descriptors made go to `owned`.
class Builder {
 public:
  Builder(const std::string& where, std::vector<BackendDesc>* owned) : where_(where), owned_(owned) {}
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }

  Raw make(cudnnBackendDescriptorType_t t) {
    owned_->emplace_back(t, where_);
    return owned_->back().get();
  }
  void set(Raw d, cudnnBackendAttributeName_t a, cudnnBackendAttributeType_t t, int64_t n, const void* v,
           const char* what) {
    if (ok()) note(cudnnBackendSetAttribute(d, a, t, n, v), what);
  }
  void i64s(Raw d, cudnnBackendAttributeName_t a, int64_t n, const int64_t* v, const char* what) {
    set(d, a, CUDNN_TYPE_INT64, n, v, what);
  }
  void desc(Raw d, cudnnBackendAttributeName_t a, Raw v, const char* what) {
    set(d, a, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &v, what);
  }
  void finalize(Raw d, const char* what) {
    if (ok()) note(cudnnBackendFinalize(d), what);
  }

 private:
  void note(cudnnStatus_t s, const char* what) {
    if (s != CUDNN_STATUS_SUCCESS) err_ = std::string(what) + ": " + status_text(s);
  }
  std::string where_, err_;
  std::vector<BackendDesc>* owned_;
};

// A 4-D tensor [n, c, h, w] stored NHWC (for the filter: KRSC), or a per-channel [1, c, 1, 1] vector.
Raw tensor(Builder& b, int64_t uid, cudnnDataType_t dt, int64_t n, int64_t c, int64_t h, int64_t w, bool virt) {
  const Raw d = b.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  const int64_t dims[4] = {n, c, h, w}, strides[4] = {c * h * w, 1, w * c, c}, align = 16;
  b.set(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, "tensor data type");
  b.i64s(d, CUDNN_ATTR_TENSOR_DIMENSIONS, 4, dims, "tensor dimensions");
  b.i64s(d, CUDNN_ATTR_TENSOR_STRIDES, 4, strides, "tensor strides");
  b.i64s(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, 1, &uid, "tensor id");
  b.i64s(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, 1, &align, "tensor alignment");
  b.set(d, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &virt, "tensor virtual flag");
  b.finalize(d, "tensor");
  return d;
}

// y = mode(x [, alpha2 * operand]) computed in float; the activation's clips and slope come from `spec`.
Raw pointwise(Builder& b, cudnnPointwiseMode_t mode, Raw x, Raw operand, Raw y, const GraphConvSpec& spec,
              float alpha2 = 1.f) {
  const Raw pw = b.make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
  const cudnnDataType_t prec = CUDNN_DATA_FLOAT;
  b.set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode, "pointwise mode");
  b.set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec, "pointwise precision");
  if (mode == CUDNN_POINTWISE_RELU_FWD && spec.act != GraphActivation::kRelu) {
    const double lower = spec.act == GraphActivation::kClip ? spec.lower_clip : 0.0;
    b.set(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &lower, "relu lower clip");
    if (spec.act == GraphActivation::kClip)
      b.set(pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &spec.upper_clip, "relu upper clip");
    if (spec.act == GraphActivation::kLeakyRelu)
      b.set(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &spec.slope, "relu slope");
  }
  if (mode == CUDNN_POINTWISE_SWISH_FWD) {  // x * sigmoid(beta * x) with beta 1: SiLU
    const double beta = 1.0;
    b.set(pw, CUDNN_ATTR_POINTWISE_SWISH_BETA, CUDNN_TYPE_DOUBLE, 1, &beta, "swish beta");
  }
  b.finalize(pw, "pointwise descriptor");
  const Raw op = b.make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
  b.desc(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw, "pointwise op");
  b.desc(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, "pointwise x");
  if (operand) b.desc(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, operand, "pointwise operand");
  if (operand && alpha2 != 1.f)
    b.set(op, CUDNN_ATTR_OPERATION_POINTWISE_ALPHA2, CUDNN_TYPE_FLOAT, 1, &alpha2, "pointwise operand scale");
  b.desc(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, "pointwise y");
  b.finalize(op, "pointwise op");
  return op;
}

// The convolution operation writing `y` (FLOAT accumulation; INT32 for int8 operands).
Raw conv_op(Builder& b, const GraphConvSpec& spec, Raw x, Raw w, Raw y) {
  const Raw cd = b.make(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  const cudnnDataType_t comp = spec.data == CUDNN_DATA_INT8 ? CUDNN_DATA_INT32 : CUDNN_DATA_FLOAT;
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const int64_t dims = 2;
  b.set(cd, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp, "conv compute type");
  b.set(cd, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, "conv mode");
  b.i64s(cd, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, 1, &dims, "conv spatial dims");
  b.i64s(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS, 2, spec.dilation, "conv dilations");
  b.i64s(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, 2, spec.stride, "conv strides");
  b.i64s(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, 2, spec.pad_begin, "conv pre paddings");
  b.i64s(cd, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, 2, spec.pad_end, "conv post paddings");
  b.finalize(cd, "conv descriptor");
  const Raw op = b.make(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
  const float alpha = 1.f, beta = 0.f;
  b.desc(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, x, "conv x");
  b.desc(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, w, "conv w");
  b.desc(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, y, "conv y");
  b.desc(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, cd, "conv op");
  b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha, "conv alpha");
  b.set(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta, "conv beta");
  b.finalize(op, "conv op");
  return op;
}

cudnnPointwiseMode_t activation_mode(GraphActivation a) {
  switch (a) {
    case GraphActivation::kSigmoid: return CUDNN_POINTWISE_SIGMOID_FWD;
    case GraphActivation::kTanh: return CUDNN_POINTWISE_TANH_FWD;
    case GraphActivation::kSwish: return CUDNN_POINTWISE_SWISH_FWD;
    default: return CUDNN_POINTWISE_RELU_FWD;
  }
}

// conv -> [* scale] -> [+ bias] -> [+ residual] -> [activation] -> y; intermediates are virtual FLOAT tensors.
std::shared_ptr<GraphOps> build_ops(const GraphConvSpec& spec, cudnnHandle_t h, const std::string& where,
                                    std::string* why) {
  auto ops = std::make_shared<GraphOps>();
  Builder b(where, &ops->owned);
  const cudnnDataType_t dt = spec.data;
  const Raw x = tensor(b, kUidX, dt, spec.n, spec.c, spec.h, spec.w, false);
  const Raw w = tensor(b, kUidW, dt, spec.k, spec.c, spec.r, spec.s, false);
  const Raw y = tensor(b, kUidY, spec.out, spec.n, spec.k, spec.out_h, spec.out_w, false);
  ops->uids = {kUidX, kUidW};
  const int epilogue =
      int(spec.scale) + int(spec.bias) + int(spec.residual) + int(spec.act != GraphActivation::kNone);
  int64_t next_virtual = kVirtual;
  auto virt = [&] {
    return tensor(b, next_virtual++, CUDNN_DATA_FLOAT, spec.n, spec.k, spec.out_h, spec.out_w, true);
  };
  int left = epilogue;
  Raw cur = left ? virt() : y;
  std::vector<Raw> op_list{conv_op(b, spec, x, w, cur)};
  auto add_step = [&](cudnnPointwiseMode_t mode, Raw operand, float alpha2 = 1.f) {
    const Raw out = --left ? virt() : y;
    op_list.push_back(pointwise(b, mode, cur, operand, out, spec, alpha2));
    cur = out;
  };
  if (spec.scale) {
    add_step(CUDNN_POINTWISE_MUL, tensor(b, kUidScale, spec.epilogue_data, 1, spec.k, 1, 1, false));
    ops->uids.push_back(kUidScale);
  }
  if (spec.bias) {
    add_step(CUDNN_POINTWISE_ADD, tensor(b, kUidBias, spec.epilogue_data, 1, spec.k, 1, 1, false));
    ops->uids.push_back(kUidBias);
  }
  if (spec.residual) {
    add_step(CUDNN_POINTWISE_ADD,
             tensor(b, kUidZ, spec.residual_data, spec.n, spec.k, spec.out_h, spec.out_w, false),
             float(spec.residual_scale));
    ops->uids.push_back(kUidZ);
  }
  if (spec.act != GraphActivation::kNone) add_step(activation_mode(spec.act), nullptr);
  ops->uids.push_back(kUidY);
  const Raw graph = b.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  b.set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, int64_t(op_list.size()),
        op_list.data(), "operation graph ops");
  b.set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, "operation graph handle");
  b.finalize(graph, "operation graph");
  if (!b.ok()) {
    *why = b.error();
    return nullptr;
  }
  ops->graph = graph;
  return ops;
}

}  // namespace

BackendDesc::BackendDesc(cudnnBackendDescriptorType_t type, const std::string& where) {
  const cudnnStatus_t s = cudnnBackendCreateDescriptor(type, &d_);
  if (s != CUDNN_STATUS_SUCCESS)
    fail(ErrorKind::kRuntime, where, ": cudnnBackendCreateDescriptor(", int(type), ") failed: ", status_text(s));
}

cudnnStatus_t BackendDesc::create(cudnnBackendDescriptorType_t type, BackendDesc* out) {
  out->reset();
  return cudnnBackendCreateDescriptor(type, &out->d_);
}

void BackendDesc::reset() {
  if (d_) static_cast<void>(cudnnBackendDestroyDescriptor(d_));
  d_ = nullptr;
}

std::string EngineConfig::text() const {
  std::string t = "e" + std::to_string(engine);
  for (const auto& [type, value] : knobs) t += ".k" + std::to_string(type) + "_" + std::to_string(value);
  return t;
}

bool EngineConfig::parse(const std::string& text, EngineConfig* out) {
  EngineConfig c;
  size_t pos = 0;
  auto number = [&](int64_t* v) {
    const char* begin = text.c_str() + pos;
    char* end = nullptr;
    *v = std::strtoll(begin, &end, 10);
    if (end == begin) return false;
    pos += size_t(end - begin);
    return true;
  };
  if (text.empty() || text[0] != 'e') return false;
  pos = 1;
  if (!number(&c.engine) || c.engine < 0) return false;
  while (pos < text.size()) {
    if (text.compare(pos, 2, ".k") != 0) return false;
    pos += 2;
    int64_t type = 0, value = 0;
    if (!number(&type) || pos >= text.size() || text[pos] != '_') return false;
    ++pos;
    if (!number(&value)) return false;
    c.knobs.emplace_back(type, value);
  }
  *out = std::move(c);
  return true;
}

GraphPlan::GraphPlan(std::shared_ptr<const GraphOps> ops, std::vector<BackendDesc> owned,
                     cudnnBackendDescriptor_t plan, EngineConfig id, size_t workspace)
    : ops_(std::move(ops)), owned_(std::move(owned)), plan_(plan), id_(std::move(id)), workspace_(workspace) {}

cudnnStatus_t GraphPlan::execute(cudnnHandle_t h, const GraphConvPtrs& p) {
  const bool same = pack_.get() && p.x == packed_.x && p.w == packed_.w && p.bias == packed_.bias &&
                    p.z == packed_.z && p.y == packed_.y && p.scale == packed_.scale &&
                    p.workspace == packed_.workspace;
  if (!same) {
    pack_.reset();
    BackendDesc pack;
    cudnnStatus_t s = BackendDesc::create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack);
    const void* by_uid[] = {p.x, p.w, p.bias, p.z, p.y, p.scale};  // indexed by uid - kUidX
    std::vector<void*> ptrs;
    for (int64_t uid : ops_->uids) ptrs.push_back(const_cast<void*>(by_uid[uid - kUidX]));
    void* ws = p.workspace;
    if (s == CUDNN_STATUS_SUCCESS)
      s = cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
                                   int64_t(ops_->uids.size()), ops_->uids.data());
    if (s == CUDNN_STATUS_SUCCESS)
      s = cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                                   int64_t(ptrs.size()), ptrs.data());
    if (s == CUDNN_STATUS_SUCCESS)
      s = cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws);
    if (s == CUDNN_STATUS_SUCCESS) s = cudnnBackendFinalize(pack.get());
    if (s != CUDNN_STATUS_SUCCESS) return s;
    pack_ = std::move(pack);
    packed_ = p;
  }
  return cudnnBackendExecute(h, plan_, pack_.get());
}

GraphConv::GraphConv(const GraphConvSpec& spec, cudnnHandle_t h, std::string where)
    : handle_(h), where_(std::move(where)) {
  ops_ = build_ops(spec, h, where_, &why_);
}

namespace {

// The identity of a configuration cuDNN proposed; `reduced` when its engine accumulates in reduced precision.
bool describe(Builder& b, Raw cfg, EngineConfig* id, bool* reduced) {
  Raw eng = b.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  int64_t n = 0;
  if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &eng) ||
      cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &id->engine))
    return false;
  cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
  int64_t nn = 0;
  if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                               CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, notes))
    nn = 0;
  *reduced = std::find(notes, notes + nn, CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION) != notes + nn;
  std::vector<Raw> knobs;
  for (size_t i = 0; i < kMaxKnobs; ++i) knobs.push_back(b.make(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR));
  int64_t nk = 0;  // a configuration without knobs may report an empty list or none
  if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                               int64_t(knobs.size()), &nk, knobs.data()))
    nk = 0;
  id->knobs.clear();
  for (int64_t i = 0; i < std::min<int64_t>(nk, int64_t(knobs.size())); ++i) {
    cudnnBackendKnobType_t type{};
    int64_t value = 0;
    if (cudnnBackendGetAttribute(knobs[size_t(i)], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &n,
                                 &type) ||
        cudnnBackendGetAttribute(knobs[size_t(i)], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &n,
                                 &value))
      return false;
    id->knobs.emplace_back(int64_t(type), value);
  }
  return true;
}

}  // namespace

void GraphConv::heuristic_configs(cudnnBackendHeurMode_t mode, size_t max, std::vector<EngineConfig>* out) const {
  std::vector<BackendDesc> owned;
  Builder b(where_, &owned);
  const Raw heur = b.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  b.desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, ops_->graph, "heuristics graph");
  b.set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode, "heuristics mode");
  b.finalize(heur, "heuristics");
  if (!b.ok()) return;
  std::vector<Raw> cfgs;
  for (size_t i = 0; i < kMaxEngineConfigs; ++i) cfgs.push_back(b.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
  int64_t got = 0;
  if (cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                               int64_t(cfgs.size()), &got, cfgs.data()) != CUDNN_STATUS_SUCCESS)
    return;
  for (int64_t i = 0; i < std::min<int64_t>(got, int64_t(cfgs.size())) && out->size() < max; ++i) {
    EngineConfig id;
    bool reduced = false;
    if (!describe(b, cfgs[size_t(i)], &id, &reduced) || reduced) continue;
    if (std::find(out->begin(), out->end(), id) == out->end()) out->push_back(std::move(id));
  }
}

std::vector<EngineConfig> GraphConv::candidates(size_t max) const {
  std::vector<EngineConfig> out;
  if (!ok()) return out;
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_B, CUDNN_HEUR_MODE_FALLBACK})
    if (out.size() < max) heuristic_configs(mode, max, &out);
  return out;
}

std::unique_ptr<GraphPlan> GraphConv::plan(const EngineConfig& cfg, std::string* why) const {
  if (!ok()) {
    *why = why_;
    return nullptr;
  }
  std::vector<BackendDesc> owned;
  Builder b(where_, &owned);
  const Raw eng = b.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
  b.desc(eng, CUDNN_ATTR_ENGINE_OPERATION_GRAPH, ops_->graph, "engine graph");
  b.i64s(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, 1, &cfg.engine, "engine index");
  b.finalize(eng, "engine");
  std::vector<Raw> knobs;
  for (const auto& [type, value] : cfg.knobs) {
    const Raw k = b.make(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR);
    const auto kt = cudnnBackendKnobType_t(type);
    b.set(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &kt, "knob type");
    b.i64s(k, CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, 1, &value, "knob value");
    b.finalize(k, "knob choice");
    knobs.push_back(k);
  }
  const Raw ec = b.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
  b.desc(ec, CUDNN_ATTR_ENGINECFG_ENGINE, eng, "engine config engine");
  if (!knobs.empty())
    b.set(ec, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, int64_t(knobs.size()), knobs.data(),
          "engine config knobs");
  b.finalize(ec, "engine config");
  const Raw plan = b.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
  b.set(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle_, "plan handle");
  b.desc(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, ec, "plan engine config");
  b.finalize(plan, "execution plan");  // runtime-compiled engines compile here
  int64_t ws = 0, n = 0;
  if (b.ok() && cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n,
                                         &ws) != CUDNN_STATUS_SUCCESS)
    ws = -1;
  if (!b.ok() || ws < 0) {
    *why = b.ok() ? "execution plan: no workspace size" : b.error();
    return nullptr;
  }
  return std::make_unique<GraphPlan>(ops_, std::move(owned), plan, cfg, size_t(ws));
}

const GraphConv& GraphConvPlans::graph(cudnnHandle_t h, int64_t batch) {
  std::unique_ptr<GraphConv>& ops = ops_[batch];
  if (!ops) {
    GraphConvSpec s = spec_;
    s.n = batch;
    ops = std::make_unique<GraphConv>(s, h, where_);
  }
  return *ops;
}

GraphPlan* GraphConvPlans::plan(cudnnHandle_t h, int64_t batch, const EngineConfig& cfg, std::string* why) {
  std::map<std::string, std::unique_ptr<GraphPlan>>& plans = plans_[batch];
  const std::string key = cfg.text();
  auto it = plans.find(key);
  if (it != plans.end()) return it->second.get();
  std::unique_ptr<GraphPlan> p = graph(h, batch).plan(cfg, why);
  if (!p) return nullptr;
  return plans.emplace(key, std::move(p)).first->second.get();
}

void GraphConvPlans::keep(int64_t batch, const EngineConfig* cfg) {
  auto it = plans_.find(batch);
  if (it == plans_.end()) return;
  const std::string key = cfg ? cfg->text() : std::string();
  for (auto p = it->second.begin(); p != it->second.end();)
    p = p->first == key ? std::next(p) : it->second.erase(p);
}

}  // namespace trtcore::cuda
