#include "onnx/onnx_model.h"

#include <algorithm>
#include <cstring>

#include "onnx/onnx_fields.h"
#include "trtcore/error.h"

namespace trtcore::onnx {

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kUndefined: return "undefined";
    case AttrType::kFloat: return "float";
    case AttrType::kInt: return "int";
    case AttrType::kString: return "string";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
    case AttrType::kFloats: return "floats";
    case AttrType::kInts: return "ints";
    case AttrType::kStrings: return "strings";
    case AttrType::kTensors: return "tensors";
    case AttrType::kGraphs: return "graphs";
    case AttrType::kSparseTensor: return "sparse tensor";
    case AttrType::kSparseTensors: return "sparse tensors";
    case AttrType::kTypeProto: return "type proto";
    case AttrType::kTypeProtos: return "type protos";
  }
  return "unknown";
}

namespace {

// "node[12] 'conv1'": printable, and short even when a corrupted name is huge.
std::string label(const char* field, size_t index, const std::string& name) {
  std::string s = std::string(field) + "[" + std::to_string(index) + "]";
  if (name.empty()) return s;
  s += " '";
  for (size_t i = 0; i < name.size() && i < 80; ++i) {
    const char c = name[i];
    s += (c >= 32 && c < 127) ? c : '?';
  }
  if (name.size() > 80) s += "...";
  return s + "'";
}

struct Decoder {
  WireContext& ctx;

