// Serializes a trtcore Graph back to ONNX.
//
// Why the tensorrt backend re-exports instead of passing the original file: the plan must not need the ONNX file
// (only the optimized graph is stored), the batch handling and shape folding of import stay the single source of
// truth, and a plan rebuilt later builds from exactly the graph that the other backends run. The writer is small
// because the graph keeps ONNX op types and attributes; only trtcore's fused forms need expanding.
#include "onnx/onnx_writer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "onnx/onnx_fields.h"
#include "onnx/onnx_model.h"
#include "ops/fused_elementwise.h"
#include "ops/op_registry.h"
#include "trtcore/error.h"
#include "trtcore/half.h"
#include "trtcore/io.h"

namespace trtcore::onnx {
namespace {

enum class Wire : uint32_t { kVarint = 0, kFixed32 = 5, kLen = 2 };

// Appends protobuf wire-format fields. Values are little-endian on every host trtcore builds for.
class Proto {
 public:
  void i64(uint32_t f, int64_t v) {
    key(f, Wire::kVarint);
    varint(uint64_t(v));
  }
  void f32(uint32_t f, float v) {
    key(f, Wire::kFixed32);
    char b[4];
    std::memcpy(b, &v, 4);
    s_.append(b, 4);
  }
  void bytes(uint32_t f, const void* p, size_t n) {
    key(f, Wire::kLen);
    varint(n);
    s_.append(static_cast<const char*>(p), n);
  }
  void str(uint32_t f, const std::string& v) { bytes(f, v.data(), v.size()); }
  void msg(uint32_t f, const Proto& m) { bytes(f, m.s_.data(), m.s_.size()); }
  const std::string& data() const { return s_; }

