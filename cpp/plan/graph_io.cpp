// The GRAPH section: values (with constant bytes), nodes with typed attributes, graph inputs and outputs.
// Reading validates everything the runtime relies on: known dtypes, bounded shapes, value ids in range, each value
// produced once and nodes in topological order.
#include <type_traits>

#include "plan/byte_io.h"
#include "plan/graph_io.h"
#include "ops/op_registry.h"
#include "trtcore/plan.h"

namespace trtcore {

using planio::Reader;
using planio::Writer;

namespace {

constexpr uint32_t kMaxRank = uint32_t(kMaxTensorRank);
// A value larger than this (64 GiB) cannot be a real tensor: it marks a damaged shape, not a big model.
constexpr uint64_t kMaxValueBytes = uint64_t(1) << 36;

void write_shape(Writer& w, const Shape& s) {
  w.u32(uint32_t(s.size()));
  for (int64_t d : s) w.i64(d);
}

void write_tensor(Writer& w, const Tensor& t) {
  w.i32(int32_t(t.dtype));
  write_shape(w, t.shape);
  w.u64(t.bytes.size());
  w.raw(t.bytes.data(), t.bytes.size());
}

void write_ids(Writer& w, const std::vector<int>& ids) {
  w.u32(uint32_t(ids.size()));
  for (int id : ids) w.i32(id);
}

void write_attr(Writer& w, const AttrValue& a) {
  w.u8(uint8_t(a.index()));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          w.i64(v);
        } else if constexpr (std::is_same_v<T, float>) {
          w.f32(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.str(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          w.u32(uint32_t(v.size()));
          for (int64_t x : v) w.i64(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          w.u32(uint32_t(v.size()));
          for (float x : v) w.f32(x);
        } else {  // TensorPtr
          w.u8(v ? 1 : 0);
          if (v) write_tensor(w, *v);
        }
      },
      a);
}

DType read_dtype(Reader& r, bool allow_undefined, const std::string& owner) {
  const int32_t code = r.i32();
  if (code == 0 && allow_undefined) return DType::kUndefined;
  if (!dtype_is_known(code)) r.corrupt(owner, " has unknown element type code ", code);
  return DType(code);
}

// Returns the element count; rejects negative dims and sizes no tensor can have.
int64_t read_shape(Reader& r, Shape& s, DType dtype, const std::string& owner) {
  const uint32_t rank = r.count(8, "a shape");
  if (rank > kMaxRank) r.corrupt(owner, " has rank ", rank, " (at most ", kMaxRank, ")");
  s.resize(rank);
  const uint64_t elem = dtype == DType::kUndefined ? 1 : dtype_size(dtype);
  uint64_t bytes = elem;
  for (uint32_t k = 0; k < rank; ++k) {
    const int64_t d = r.i64();
    if (d < 0 || uint64_t(d) > kMaxValueBytes) r.corrupt(owner, " has dimension ", d);
    s[k] = d;
    if (d > 0 && bytes > kMaxValueBytes / uint64_t(d))
      r.corrupt(owner, " has an impossible size (shape ", shape_str(s), "...)");
    bytes *= uint64_t(d);
  }
  return int64_t(bytes / elem);
}

TensorPtr read_tensor(Reader& r, const std::string& owner) {
  auto t = std::make_shared<Tensor>();
  t->dtype = read_dtype(r, false, owner);
  const int64_t n = read_shape(r, t->shape, t->dtype, owner);
  const uint64_t nbytes = r.u64();
  if (nbytes != uint64_t(n) * dtype_size(t->dtype))
    r.corrupt(owner, " holds ", nbytes, " bytes; its shape ", shape_str(t->shape), " needs ",
              uint64_t(n) * dtype_size(t->dtype));
  const char* data = r.take_bytes(nbytes, owner.c_str());
  t->bytes.assign(reinterpret_cast<const uint8_t*>(data), reinterpret_cast<const uint8_t*>(data) + nbytes);
  return t;
}

std::vector<int> read_ids(Reader& r, size_t nvalues, bool allow_absent, const std::string& owner) {
  const uint32_t n = r.count(4, "a value list");
  std::vector<int> ids(n);
  for (uint32_t k = 0; k < n; ++k) {
    const int32_t id = r.i32();
    if ((id < 0 && !(allow_absent && id == -1)) || (id >= 0 && size_t(id) >= nvalues))
      r.corrupt(owner, " refers to value id ", id, " (the graph has ", nvalues, " values)");
    ids[k] = id;
  }
  return ids;
}

AttrValue read_attr(Reader& r, const std::string& owner) {
  const uint8_t kind = r.u8();
  switch (kind) {
    case 0: return r.i64();
    case 1: return r.f32();
    case 2: return r.str(owner.c_str());
    case 3: {
      const uint32_t n = r.count(8, owner.c_str());
      std::vector<int64_t> v(n);
      for (auto& x : v) x = r.i64();
      return v;
    }
    case 4: {
      const uint32_t n = r.count(4, owner.c_str());
      std::vector<float> v(n);
      for (auto& x : v) x = r.f32();
      return v;
    }
    case 5: {
      if (r.u8() == 0) return TensorPtr();
      return read_tensor(r, owner);
    }
    default: r.corrupt(owner, " has unknown attribute kind ", int(kind));
  }
}

// Re-derives every computed shape from the inputs and constants and compares it with the stored one: a damaged
// dimension anywhere (an input's, an intermediate's, a shape constant's) shows up as a mismatch here, before the
// runtime sizes buffers from it. Nodes of ops this build does not know are left to the backend to reject.
// The runtime reinfers at a smaller batch by setting every input's axis 0 (shapes_for_batch) and sizes its buffers
// from the stored shapes, so those must be the ones the maximum batch gives: a raised maximum overflows them.
void check_batch_axis(Reader& r, const Graph& g) {
  if (!g.has_batch_axis) return;
  for (int in : g.inputs) {
    const Value& v = g.values[size_t(in)];
    if (v.shape.empty()) r.corrupt("graph input '", v.name, "' is a scalar but the plan has a batch axis");
    if (v.shape[0] != g.max_batch)
      r.corrupt("graph input '", v.name, "' is stored as ", shape_str(v.shape), " but the plan's maximum batch is ",
                g.max_batch);
  }
}

void check_shapes(Reader& r, const Graph& g) {
  check_batch_axis(r, g);
  std::vector<Value> values = g.values;
  for (const Node& n : g.nodes) {
    bool computed = false;
    for (int o : n.outputs) computed = computed || (o >= 0 && !values[size_t(o)].is_constant());
    const OpDef* def = find_op_def(n.op);
    if (!computed || !def) continue;
    try {
      ShapeContext ctx(n, values, g.opset);
      def->infer(ctx);
    } catch (const Error& e) {
      r.corrupt(e.what());
    }
    for (int o : n.outputs) {
      if (o < 0) continue;
      const Value& stored = g.values[size_t(o)];
      const Value& computed = values[size_t(o)];
      if (computed.shape != stored.shape || computed.dtype != stored.dtype)
        r.corrupt("value '", stored.name, "' is stored as ", dtype_name(stored.dtype), " ", shape_str(stored.shape),
                  " but ", n.describe(), " computes ", dtype_name(computed.dtype), " ", shape_str(computed.shape));
    }
  }
}

}  // namespace

static_assert(std::variant_size_v<AttrValue> == 6, "update the plan's attribute encoding for the new kind");

std::string serialize_graph(const Graph& g) {
  Writer w;
  w.str(g.name);
  w.i64(g.opset);
  w.u8(g.has_batch_axis ? 1 : 0);
  w.i64(g.max_batch);
  w.u32(uint32_t(g.values.size()));
  for (const Value& v : g.values) {
    w.str(v.name);
    w.i32(int32_t(v.dtype));
    write_shape(w, v.shape);
    w.u8(v.constant ? 1 : 0);
    if (v.constant) write_tensor(w, *v.constant);
  }
  w.u32(uint32_t(g.nodes.size()));
  for (const Node& n : g.nodes) {
    w.str(n.name);
    w.str(n.op);
    write_ids(w, n.inputs);
    write_ids(w, n.outputs);
    w.u32(uint32_t(n.attrs.items().size()));
    for (const auto& [name, value] : n.attrs.items()) {
      w.str(name);
      write_attr(w, value);
    }
  }
  write_ids(w, g.inputs);
  write_ids(w, g.outputs);
  return std::move(w.bytes());
}

Graph planio::read_graph(const char* data, size_t size, const std::string& origin) {
  Reader r(data, size, origin);
  Graph g;
  g.name = r.str("the graph name");
  g.opset = r.i64();
  if (g.opset < 1 || g.opset > 1000) r.corrupt("opset ", g.opset, " is out of range");
  const uint8_t batch_axis = r.u8();
  if (batch_axis > 1) r.corrupt("bad batch-axis flag ", int(batch_axis));
  g.has_batch_axis = batch_axis == 1;
  g.max_batch = r.i64();
  if (g.max_batch < 1 || g.max_batch > (int64_t(1) << 31)) r.corrupt("maximum batch ", g.max_batch, " is out of range");

  // Each value takes at least: name length (4), dtype (4), rank (4), constant flag (1).
  const uint32_t nvalues = r.count(13, "values");
  g.values.reserve(nvalues);
  for (uint32_t i = 0; i < nvalues; ++i) {
    Value v;
    v.name = r.str("a value name");
    const std::string owner = "value '" + v.name + "'";
    v.dtype = read_dtype(r, true, owner);
    read_shape(r, v.shape, v.dtype, owner);
    const uint8_t has_const = r.u8();
    if (has_const > 1) r.corrupt(owner, " has a bad constant flag");
    if (has_const) {
      v.constant = read_tensor(r, owner);
      if (v.constant->dtype != v.dtype || v.constant->shape != v.shape)
        r.corrupt(owner, " is declared ", dtype_name(v.dtype), " ", shape_str(v.shape), " but holds ",
                  dtype_name(v.constant->dtype), " ", shape_str(v.constant->shape));
    }
    g.values.push_back(std::move(v));
  }

  // Each node takes at least: name (4), op (4), input count (4), output count (4), attribute count (4).
  const uint32_t nnodes = r.count(20, "nodes");
  g.nodes.reserve(nnodes);
  for (uint32_t i = 0; i < nnodes; ++i) {
    Node n;
    n.name = r.str("a node name");
    n.op = r.str("an op type");
    const std::string owner = "node '" + n.name + "'";
    if (n.op.empty()) r.corrupt(owner, " has an empty op type");
    n.inputs = read_ids(r, nvalues, true, owner);
    n.outputs = read_ids(r, nvalues, true, owner);
    const uint32_t nattrs = r.count(5, "attributes");
    for (uint32_t k = 0; k < nattrs; ++k) {
      const std::string name = r.str("an attribute name");
      if (n.attrs.has(name)) r.corrupt(owner, " repeats attribute '", name, "'");
      n.attrs.set(name, read_attr(r, owner + " attribute '" + name + "'"));
    }
    g.nodes.push_back(std::move(n));
  }
  g.inputs = read_ids(r, nvalues, false, "the graph inputs");
  g.outputs = read_ids(r, nvalues, false, "the graph outputs");
  if (r.left() != 0) r.corrupt(r.left(), " unexpected bytes after the graph");

  // Dataflow checks: every read value exists by the time it is read; every value has at most one source.
  std::vector<char> available(nvalues, 0);
  for (size_t i = 0; i < nvalues; ++i) available[i] = g.values[i].is_constant() ? 1 : 0;
  for (int in : g.inputs) {
    if (available[size_t(in)]) r.corrupt("graph input '", g.values[size_t(in)].name, "' is constant or repeated");
    available[size_t(in)] = 1;
    // With a batch axis, runs size buffers from axis 0 of the inputs: it must be the maximum batch the plan claims.
    const Shape& s = g.values[size_t(in)].shape;
    if (g.has_batch_axis && !s.empty() && s[0] != g.max_batch)
      r.corrupt("graph input '", g.values[size_t(in)].name, "' has batch ", s[0], " but the maximum batch is ",
                g.max_batch);
  }
  for (const Node& n : g.nodes) {
    for (int in : n.inputs)
      if (in >= 0 && !available[size_t(in)])
        r.corrupt(n.describe(), " reads value '", g.values[size_t(in)].name, "' before anything produces it");
    for (int out : n.outputs) {
      if (out < 0) continue;
      if (available[size_t(out)])
        r.corrupt(n.describe(), " writes value '", g.values[size_t(out)].name, "' which already has a source");
      available[size_t(out)] = 1;
    }
  }
  for (int out : g.outputs)
    if (!available[size_t(out)]) r.corrupt("graph output '", g.values[size_t(out)].name, "' is never produced");
  check_shapes(r, g);
  return g;
}

Graph deserialize_graph(const std::string& bytes, const std::string& origin) {
  return planio::read_graph(bytes.data(), bytes.size(), origin);
}

}  // namespace trtcore
