// trtcore._core: a thin pybind11 layer. Conversions between numpy and trtcore views only; all logic is in C++.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "onnx/onnx_writer.h"
#include "runtime/report.h"
#include "trtcore/calibration.h"
#include "trtcore/engine.h"
#include "trtcore/error.h"
#include "trtcore/onnx_import.h"

namespace py = pybind11;
void bind_calibration(py::module_& m);  // calibration.cpp
void bind_samples(py::module_& m);      // samples.cpp
using namespace trtcore;

namespace {

DType dtype_of(const py::dtype& d) {
  const char kind = d.kind();
  const py::ssize_t size = d.itemsize();
  if (kind == 'f' && size == 4) return DType::kFloat32;
  if (kind == 'f' && size == 2) return DType::kFloat16;
  if (kind == 'f' && size == 8) return DType::kFloat64;
  if (kind == 'i' && size == 8) return DType::kInt64;
  if (kind == 'i' && size == 4) return DType::kInt32;
  if (kind == 'i' && size == 1) return DType::kInt8;
  if (kind == 'u' && size == 1) return DType::kUInt8;
  if (kind == 'b') return DType::kBool;
  fail(ErrorKind::kInvalidArgument, "unsupported numpy dtype '", std::string(py::str(d)), "'");
}

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::kFloat32: return py::dtype::of<float>();
    case DType::kInt64: return py::dtype::of<int64_t>();
    case DType::kInt32: return py::dtype::of<int32_t>();
    case DType::kInt8: return py::dtype::of<int8_t>();
    case DType::kUInt8: return py::dtype::of<uint8_t>();
    case DType::kFloat64: return py::dtype::of<double>();
    case DType::kBool: return py::dtype::of<bool>();
    case DType::kFloat16: return py::dtype("float16");
    default: fail(ErrorKind::kUnsupported, "no numpy dtype for ", dtype_name(t));
  }
}

py::array to_numpy(const Tensor& t) {
  py::array a(numpy_dtype(t.dtype), std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
  std::memcpy(a.mutable_data(), t.bytes.data(), t.bytes.size());
  return a;
}

py::object attr_to_py(const AttrValue& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, TensorPtr>) return x ? py::object(to_numpy(*x)) : py::none();
        else return py::cast(x);
      },
      v);
}

ModelOptions model_options(const std::string& onnx, int64_t batch, const std::map<std::string, Shape>& shapes) {
  ModelOptions m;
  m.onnx_path = onnx;
  m.max_batch = batch;
  m.shapes = shapes;
  return m;
}

Precision precision_from(const std::string& p) {
  for (Precision x : {Precision::kFP32, Precision::kFP16, Precision::kINT8})
    if (p == precision_name(x)) return x;
  fail(ErrorKind::kInvalidArgument, "unknown precision '", p, "'; expected fp32, fp16 or int8");
}

struct NodeInfo {
  std::string name, op, label;
  std::vector<std::string> inputs, outputs;
  py::dict attrs;
};

struct GraphInfo {
  std::vector<NodeInfo> nodes;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<py::dict> passes;
};

GraphInfo graph_info(const Graph& g, const std::vector<PassRecord>& passes) {
  GraphInfo gi;
  auto tensor = [&](int id) {
    const Value& v = g.value(id);
    return TensorInfo{v.name, v.dtype, v.shape, g.has_batch_axis && !v.shape.empty()};
  };
  for (int id : g.inputs) gi.inputs.push_back(tensor(id));
  for (int id : g.outputs) gi.outputs.push_back(tensor(id));
  for (const Node& n : g.nodes) {
    NodeInfo ni{n.name, n.op, n.layer_label(), {}, {}, py::dict()};
    for (int i : n.inputs) ni.inputs.push_back(i < 0 ? "" : g.value(i).name);
    for (int o : n.outputs) ni.outputs.push_back(o < 0 ? "" : g.value(o).name);
    for (const auto& [k, v] : n.attrs.items()) ni.attrs[py::str(k)] = attr_to_py(v);
    gi.nodes.push_back(std::move(ni));
  }
  for (const PassRecord& p : passes) {
    py::dict d;
    d["name"] = p.name; d["nodes_before"] = p.nodes_before; d["nodes_after"] = p.nodes_after; d["skipped"] = p.skipped;
    gi.passes.push_back(d);
  }
  return gi;
}