 private:
  void key(uint32_t f, Wire w) { varint((uint64_t(f) << 3) | uint32_t(w)); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      s_.push_back(char(uint8_t(v) | 0x80));
      v >>= 7;
    }
    s_.push_back(char(uint8_t(v)));
  }
  std::string s_;
};

bool as_half(FloatStorage fs, DType t) { return fs == FloatStorage::kFloat16 && t == DType::kFloat32; }

// Any dtype trtcore holds (float32/16/64, int8, uint8, int32, int64, bool) as raw little-endian data.
Proto tensor_proto(const std::string& name, const Tensor& t, FloatStorage fs) {
  Proto p;
  for (int64_t d : t.shape) p.i64(field::tensor::kDims, d);
  p.str(field::tensor::kName, name);
  if (as_half(fs, t.dtype)) {
    p.i64(field::tensor::kDataType, int64_t(DType::kFloat16));
    std::vector<uint16_t> h(size_t(t.numel()));
    const float* src = t.data<float>();
    for (size_t i = 0; i < h.size(); ++i) h[i] = float_to_half(src[i]);
    p.bytes(field::tensor::kRawData, h.data(), h.size() * 2);
  } else {
    p.i64(field::tensor::kDataType, int64_t(t.dtype));
    p.bytes(field::tensor::kRawData, t.bytes.data(), t.bytes.size());
  }
  return p;
}

Proto value_info(const std::string& name, DType dtype, const Shape* shape, BatchDim batch) {
  Proto tt;
  tt.i64(field::tensor_type::kElemType, int64_t(dtype));
  if (shape) {
    Proto dims;
    for (size_t i = 0; i < shape->size(); ++i) {
      Proto d;
      if (i == 0 && batch == BatchDim::kDynamic)
        d.str(field::dim::kParam, "batch");
      else
        d.i64(field::dim::kValue, (*shape)[i]);
      dims.msg(field::shape::kDim, d);
    }
    tt.msg(field::tensor_type::kShape, dims);
  }
  Proto type;
  type.msg(field::type::kTensorType, tt);
  Proto vi;
  vi.str(field::value_info::kName, name);
  vi.msg(field::value_info::kType, type);
  return vi;
}

Proto attribute(const std::string& name, const AttrValue& v, FloatStorage fs) {
  Proto a;
  a.str(field::attribute::kName, name);
  if (auto* i = std::get_if<int64_t>(&v)) {
    a.i64(field::attribute::kI, *i);
    a.i64(field::attribute::kType, int64_t(AttrType::kInt));
  } else if (auto* f = std::get_if<float>(&v)) {
    a.f32(field::attribute::kF, *f);
    a.i64(field::attribute::kType, int64_t(AttrType::kFloat));
  } else if (auto* s = std::get_if<std::string>(&v)) {
    a.str(field::attribute::kS, *s);
    a.i64(field::attribute::kType, int64_t(AttrType::kString));
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
    for (int64_t x : *is) a.i64(field::attribute::kInts, x);
    a.i64(field::attribute::kType, int64_t(AttrType::kInts));
  } else if (auto* fl = std::get_if<std::vector<float>>(&v)) {
    for (float x : *fl) a.f32(field::attribute::kFloats, x);
    a.i64(field::attribute::kType, int64_t(AttrType::kFloats));
  } else if (auto* t = std::get_if<TensorPtr>(&v)) {
    a.msg(field::attribute::kT, tensor_proto("", **t, fs));
    a.i64(field::attribute::kType, int64_t(AttrType::kTensor));
  }
  return a;
}

// The fused-activation form of a FusedElementwise instruction (same alpha/beta meaning); kNone for other ops.
Activation activation_of(EwOp op) {
  switch (op) {
    case EwOp::kRelu: return Activation::kRelu;
    case EwOp::kLeakyRelu: return Activation::kLeakyRelu;
    case EwOp::kClip: return Activation::kClip;
    case EwOp::kSigmoid: return Activation::kSigmoid;
    case EwOp::kHardSigmoid: return Activation::kHardSigmoid;
    case EwOp::kHardSwish: return Activation::kHardSwish;
    case EwOp::kTanh: return Activation::kTanh;
    default: return Activation::kNone;
  }
}

// The IR version that introduced each opset's era; TensorRT's parser reads any of them.
int64_t ir_version_for(int64_t opset) {
  if (opset <= 9) return 4;  // 4: initializers need not be listed as graph inputs
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

class Writer {
 public:
  Writer(const Graph& g, const OnnxExportOptions& opt)
      : g_(g), opt_(opt), opset_(std::max(g.opset, opt.min_opset)), ref_(g.values.size()) {
    for (const Value& v : g.values) names_.insert(v.name);
  }

  std::string run() {
    std::vector<char> graph_input(g_.values.size(), 0), graph_output(g_.values.size(), 0), read(g_.values.size(), 0);
    for (int id : g_.inputs) graph_input[size_t(id)] = 1;
    for (int id : g_.outputs) graph_output[size_t(id)] = read[size_t(id)] = 1;
    // read[v]: read under its own name; a float32 constant read only as Resize scales in float16 storage is
    // emitted only as its float32 copy.
    for (const Node& n : g_.nodes)
      for (size_t k = 0; k < n.inputs.size() && !folded(n); ++k) {
        const int in = n.inputs[k];
        if (in >= 0 && !(half(g_.value(in).dtype) && float32_slot(n, k))) read[size_t(in)] = 1;
      }

    // Graph inputs keep their names and dtypes; in float16 storage a Cast feeds the rest of the model.
    for (int id : g_.inputs) {
      const Value& v = g_.value(id);
      const BatchDim batch = g_.has_batch_axis && !v.shape.empty() ? opt_.batch : BatchDim::kFixed;
      graph_.msg(field::graph::kInput, value_info(v.name, v.dtype, &v.shape, batch));
      ref_[size_t(id)] = v.name;
      if (half(v.dtype)) {
        ref_[size_t(id)] = fresh(v.name + "_fp16");
        cast(v.name, ref_[size_t(id)], DType::kFloat16, v.name + "_to_fp16");
      }
    }
    for (size_t id = 0; id < g_.values.size(); ++id) {
      const Value& v = g_.values[id];
      if (graph_input[id]) continue;
      if (v.is_constant()) {
        if (!read[id]) continue;
        // A name cannot be both an initializer and a graph output: the output gets an Identity/Cast below.
        ref_[id] = graph_output[id] ? fresh(v.name + "_const") : v.name;
        graph_.msg(field::graph::kInitializer, tensor_proto(ref_[id], *v.constant, opt_.floats));
      } else {
        ref_[id] = graph_output[id] && half(v.dtype) ? fresh(v.name + "_fp16") : v.name;
      }
    }
    for (const Node& n : g_.nodes)
      if (!folded(n)) emit_node(n);
    for (int id : g_.outputs) {
      const Value& v = g_.value(id);
      if (!graph_input[size_t(id)] && ref_[size_t(id)] != v.name) {
        if (half(v.dtype))
          cast(ref_[size_t(id)], v.name, DType::kFloat32, v.name + "_to_fp32");
        else
          node("Identity", v.name + "_output", {ref_[size_t(id)]}, {v.name}, {});
      }
      // Axis 0 follows the batch when it equals it at the maximum batch (as the engine reports outputs).
      const bool batched = g_.has_batch_axis && !v.shape.empty() && v.shape[0] == g_.max_batch;
      graph_.msg(field::graph::kOutput, value_info(v.name, v.dtype, &v.shape, batched ? opt_.batch : BatchDim::kFixed));
    }
    graph_.str(field::graph::kName, g_.name.empty() ? std::string("trtcore") : g_.name);

    Proto opset;
    opset.i64(field::opset::kVersion, opset_);
    Proto model;
    model.i64(field::model::kIrVersion, ir_version_for(opset_));
    model.str(field::model::kProducerName, "trtcore");
    model.msg(field::model::kOpsetImport, opset);
    model.msg(field::model::kGraph, graph_);
    return model.data();
  }

 private:
  bool half(DType t) const { return as_half(opt_.floats, t); }

  // A node whose outputs import already folded: nothing runs, its outputs are written as initializers.
  bool folded(const Node& n) const {
    for (int o : n.outputs)
      if (o >= 0 && !g_.value(o).is_constant()) return false;
    return !n.outputs.empty();
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  std::string fresh_node_name(const std::string& base) {
    std::string name = base;
    for (int k = 1; node_names_.count(name); ++k) name = base + "_" + std::to_string(k);
    node_names_.insert(name);
    return name;
  }

  void node(const std::string& op, const std::string& name, std::vector<std::string> ins,
            const std::vector<std::string>& outs, const std::vector<Proto>& attrs) {
    while (!ins.empty() && ins.back().empty()) ins.pop_back();  // trailing absent optional inputs
    Proto p;
    for (const std::string& in : ins) p.str(field::node::kInput, in);
    for (const std::string& out : outs) p.str(field::node::kOutput, out);
    p.str(field::node::kName, fresh_node_name(name));
    p.str(field::node::kOpType, op);
    for (const Proto& a : attrs) p.msg(field::node::kAttribute, a);
    graph_.msg(field::graph::kNode, p);
  }

  void cast(const std::string& in, const std::string& out, DType to, const std::string& name) {
    node("Cast", name, {in}, {out}, {attribute("to", int64_t(to), FloatStorage::kAsGraph)});
  }

  // A float constant filled with `value`, stored in `t` (float16, else float32).
  std::string constant(const std::string& base, float value, DType t, const Shape& shape = {}) {
    Tensor c(t == DType::kFloat16 ? DType::kFloat16 : DType::kFloat32, shape);
    for (int64_t i = 0; i < c.numel(); ++i) {
      if (c.dtype == DType::kFloat16)
        c.data<uint16_t>()[i] = float_to_half(value);
      else
        c.data<float>()[i] = value;
    }
    const std::string name = fresh(base);
    graph_.msg(field::graph::kInitializer, tensor_proto(name, c, FloatStorage::kAsGraph));
    return name;
  }

  // Inputs that ONNX types as float32 whatever the data type (Resize/Upsample scales) stay float32.
  bool float32_slot(const Node& n, size_t slot) const {
    if (n.op == "Upsample") return slot == 1;
    if (n.op == "Resize") return g_.opset >= 11 ? slot == 2 : slot == 1;
    return false;
  }

  std::string input_ref(const Node& n, size_t slot) {
    const int id = n.inputs[slot];
    if (id < 0) return "";
    const Value& v = g_.value(id);
    if (!half(v.dtype) || !float32_slot(n, slot)) return ref_[size_t(id)];
    auto it = float32_copy_.find(id);
    if (it != float32_copy_.end()) return it->second;
    const std::string name = fresh(v.name + "_fp32");
    if (v.is_constant())
      graph_.msg(field::graph::kInitializer, tensor_proto(name, *v.constant, FloatStorage::kAsGraph));
    else
      cast(ref_[size_t(id)], name, DType::kFloat32, name);
    return float32_copy_[id] = name;
  }

  std::vector<Proto> plain_attributes(const Node& n) {
    std::vector<Proto> out;
    for (const auto& [name, value] : n.attrs.items()) {
      if (name.rfind("activation", 0) == 0) continue;  // trtcore's fusion attributes
      if (opt_.floats == FloatStorage::kFloat16) {
        if (n.op == "Cast" && name == "to" && std::get_if<int64_t>(&value) &&
            std::get<int64_t>(value) == int64_t(DType::kFloat32)) {
          out.push_back(attribute(name, int64_t(DType::kFloat16), opt_.floats));
          continue;
        }
        if (n.op == "Constant" && (name == "value_float" || name == "value_floats")) {
          const std::vector<float> vals = name == "value_float" ? std::vector<float>{n.attrs.get_float(name, 0.f)}
                                                               : n.attrs.get_floats(name);
          Tensor t(DType::kFloat32, name == "value_float" ? Shape{} : Shape{int64_t(vals.size())});
          std::memcpy(t.bytes.data(), vals.data(), vals.size() * sizeof(float));
          out.push_back(attribute("value", std::make_shared<const Tensor>(std::move(t)), opt_.floats));
          continue;
        }
      }
      out.push_back(attribute(name, value, opt_.floats));
    }
    return out;
  }

  void emit_node(const Node& n) {
    if (n.op == "FusedElementwise") return emit_fused_elementwise(n);
    const OpDef* def = find_op_def(n.op);
    if (def && def->scope == OpScope::kInternal)
      fail(ErrorKind::kUnsupported, "ONNX export: ", n.describe(), " is an internal trtcore op with no ONNX form");
    std::vector<std::string> ins;
    const bool residual = n.op == "Conv" && n.inputs.size() > 3 && n.inputs[3] >= 0;
    const size_t plain_inputs = residual ? 3 : n.inputs.size();
    for (size_t i = 0; i < plain_inputs; ++i) ins.push_back(input_ref(n, i));
    std::vector<std::string> outs;
    for (int o : n.outputs) outs.push_back(o >= 0 ? ref_[size_t(o)] : std::string());
    const FusedActivation act = FusedActivation::from(n.attrs);
    const bool activation = act.kind != Activation::kNone;
    if (!residual && !activation) {
      node(n.op, n.name, ins, outs, plain_attributes(n));
      return;
    }
    // act(op(x) + residual): each stage writes a fresh tensor, the last one the node's real output.
    const std::string final_out = outs.at(0);
    const DType t = g_.value(n.outputs[0]).dtype;
    const DType stored = half(t) ? DType::kFloat16 : t;
    std::string cur = fresh(n.name + "_raw");
    outs[0] = cur;
    node(n.op, n.name, ins, outs, plain_attributes(n));
    if (residual) {
      const std::string next = activation ? fresh(n.name + "_sum") : final_out;
      node("Add", n.name + "_residual", {cur, input_ref(n, 3)}, {next}, {});
      cur = next;
    }
    if (activation) emit_activation(act, n.name, cur, final_out, stored);
  }

  void emit_activation(const FusedActivation& a, const std::string& base, const std::string& in,
                       const std::string& out, DType t) {
    const std::string name = base + "_" + activation_name(a.kind);
    const FloatStorage fs = FloatStorage::kAsGraph;
    switch (a.kind) {
      case Activation::kNone:
        node("Identity", name, {in}, {out}, {});
        return;
      case Activation::kRelu:
      case Activation::kSigmoid:
      case Activation::kTanh:
        node(activation_name(a.kind), name, {in}, {out}, {});
        return;
      case Activation::kLeakyRelu:
        node("LeakyRelu", name, {in}, {out}, {attribute("alpha", a.alpha, fs)});
        return;
      case Activation::kHardSigmoid:
        node("HardSigmoid", name, {in}, {out}, {attribute("alpha", a.alpha, fs), attribute("beta", a.beta, fs)});
        return;
      case Activation::kClip:
        if (opset_ >= 11)
          node("Clip", name, {in, constant(base + "_clip_min", a.alpha, t), constant(base + "_clip_max", a.beta, t)},
               {out}, {});
        else
          node("Clip", name, {in}, {out}, {attribute("min", a.alpha, fs), attribute("max", a.beta, fs)});
        return;
      case Activation::kHardSwish:
        if (opset_ >= 14) {
          node("HardSwish", name, {in}, {out}, {});
        } else {  // x * HardSigmoid(x; 1/6, 1/2): the same function before the op existed
          const std::string gate = fresh(base + "_gate");
          node("HardSigmoid", name + "_gate", {in}, {gate},
               {attribute("alpha", 1.f / 6.f, fs), attribute("beta", 0.5f, fs)});
          node("Mul", name, {in, gate}, {out}, {});
        }
        return;
      case Activation::kSiLU: {  // x * Sigmoid(x), as exported models write it
        const std::string gate = fresh(base + "_gate");
        node("Sigmoid", name + "_gate", {in}, {gate}, {});
        node("Mul", name, {in, gate}, {out}, {});
        return;
      }
    }
  }

  // One ONNX node per instruction. Immediates become all-ones-shaped constants of the output's rank, so the
  // broadcast reaches the rank the fused node has (scalar constants folded into immediates may have raised it).
  void emit_fused_elementwise(const Node& n) {
    const EwProgram p = EwProgram::from(n);
    const DType t = g_.value(n.outputs.at(0)).dtype;
    const DType stored = half(t) ? DType::kFloat16 : t;
    const Shape ones(size_t(p.out_rank), 1);
    std::vector<std::string> slots;
    for (size_t i = 0; i < n.inputs.size(); ++i) slots.push_back(input_ref(n, i));
    for (size_t k = 0; k < p.code.size(); ++k) {
      const EwInstr& in = p.code[k];
      const std::string base = n.name + "_" + std::to_string(k);
      const std::string out = k + 1 == p.code.size() ? ref_[size_t(n.outputs[0])] : fresh(base);
      const char* op = ew_op_name(in.op);
      if (ew_is_binary(in.op)) {
        auto operand = [&](int32_t slot, float immediate, const char* which) {
          return slot == kEwImmediate ? constant(base + which, immediate, stored, ones) : slots[size_t(slot)];
        };
        node(op, base + "_" + op, {operand(in.a, in.alpha, "_a"), operand(in.b, in.beta, "_b")}, {out}, {});
      } else if (const Activation act = activation_of(in.op); act != Activation::kNone) {
        emit_activation(FusedActivation{act, in.alpha, in.beta}, base, slots[size_t(in.a)], out, stored);
      } else {
        node(op, base + "_" + op, {slots[size_t(in.a)]}, {out}, {});
      }
      slots.push_back(out);
    }
  }

  const Graph& g_;
  OnnxExportOptions opt_;
  int64_t opset_;  // written; the graph's own opset still decides how its nodes' inputs are laid out
  std::vector<std::string> ref_;  // the name under which each value is read inside the model
  std::set<std::string> names_, node_names_;
  std::map<int, std::string> float32_copy_;
  Proto graph_;
};

}  // namespace

std::string graph_to_onnx(const Graph& g, const OnnxExportOptions& opt) { return Writer(g, opt).run(); }

void write_onnx(const Graph& g, const OnnxExportOptions& opt, const std::string& path) {
  write_file_atomic(path, graph_to_onnx(g, opt));
}

}  // namespace trtcore::onnx