  void opset(Bytes msg, OnnxOpset& o) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::opset::kDomain: o.domain = r.read_string(f); break;
        case field::opset::kVersion: o.version = r.read_int64(f); break;
        default: r.skip(f);
      }
    }
  }

  void string_entry(Bytes msg, std::pair<std::string, std::string>& kv) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::entry::kKey: kv.first = r.read_string(f); break;
        case field::entry::kValue: kv.second = r.read_string(f); break;
        default: r.skip(f);
      }
    }
  }

  void tensor(Bytes msg, OnnxTensor& t) {
    t.where = ctx.path();
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::tensor::kDims: r.read_repeated_int64(f, t.dims); break;
        case field::tensor::kDataType: t.data_type = r.read_int32(f); break;
        case field::tensor::kSegment: t.has_segment = true; r.skip(f); break;
        case field::tensor::kFloatData: r.read_repeated_float(f, t.float_data); break;
        case field::tensor::kInt32Data: r.read_repeated_int32(f, t.int32_data); break;
        case field::tensor::kStringData: ++t.other_data_fields; r.skip(f); break;
        case field::tensor::kInt64Data: r.read_repeated_int64(f, t.int64_data); break;
        case field::tensor::kName: t.name = r.read_string(f); break;
        case field::tensor::kRawData: t.raw_data = r.read_bytes(f); t.has_raw_data = true; break;
        case field::tensor::kDoubleData: r.read_repeated_double(f, t.double_data); break;
        case field::tensor::kUint64Data: ++t.other_data_fields; r.skip(f); break;
        case field::tensor::kExternalData: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, label("external_data", t.external_data.size(), ""), f.start);
          t.external_data.emplace_back();
          string_entry(b, t.external_data.back());
          break;
        }
        case field::tensor::kDataLocation: t.data_location = DataLocation(r.read_int32(f)); break;
        default: r.skip(f);
      }
    }
  }

  void attribute(Bytes msg, OnnxAttribute& a) {
    WireReader r(ctx, msg);
    Field f;
    int32_t declared = 0;
    AttrType seen = AttrType::kUndefined;  // the last value field present, for files that omit `type`
    while (r.next(f)) {
      switch (f.number) {
        case field::attribute::kName: a.name = r.read_string(f); break;
        case field::attribute::kType: declared = r.read_int32(f); break;
        case field::attribute::kF: a.f = r.read_float(f); seen = AttrType::kFloat; break;
        case field::attribute::kI: a.i = r.read_int64(f); seen = AttrType::kInt; break;
        case field::attribute::kS: a.s = r.read_string(f); seen = AttrType::kString; break;
        case field::attribute::kT: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, "t", f.start);
          a.t = std::make_shared<OnnxTensor>();
          tensor(b, *a.t);
          seen = AttrType::kTensor;
          break;
        }
        // Subgraphs (If/Loop bodies) and sparse/type values are not decoded: no supported op takes them.
        case field::attribute::kG: r.skip(f); seen = AttrType::kGraph; break;
        case field::attribute::kSparseTensor: r.skip(f); seen = AttrType::kSparseTensor; break;
        case field::attribute::kTp: r.skip(f); seen = AttrType::kTypeProto; break;
        case field::attribute::kFloats: r.read_repeated_float(f, a.floats); seen = AttrType::kFloats; break;
        case field::attribute::kInts: r.read_repeated_int64(f, a.ints); seen = AttrType::kInts; break;
        case field::attribute::kStrings: a.strings.push_back(r.read_string(f)); seen = AttrType::kStrings; break;
        case field::attribute::kTensors: r.skip(f); seen = AttrType::kTensors; break;
        case field::attribute::kGraphs: r.skip(f); seen = AttrType::kGraphs; break;
        case field::attribute::kSparseTensors: r.skip(f); seen = AttrType::kSparseTensors; break;
        case field::attribute::kTypeProtos: r.skip(f); seen = AttrType::kTypeProtos; break;
        default: r.skip(f);
      }
    }
    if (declared < 0 || declared > int32_t(AttrType::kTypeProtos))
      ctx.corrupt(msg.data, "attribute type code " + std::to_string(declared) + " is not defined by ONNX");
    a.type = declared != 0 ? AttrType(declared) : seen;
  }

  void node(Bytes msg, OnnxNode& n) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::node::kInput: n.inputs.push_back(r.read_string(f)); break;
        case field::node::kOutput: n.outputs.push_back(r.read_string(f)); break;
        case field::node::kName: n.name = r.read_string(f); break;
        case field::node::kOpType: n.op_type = r.read_string(f); break;
        case field::node::kDomain: n.domain = r.read_string(f); break;
        case field::node::kAttribute: {
          const Bytes b = r.read_bytes(f);
          const std::string name = peek_string(b, field::attribute::kName);
          PathScope scope(ctx, label("attribute", n.attributes.size(), name), f.start);
          n.attributes.emplace_back();
          attribute(b, n.attributes.back());
          break;
        }
        default: r.skip(f);
      }
    }
  }

  void shape(Bytes msg, OnnxValueInfo& v) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      if (f.number != field::shape::kDim) {
        r.skip(f);
        continue;
      }
      const Bytes b = r.read_bytes(f);
      PathScope scope(ctx, label("dim", v.dims.size(), ""), f.start);
      OnnxDim d;
      WireReader dr(ctx, b);
      Field g;
      while (dr.next(g)) {
        switch (g.number) {
          case field::dim::kValue: d.value = dr.read_int64(g); d.known = d.value >= 0; break;
          case field::dim::kParam: d.param = dr.read_string(g); d.known = false; break;
          default: dr.skip(g);
        }
      }
      v.dims.push_back(std::move(d));
    }
  }

  void tensor_type(Bytes msg, OnnxValueInfo& v) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::tensor_type::kElemType: v.elem_type = r.read_int32(f); break;
        case field::tensor_type::kShape: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, "shape", f.start);
          v.has_shape = true;
          v.dims.clear();
          shape(b, v);
          break;
        }
        default: r.skip(f);
      }
    }
  }

  void value_info(Bytes msg, OnnxValueInfo& v) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::value_info::kName: v.name = r.read_string(f); break;
        case field::value_info::kType: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, "type", f.start);
          WireReader tr(ctx, b);
          Field g;
          while (tr.next(g)) {
            // tensor_type; sequences, maps and optionals are left undecoded
            if (g.number == field::type::kTensorType) {
              const Bytes tb = tr.read_bytes(g);
              PathScope inner(ctx, "tensor_type", g.start);
              v.is_tensor = true;
              tensor_type(tb, v);
            } else {
              tr.skip(g);
            }
          }
          break;
        }
        default: r.skip(f);
      }
    }
  }

  void graph(Bytes msg, OnnxGraph& g) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::graph::kNode: {
          const Bytes b = r.read_bytes(f);
          const std::string name = peek_string(b, field::node::kName);
          PathScope scope(ctx, label("node", g.nodes.size(), name), f.start);
          g.nodes.emplace_back();
          node(b, g.nodes.back());
          break;
        }
        case field::graph::kName: g.name = r.read_string(f); break;
        case field::graph::kInitializer: {
          const Bytes b = r.read_bytes(f);
          const std::string name = peek_string(b, field::tensor::kName);
          PathScope scope(ctx, label("initializer", g.initializers.size(), name), f.start);
          g.initializers.emplace_back();
          tensor(b, g.initializers.back());
          break;
        }
        case field::graph::kSparseInitializer: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, label("sparse_initializer", g.sparse_initializers.size(), ""), f.start);
          // SparseTensorProto.values carries the name.
          std::string name;
          WireReader sr(ctx, b);
          Field h;
          while (sr.next(h)) {
            if (h.number == field::sparse_tensor::kValues) {
              const Bytes vb = sr.read_bytes(h);
              name = peek_string(vb, field::tensor::kName);
            } else {
              sr.skip(h);
            }
          }
          g.sparse_initializers.push_back(name);
          break;
        }
        case field::graph::kInput:
        case field::graph::kOutput: {
          const bool input = f.number == field::graph::kInput;
          std::vector<OnnxValueInfo>& list = input ? g.inputs : g.outputs;
          const Bytes b = r.read_bytes(f);
          const std::string name = peek_string(b, field::value_info::kName);
          PathScope scope(ctx, label(input ? "input" : "output", list.size(), name), f.start);
          list.emplace_back();
          value_info(b, list.back());
          break;
        }
        default: r.skip(f);
      }
    }
  }

  void model(Bytes msg, OnnxModel& m) {
    WireReader r(ctx, msg);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case field::model::kIrVersion: m.ir_version = r.read_int64(f); break;
        case field::model::kOpsetImport: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, label("opset_import", m.opsets.size(), ""), f.start);
          m.opsets.emplace_back();
          opset(b, m.opsets.back());
          break;
        }
        case field::model::kGraph: {
          const Bytes b = r.read_bytes(f);
          PathScope scope(ctx, "graph", f.start);
          m.graph = OnnxGraph();  // protobuf merges repeated occurrences; a second graph replacing is simpler
          m.has_graph = true;
          graph(b, m.graph);
          break;
        }
        default: r.skip(f);
      }
    }
  }
};

}  // namespace