// Holds the engine. Runs release the GIL, so calls from several threads overlap: the engine hands each its own
// executable (Engine::infer), a Context is one caller's.
struct PyEngine {
  std::shared_ptr<Engine> e;
};

// A context keeps its engine alive (declared first, destroyed last).
struct PyExecContext {
  std::shared_ptr<Engine> engine;
  std::unique_ptr<ExecutionContext> c;
};

// Arrays (one, or a dict by input name) to checked views, outputs allocated as numpy arrays and written in place
// (no zero fill, no copy); `run(batch, inputs, outputs)` runs with the GIL released.
template <class Run>
py::dict infer_arrays(const Engine& e, py::object inputs, Run&& run) {
  const std::vector<TensorInfo>& infos = e.inputs();
  std::vector<py::array> arrays;
  if (py::isinstance<py::dict>(inputs)) {
    py::dict d = inputs.cast<py::dict>();
    std::string names, unknown, missing;  // a wrong key is named with the plan's inputs, not only as a missing one
    for (const TensorInfo& t : infos) names += (names.empty() ? "'" : ", '") + t.name + "'";
    for (const auto& kv : d) {
      const std::string k = py::str(kv.first);
      bool known = false;
      for (const TensorInfo& t : infos) known = known || t.name == k;
      if (!known) unknown += (unknown.empty() ? "'" : ", '") + k + "'";
    }
    for (const TensorInfo& t : infos)
      if (!d.contains(t.name)) missing += (missing.empty() ? "'" : ", '") + t.name + "'";
    if (!unknown.empty() || !missing.empty())
      fail(ErrorKind::kInvalidArgument, unknown.empty() ? "" : unknown + " is not an input of the plan; ",
           missing.empty() ? "" : "missing input " + missing + "; ", "the plan's inputs are ", names);
    for (const TensorInfo& t : infos) arrays.push_back(py::array::ensure(d[py::str(t.name)], py::array::c_style));
  } else {
    if (infos.size() != 1) fail(ErrorKind::kInvalidArgument, "the plan has ", infos.size(), " inputs: pass a dict name -> array");
    arrays.push_back(py::array::ensure(inputs, py::array::c_style));
  }
  std::vector<TensorView> views;
  for (py::array& a : arrays) {
    if (!a) fail(ErrorKind::kInvalidArgument, "inputs must be numpy arrays");
    // Kernels read native byte order: a '>f4' array is converted here (a copy), not read as garbage.
    if (!a.dtype().attr("isnative").cast<bool>())
      a = py::array::ensure(a.attr("astype")(a.dtype().attr("newbyteorder")("=")), py::array::c_style);
    // Inputs are only read, so read-only arrays (np.frombuffer of bytes) are fine.
    views.push_back(
        TensorView{dtype_of(a.dtype()), Shape(a.shape(), a.shape() + a.ndim()), const_cast<void*>(a.data())});
  }
  const int64_t batch = e.batch_of(views);
  const std::vector<Shape> shapes = e.output_shapes(batch);
  py::dict result;
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;
  for (const TensorView& v : views) in_ptrs.push_back(v.data);
  for (size_t i = 0; i < shapes.size(); ++i) {
    py::array a(numpy_dtype(e.outputs()[i].dtype), std::vector<py::ssize_t>(shapes[i].begin(), shapes[i].end()));
    out_ptrs.push_back(a.mutable_data());
    result[py::str(e.outputs()[i].name)] = a;
  }
  {
    py::gil_scoped_release release;
    run(batch, in_ptrs, out_ptrs);
  }
  return result;
}

