#include <cmath>

#include "trtcore/error.h"
#include "trtcore/graph.h"

namespace trtcore {

template <class T>
static const T* typed(const std::map<std::string, AttrValue>& m, const std::string& name, const char* want) {
  auto it = m.find(name);
  if (it == m.end()) return nullptr;
  if (const T* v = std::get_if<T>(&it->second)) return v;
  fail(ErrorKind::kInvalidArgument, "attribute '", name, "' is not ", want);
}

int64_t Attrs::get_int(const std::string& name, int64_t def) const {
  const int64_t* v = typed<int64_t>(map_, name, "an int");
  return v ? *v : def;
}

float Attrs::get_float(const std::string& name, float def) const {
  auto it = map_.find(name);
  if (it != map_.end())
    if (const int64_t* i = std::get_if<int64_t>(&it->second)) return float(*i);
  const float* v = typed<float>(map_, name, "a float");
  return v ? *v : def;
}

std::string Attrs::get_string(const std::string& name, const std::string& def) const {
  const std::string* v = typed<std::string>(map_, name, "a string");
  return v ? *v : def;
}

std::vector<int64_t> Attrs::get_ints(const std::string& name, const std::vector<int64_t>& def) const {
  const std::vector<int64_t>* v = typed<std::vector<int64_t>>(map_, name, "a list of ints");
  return v ? *v : def;
}

std::vector<float> Attrs::get_floats(const std::string& name, const std::vector<float>& def) const {
  const std::vector<float>* v = typed<std::vector<float>>(map_, name, "a list of floats");
  return v ? *v : def;
}

TensorPtr Attrs::get_tensor(const std::string& name) const {
  const TensorPtr* v = typed<TensorPtr>(map_, name, "a tensor");
  return v ? *v : nullptr;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "Relu";
    case Activation::kLeakyRelu: return "LeakyRelu";
    case Activation::kClip: return "Clip";
    case Activation::kSigmoid: return "Sigmoid";
    case Activation::kHardSigmoid: return "HardSigmoid";
    case Activation::kHardSwish: return "HardSwish";
    case Activation::kTanh: return "Tanh";
    case Activation::kSiLU: return "SiLU";
  }
  return "none";
}

Activation activation_from_name(const std::string& name) {
  for (Activation a : {Activation::kNone, Activation::kRelu, Activation::kLeakyRelu, Activation::kClip,
                       Activation::kSigmoid, Activation::kHardSigmoid, Activation::kHardSwish, Activation::kTanh,
                       Activation::kSiLU})
    if (name == activation_name(a)) return a;
  fail(ErrorKind::kInvalidArgument, "unknown fused activation '", name, "'");
}

FusedActivation FusedActivation::from(const Attrs& attrs) {
  FusedActivation f;
  f.kind = activation_from_name(attrs.get_string("activation", "none"));
  f.alpha = attrs.get_float("activation_alpha", 0.f);
  f.beta = attrs.get_float("activation_beta", 0.f);
  return f;
}

// min(1, max(0, y)) by comparisons: fmax/fmin would drop a NaN, ONNX's HardSigmoid/HardSwish keep it
static float clamp01_nan(float y) { return y < 0.f ? 0.f : (y > 1.f ? 1.f : y); }

float FusedActivation::apply(float x) const {
  switch (kind) {
    case Activation::kNone: return x;
    case Activation::kRelu: return x < 0.f ? 0.f : x;  // NaN propagates
    case Activation::kLeakyRelu: return x >= 0.f ? x : alpha * x;
    case Activation::kClip: {  // alpha=min, beta=max; min > max gives max, as ONNX specifies
      const float y = x < alpha ? alpha : x;
      return y > beta ? beta : y;
    }
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case Activation::kHardSigmoid: return clamp01_nan(alpha * x + beta);
    case Activation::kHardSwish: return x * clamp01_nan(x / 6.f + 0.5f);
    case Activation::kTanh: return std::tanh(x);
    case Activation::kSiLU: return x / (1.f + std::exp(-x));
  }
  return x;
}

std::string Node::layer_label() const {
  std::string label = op;
  // the fused residual: Conv's input 3, QConv's input 9
  if ((op == "Conv" && inputs.size() > 3 && inputs[3] >= 0) || (op == "QConv" && inputs.size() > 9 && inputs[9] >= 0))
    label += "+Add";
  const std::string act = attrs.get_string("activation", "none");
  if (act != "none") label += "+" + act;
  // Fused elementwise chains list their member ops ("FusedElementwise+Div+Erf+Add+Mul+Mul").
  const std::string members = attrs.get_string("fused_ops", "");
  if (!members.empty()) label += "+" + members;
  return label;
}

}  // namespace trtcore
