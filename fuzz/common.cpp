#include "common.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "backends/cpu/cpu_kernel.h"
#include "trtcore/error.h"
#include "trtcore/half.h"
#include "trtcore/onnx_import.h"
#include "trtcore/passes.h"

namespace trtcore::fuzz {

std::string scratch_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/trtcore_fuzz_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

void write_file(const std::string& path, const std::string& bytes) {
  write_file(path, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

static double value_numel(const Graph& g, int id) {
  if (id < 0) return 0;
  double n = 1;
  for (int64_t d : g.value(id).shape) n *= double(d < 0 ? 0 : d);
  return n;
}

// Multiply-adds per output element: the reduced extent of the contracting ops, 1 elsewhere (plus the inputs read).
static double node_work(const Graph& g, const Node& n) {
  double out = 0;
  for (int id : n.outputs) out += value_numel(g, id);
  double in = 0;
  for (int id : n.inputs) in += value_numel(g, id);
  double inner = 1;
  if ((n.op == "Conv" || n.op == "ConvTranspose" || n.op == "QConv") && n.inputs.size() > 1 && n.inputs[1] >= 0) {
    const Shape& w = g.value(n.inputs[1]).shape;
    if (!w.empty() && w[0] > 0) inner = value_numel(g, n.inputs[1]) / double(w[0]);
    if (n.op == "ConvTranspose") inner = value_numel(g, n.inputs[1]);
  } else if ((n.op == "MatMul" || n.op == "Gemm") && !n.inputs.empty() && n.inputs[0] >= 0) {
    const Shape& a = g.value(n.inputs[0]).shape;
    inner = a.empty() ? 1 : double(std::max<int64_t>(a.back(), a.front()));
  } else if (n.op.find("Pool") != std::string::npos || n.op == "LRN" || n.op == "Resize") {
    inner = 64;  // window sizes are bounded by the input, itself capped
  }
  return out * inner + in;
}

bool small_enough(const Graph& g, const Caps& caps) {
  double acts = 0, weights = 0;
  for (const Value& v : g.values) {
    if (v.dtype == DType::kUndefined) continue;
    double n = 1;
    for (int64_t d : v.shape) n *= double(d < 0 ? 0 : d);
    (v.is_constant() ? weights : acts) += n * double(dtype_size(v.dtype));
  }
  if (acts > double(caps.activation_bytes) || weights > double(caps.weight_bytes)) return false;
  double work = 0;
  for (const Node& n : g.nodes) work += node_work(g, n);
  return work <= caps.work;
}

// Small values that are valid indices, axes and counts as well as ordinary data.
static void fill(std::vector<uint8_t>& buf, DType t, uint32_t seed) {
  const size_t n = buf.size() / dtype_size(t);
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    const float f = float(int32_t(s >> 8) % 2001 - 1000) / 1000.f;
    const int64_t k = int64_t((s >> 16) % 3);
    switch (t) {
      case DType::kFloat32: std::memcpy(&buf[i * 4], &f, 4); break;
      case DType::kFloat64: { const double d = f; std::memcpy(&buf[i * 8], &d, 8); break; }
      case DType::kFloat16: { const uint16_t h = float_to_half(f); std::memcpy(&buf[i * 2], &h, 2); break; }
      case DType::kInt64: std::memcpy(&buf[i * 8], &k, 8); break;
      case DType::kInt32: { const int32_t v = int32_t(k); std::memcpy(&buf[i * 4], &v, 4); break; }
      case DType::kInt8: case DType::kUInt8: case DType::kBool: buf[i] = uint8_t(k & (t == DType::kBool ? 1 : 3)); break;
      default: break;
    }
  }
}

void run_deterministic(Executable& x, const Graph& g, int64_t batch) {
  const std::vector<Shape> shapes = shapes_for_batch(g, batch);
  std::vector<std::vector<uint8_t>> in(g.inputs.size()), out(g.outputs.size());
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value& v = g.value(g.inputs[i]);
    in[i].resize(size_t(numel(shapes.at(size_t(g.inputs[i])))) * dtype_size(v.dtype));
    fill(in[i], v.dtype, uint32_t(i));
    in_ptrs.push_back(in[i].data());
  }
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const Value& v = g.value(g.outputs[i]);
    out[i].resize(size_t(numel(shapes.at(size_t(g.outputs[i])))) * dtype_size(v.dtype));
    out_ptrs.push_back(out[i].data());
  }
  x.infer(batch, in_ptrs, out_ptrs);
}

bool import_build_run(const std::string& onnx_path, const Caps& caps) {
  ModelOptions model;
  model.onnx_path = onnx_path;
  model.max_batch = kMaxBatch;
  Graph g = import_onnx(model);
  if (!small_enough(g, caps)) return false;
  BuildOptions build;
  build.backend = BackendKind::kCpu;
  std::unique_ptr<Backend> backend = create_backend(build.backend, build);
  PassContext ctx;
  ctx.caps = backend->fusion_caps();
  ctx.fold = cpu::evaluate_node;
  optimize(g, ctx);
  lower(g, ctx);
  if (!small_enough(g, caps)) return false;
  if (!backend->unsupported_nodes(g, build).empty()) return true;
  SystemOptions sys;
  sys.threads = 1;
  std::string tactics;
  std::unique_ptr<Executable> x = backend->build(g, build, sys, &tactics);
  const bool batched = g.has_batch_axis && g.max_batch > 1;
  if (caps.run_batch_one || !batched) run_deterministic(*x, g, 1);
  if (batched) run_deterministic(*x, g, g.max_batch);
  return true;
}

}  // namespace trtcore::fuzz