// Results are the C++ report module's JSON, parsed: one schema for `run --json`, Python and the reports.
py::object from_json(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

py::object memory_map(const MemoryReport& r) { return from_json(memory_json(r)); }

Engine& engine_of(PyEngine& p) { return *p.e; }
Engine& engine_of(PyExecContext& p) { return *p.engine; }

// infer and benchmark, the same for an Engine and for its Contexts; `runner(p)` is what runs (it has infer,
// benchmark and memory like Engine).
template <class Py, class Runner>
void def_run_methods(py::class_<Py>& cls, Runner runner) {
  cls.def(
         "infer",
         [runner](Py& p, py::object inputs) {
           auto& r = runner(p);
           return infer_arrays(engine_of(p), std::move(inputs),
                               [&r](int64_t batch, const std::vector<const void*>& in,
                                    const std::vector<void*>& out) { r.infer(batch, in, out); });
         },
         py::arg("inputs"),
         "Runs one batch: inputs is an array (single-input models) or a dict input name -> array, batch axis first, "
         "any batch up to max_batch. Returns a dict output name -> numpy array.")
      .def(
          "benchmark",
          [runner](Py& p, int64_t batch, int iterations, int warmup) {
            auto& r = runner(p);
            BenchmarkResult b;
            {
              py::gil_scoped_release release;
              b = r.benchmark(batch, iterations, warmup);
            }
            return from_json(timing_json(timing_report(engine_of(p), r.memory(), std::move(b))));
          },
          py::arg("batch") = 0, py::arg("iterations") = 10, py::arg("warmup") = 3,
          "Times iterations runs on random inputs at batch (0: the maximum) after warmup runs; returns the timing "
          "dict (compute_ms, e2e_ms statistics, throughput, per-iteration trace).");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "trtcore compiled core (see trtcore/_core.pyi)";
  m.attr("__version__") = version();

  static py::exception<Error> error_type(m, "Error");
  error_type.doc() = "Every trtcore failure; .kind names the C++ error kind. Raised as its subclasses in "
                     "trtcore.errors (InputError, IoError, PlanError, ...).";
  // trtcore/errors.py sets _error_factory(kind, message) -> exception: the subclass, messages in Python spelling.
  m.attr("_error_factory") = py::none();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      const std::string what = e.what();
      py::object msg = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(what.data(), py::ssize_t(what.size()), "replace"));
      py::str kind(error_kind_name(e.kind()));
      py::object factory = py::module_::import("trtcore._core").attr("_error_factory");
      py::object exc;
      if (!factory.is_none()) exc = factory(kind, msg);
      else {
        exc = py::handle(error_type.ptr())(msg);
        exc.attr("kind") = kind;
      }
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });

  py::class_<TensorInfo>(m, "TensorInfo", "An engine or graph input/output: name, dtype and shape.")
      .def_readonly("name", &TensorInfo::name, "The tensor's name in the model.")
      .def_property_readonly("shape", [](const TensorInfo& t) { return t.shape; }, "The shape, at the maximum batch.")
      .def_property_readonly("dtype", [](const TensorInfo& t) { return std::string(dtype_name(t.dtype)); }, "The element type: 'float32', 'float16', 'int64', ...")
      .def_readonly("batched", &TensorInfo::batched, "Whether axis 0 is the batch axis.")
      .def("__repr__", [](const TensorInfo& t) {
        return "TensorInfo(" + t.name + ", " + dtype_name(t.dtype) + ", " + shape_str(t.shape) + ")";
      });
  py::class_<TacticTime>(m, "TacticTime", "One form a build timed for a layer (trtexec --verbose's tactic lines).")
      .def_readonly("tactic", &TacticTime::tactic, "The form, as LayerInfo.tactic names it.")
      .def_readonly("ms", &TacticTime::ms, "Milliseconds per call; negative when it was not timed or not kept.")
      .def_readonly("note", &TacticTime::note, "Why not: 'refused: ...', 'output differs ...'; '' otherwise.")
      .def("__repr__", [](const TacticTime& t) { return "TacticTime(" + t.tactic + ", " + std::to_string(t.ms) + ")"; });
  py::class_<LayerInfo>(m, "LayerInfo", "One layer of a built engine (after fusion): name, op, precision and tactic.")
      .def_readonly("name", &LayerInfo::name, "The layer's name (its first node's).")
      .def_readonly("op", &LayerInfo::op, "The op, fusions joined by '+' ('Conv+Add+Relu').")
      .def_readonly("precision", &LayerInfo::precision, "The precision it runs in: 'fp32', 'fp16' or 'int8'.")
      .def_readonly("tactic", &LayerInfo::tactic, "The kernel the backend chose.")
      .def_readonly("workspace_bytes", &LayerInfo::workspace_bytes, "Scratch memory its tactic needs.")
      .def_readonly("candidates", &LayerInfo::candidates,
                    "The forms this build timed for the layer, in the order timed (TacticTime); empty when the "
                    "tactic came from a plan or a timing cache, or on the cpu backend.")
      .def("__repr__", [](const LayerInfo& l) { return "LayerInfo(" + l.name + ", " + l.op + ", " + l.precision + ")"; });
  py::class_<NodeInfo>(m, "NodeInfo", "One node of a graph (see load_graph): op, fusion label, tensors and attributes.")
      .def_readonly("name", &NodeInfo::name, "The node's name.")
      .def_readonly("op", &NodeInfo::op, "The op type ('Conv'); fusions show in label and attrs.")
      .def_readonly("label", &NodeInfo::label, "The op with its fusions ('Conv+Add+Relu').")
      .def_readonly("inputs", &NodeInfo::inputs, "Input tensor names ('' for an omitted optional input).")
      .def_readonly("outputs", &NodeInfo::outputs, "Output tensor names.")
      .def_readonly("attrs", &NodeInfo::attrs, "Attributes: ints, floats, strings, lists; tensors as numpy arrays.")
      .def("__repr__", [](const NodeInfo& n) { return "NodeInfo(" + n.name + ", " + n.label + ")"; });
  py::class_<GraphInfo>(m, "GraphInfo", "A graph after a stage (see load_graph, Engine.graph): nodes, inputs, outputs, passes run.")
      .def_readonly("nodes", &GraphInfo::nodes, "The nodes, in execution order.")
      .def_readonly("inputs", &GraphInfo::inputs, "The graph inputs.")
      .def_readonly("outputs", &GraphInfo::outputs, "The graph outputs.")
      .def_readonly("passes", &GraphInfo::passes, "Passes run: dicts with name, nodes_before, nodes_after, skipped.")
      .def("op_counts", [](const GraphInfo& g) {
        std::map<std::string, int> c;
        for (const NodeInfo& n : g.nodes) ++c[n.label];
        return c;
      }, "Node count per label, e.g. {'Conv+Relu': 33, 'Conv+Add+Relu': 16}.");
  py::class_<OpSupport>(m, "OpSupport", "Whether one ONNX node is supported (see check_onnx), and why not.")
      .def_readonly("node", &OpSupport::node, "The node's name.")
      .def_readonly("op", &OpSupport::op, "Its op type.")
      .def_readonly("supported", &OpSupport::supported, "Whether trtcore can import and run it.")
      .def_readonly("reason", &OpSupport::reason, "Why not, when unsupported.");

  m.def("compiled_backends", &compiled_backends, "Backends compiled into this build: ['cpu', 'cuda', ...].");
  m.def("cpu_isa", &cpu_kernel_isa,
        "The cpu kernels' instruction-set level and the levels compiled in (TRTCORE_CPU_ISA picks another).");
  m.def("cuda_available", &cuda_device_available, "Whether the cuda backend is compiled and a GPU is usable.");
  m.def("check_onnx", &check_onnx_support, py::arg("onnx_path"), py::call_guard<py::gil_scoped_release>(),
        "Every node of an ONNX model with whether it is supported (a list of OpSupport).");
  m.def("pass_names", [] {
    std::vector<std::string> names;
    for (const Pass& p : default_passes()) names.push_back(p.name);
    for (const Pass& p : lowering_passes()) names.push_back(p.name);  // a plan records both lists, in this order
    return names;
  }, "The optimizer and lowering pass names, in the order they run (for disabled_passes).");
  m.def(
      "load_graph",
      [](const std::string& onnx, int64_t batch, const std::map<std::string, Shape>& shapes,
         const std::string& stop_after, const std::vector<std::string>& disabled) {
        PassContext ctx;
        ctx.disabled = disabled;
        std::vector<PassRecord> passes;
        Graph g;
        {
          py::gil_scoped_release release;
          g = load_graph(model_options(onnx, batch, shapes), stage_from_name(stop_after), ctx, &passes);
        }
        return graph_info(g, passes);
      },
      py::arg("onnx_path"), py::arg("batch") = 0, py::arg("shapes") = std::map<std::string, Shape>{},
      py::arg("stop_after") = "optimize", py::arg("disabled_passes") = std::vector<std::string>{},
      "The graph of an ONNX model after a stage ('import', 'optimize' or 'precision') as a GraphInfo; batch and "
      "shapes fix dynamic axes, disabled_passes skips optimizer passes by name.");
  m.def(
      "cli_main",
      [](const std::vector<std::string>& args) {
        py::gil_scoped_release release;
        const int rc = run_cli(args, std::cout, std::cerr);
        std::cout.flush();
        return rc;
      },
      py::arg("args"), "Runs the shared build/run/inspect command line on the process's stdout/stderr; returns the exit code.");

  py::class_<PyEngine> engine(m, "Engine",
                            "An inference engine: a plan bound to a backend. Build one with trtcore.build(onnx_path, "
                            "...) or load a saved plan with Engine(plan_path). Safe to call from several threads; "
                            "create_context() gives a thread its own execution context. The GIL is released while "
                            "running.");
  def_run_methods(engine, [](PyEngine& p) -> Engine& { return *p.e; });
  engine
      .def(py::init([](const std::string& plan, int threads, bool cuda_graph) {
             SystemOptions s;
             s.threads = threads;
             s.cuda_graph = cuda_graph;
             py::gil_scoped_release release;
             return PyEngine{Engine::load(plan, s)};
           }),
           py::arg("plan_path"), py::arg("threads") = 0, py::arg("cuda_graph") = true,
           "Loads a plan written by Engine.save or `trtcore build` (an ONNX model must be built first: "
           "trtcore.build). threads: cpu backend threads (0: all cores); cuda_graph: replay runs as CUDA graphs.")
      .def_static(
          "build",
          [](const std::string& onnx, int64_t batch, const std::map<std::string, Shape>& shapes,
             const std::string& backend, const std::string& precision, bool strict_fp32,
             const std::vector<std::string>& disabled, const std::string& timing_cache, int threads, bool cuda_graph,
             bool io_half, int64_t workspace_mib, const std::string& calibration_dir,
             const std::string& calibration_cache, const std::string& calibrator, double percentile,
             int64_t calibration_batch, int64_t calibration_batches, const std::vector<std::string>& exclude_layers,
             const std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>>& calibration_data,
             const std::string& int8_fallback, const std::string& int8_bias_correction,
             const std::string& int8_equalization, const std::string& int8_float_layers,
             double int8_target_agreement) {
            BuildOptions b;
            b.calibration_dir = calibration_dir;
            b.calibration_cache = calibration_cache;
            b.calibrator = calibration_algorithm_from_name(calibrator);
            b.calibration_percentile = percentile;
            b.calibration_batch = calibration_batch;
            b.calibration_batches = calibration_batches;
            b.exclude_layers = exclude_layers;
            b.int8_fallback = int8_fallback_from_name(int8_fallback);
            b.int8_bias_correction = int8_bias_correction_from_name(int8_bias_correction);
            b.int8_equalization = int8_equalization_from_name(int8_equalization);
            set_int8_float_layers(b, int8_float_layers);
            b.int8_target_agreement = int8_target_agreement;
            if (!calibration_data.empty()) {
              std::vector<std::vector<float>> arrays;
              std::vector<size_t> sample_floats;
              for (const auto& a : calibration_data) {
                arrays.emplace_back(a.data(), a.data() + a.size());
                sample_floats.push_back(a.ndim() > 0 && a.shape(0) > 0 ? size_t(a.size() / a.shape(0)) : 0);
              }
              b.calibration_data = std::make_shared<InMemoryCalibrationData>(std::move(arrays), std::move(sample_floats));
            }
            b.backend = backend_kind_from_name(backend);
            b.precision = precision_from(precision);
            b.fp32_math = strict_fp32 ? Fp32Math::kStrict : Fp32Math::kTF32;
            b.disabled_passes = disabled;
            b.timing_cache = timing_cache;
            b.io_half = io_half;
            b.workspace_mib = workspace_mib;
            SystemOptions s;
            s.threads = threads;
            s.cuda_graph = cuda_graph;
            py::gil_scoped_release release;
            return PyEngine{Engine::build(model_options(onnx, batch, shapes), b, s)};
          },
          py::arg("onnx_path"), py::arg("batch") = 0, py::arg("shapes") = std::map<std::string, Shape>{},
          py::arg("backend") = "auto", py::arg("precision") = "fp32", py::arg("strict_fp32") = false,
          py::arg("disabled_passes") = std::vector<std::string>{}, py::arg("timing_cache") = "",
          py::arg("threads") = 0, py::arg("cuda_graph") = true, py::arg("io_half") = false,
          py::arg("workspace_mib") = 0, py::arg("calibration_dir") = "", py::arg("calibration_cache") = "",
          py::arg("calibrator") = "entropy", py::arg("percentile") = 99.99, py::arg("calibration_batch") = 0,
          py::arg("calibration_batches") = 0, py::arg("exclude_layers") = std::vector<std::string>{},
          py::arg("calibration_data") = std::vector<py::array_t<float>>{}, py::arg("int8_fallback") = "auto",
          py::arg("int8_bias_correction") = "off", py::arg("int8_equalization") = "off",
          py::arg("int8_float_layers") = "0", py::arg("int8_target_agreement") = 0.99,
          "Builds an engine from an ONNX model (import, optimize, precision, build). trtcore.build is the same with "
          "calibration_data accepting any iterable; see its documentation for the options.")
      .def("save", [](const PyEngine& p, const std::string& path) { p.e->save(path); }, py::arg("plan_path"),
           "Writes the plan (atomically) for Engine(plan_path) or `trtcore run --plan`.")
      .def_property_readonly("inputs", [](const PyEngine& p) { return p.e->inputs(); }, "The inputs (TensorInfo), shapes at the maximum batch.")
      .def_property_readonly("outputs", [](const PyEngine& p) { return p.e->outputs(); }, "The outputs (TensorInfo), shapes at the maximum batch.")
      .def_property_readonly("backend", [](const PyEngine& p) { return p.e->backend_name(); }, "The backend that runs it: 'cpu', 'cuda' or 'tensorrt'.")
      .def_property_readonly("device", [](const PyEngine& p) { return p.e->device_description(); }, "The device it runs on, in words.")
      .def_property_readonly("max_batch", [](const PyEngine& p) { return p.e->max_batch(); }, "The largest batch it runs.")
      .def_property_readonly("device_memory_bytes", [](const PyEngine& p) { return p.e->memory().total(); }, "Weights + activations + workspace it holds, in bytes.")
      .def_property_readonly("memory", [](const PyEngine& p) { return memory_map(p.e->memory()); }, "Memory it holds by kind (weights, activations, workspace, total), in bytes.")
      .def_property_readonly("layers", [](const PyEngine& p) { return p.e->layers(); }, "Its layers (LayerInfo): fusion, precision, tactic.")
      .def("graph", [](const PyEngine& p) { return graph_info(p.e->plan().graph, p.e->plan().passes); }, "The graph the plan holds, with the passes run (GraphInfo).")
      .def(
          "profile",
          [](PyEngine& p, int64_t batch, int iterations) {
            std::vector<double> t;
            {
              py::gil_scoped_release release;
              t = p.e->profile_layers(batch == 0 ? p.e->max_batch() : batch, iterations);
            }
            return from_json(profile_json(profile_report(p.e->layers(), t)));
          },
          py::arg("batch") = 0, py::arg("iterations") = 10,
          "Times every layer over iterations runs at batch (0: the maximum); returns one dict per layer (name, op, "
          "precision, tactic, workspace_bytes, ms).")
      .def(
          "run_directory",
          [](PyEngine& p, const std::string& dir, const std::string& output_dir, int64_t batch, int iterations) {
            DirectoryRunResult r;
            {
              py::gil_scoped_release release;
              r = p.e->run_directory(dir, output_dir, batch, iterations);
            }
            return from_json(directory_json(r));
          },
          py::arg("dir"), py::arg("output_dir") = "", py::arg("batch") = 0, py::arg("iterations") = 1,
          "Runs every raw float32 sample file in dir (one sample each, the input's shape without the batch axis; "
          "several inputs: one sub-folder per input name, files paired by name), writing one output file per sample "
          "into output_dir when given; returns the timings as a dict.")
      .def("describe",
           [](const PyEngine& p) {
             std::ostringstream os;
             print_engine(os, engine_summary(*p.e));
             return os.str();
           },
           "A text summary: backend, inputs, outputs, layers and memory (what `trtcore inspect --plan` prints).")
      .def(
          "create_context",
          [](const PyEngine& p, bool cuda_graph) {
            SystemOptions s;
            s.cuda_graph = cuda_graph;
            py::gil_scoped_release release;
            return PyExecContext{p.e, p.e->create_context(s)};
          },
          py::arg("cuda_graph") = true,
          "A new execution context: its own activations, stream and CUDA graphs, sharing the weights; one per "
          "thread runs concurrently with the others.");

  py::class_<PyExecContext> context(m, "Context",
                                    "An execution context of an Engine (Engine.create_context()): infer and "
                                    "benchmark like the engine, without sharing state with other contexts.");
  def_run_methods(context, [](PyExecContext& p) -> ExecutionContext& { return *p.c; });
  context
      .def_property_readonly("memory", [](const PyExecContext& p) { return memory_map(p.c->memory()); }, "Memory this context holds by kind, in bytes.");
  bind_calibration(m);
  bind_samples(m);

  // The graph after a stage, written back as ONNX (what the tensorrt backend hands its parser).
  m.def(
      "export_onnx",
      [](const std::string& onnx_in, const std::string& onnx_out, const std::string& stop_after, int64_t batch,
         int64_t min_opset, const std::string& floats, const std::string& batch_dim,
         const std::string& int8_equalization) {
        onnx::OnnxExportOptions opt;
        PassContext ctx;
        ctx.int8_equalization = int8_equalization_from_name(int8_equalization);
        opt.min_opset = min_opset;
        if (floats != "as_graph" && floats != "float16")
          fail(ErrorKind::kInvalidArgument, "floats must be 'as_graph' or 'float16', got '", floats, "'");
        opt.floats = floats == "float16" ? onnx::FloatStorage::kFloat16 : onnx::FloatStorage::kAsGraph;
        if (batch_dim != "fixed" && batch_dim != "dynamic")
          fail(ErrorKind::kInvalidArgument, "batch_dim must be 'fixed' or 'dynamic', got '", batch_dim, "'");
        opt.batch = batch_dim == "dynamic" ? onnx::BatchDim::kDynamic : onnx::BatchDim::kFixed;
        py::gil_scoped_release release;
        const Graph g = load_graph(model_options(onnx_in, batch, {}), stage_from_name(stop_after), ctx);
        onnx::write_onnx(g, opt, onnx_out);
      },
      py::arg("onnx_in"), py::arg("onnx_out"), py::arg("stop_after") = "optimize", py::arg("batch") = 0,
      py::arg("min_opset") = 0, py::arg("floats") = "as_graph", py::arg("batch_dim") = "fixed",
      py::arg("int8_equalization") = "off",
      "Writes the graph after a stage back as ONNX (what the tensorrt backend hands its parser); "
      "int8_equalization='on' applies INT8's cross-layer equalization (the float function is unchanged).");
}