namespace {

// A file given as a model that is something else (a plan, a text file) gets a message saying what it is instead of
// a protobuf decoding error.
void refuse_non_model(const uint8_t* data, size_t size, const std::string& origin) {
  static const char kPlanMagic[8] = {'T', 'R', 'T', 'C', 'P', 'L', 'A', 'N'};  // plan/plan.cpp's kMagic
  if (size >= sizeof kPlanMagic && std::memcmp(data, kPlanMagic, sizeof kPlanMagic) == 0)
    fail(ErrorKind::kCorrupt, origin, " is a trtcore plan, not an ONNX model: run it with `trtcore run --plan ", origin,
         "` (Python: trtcore.Engine(", origin, "))");
}

bool looks_like_text(const uint8_t* data, size_t size) {
  const size_t n = std::min<size_t>(size, 512);
  for (size_t i = 0; i < n; ++i)
    if (data[i] < 0x20 && data[i] != '\n' && data[i] != '\r' && data[i] != '\t') return false;
  return n > 0;
}

}  // namespace

OnnxModel parse_onnx_model(std::shared_ptr<const MappedFile> file, const std::string& origin) {
  OnnxModel m;
  m.path = origin;
  m.file = file;
  refuse_non_model(file->data(), file->size(), origin);
  WireContext ctx(origin, file->data());
  Decoder d{ctx};
  try {
    d.model(Bytes{file->data(), file->size()}, m);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kCorrupt && looks_like_text(file->data(), file->size())) {
      std::string head(reinterpret_cast<const char*>(file->data()), std::min<size_t>(file->size(), 24));
      for (char& c : head) c = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
      fail(ErrorKind::kCorrupt, origin, " is not an ONNX (protobuf) file: it starts with text ('", head, "...')");
    }
    throw;
  }
  if (!m.has_graph) fail(ErrorKind::kCorrupt, origin, ": not an ONNX model (no graph found in ", file->size(), " bytes)");
  return m;
}

OnnxModel read_onnx_model(const std::string& path) {
  return parse_onnx_model(std::make_shared<const MappedFile>(path), path);
}

}  // namespace trtcore::onnx
