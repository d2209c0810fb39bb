#include "cli/cli.h"

#include <iostream>
#include <sstream>

#include "cli/options.h"
#include "cli/run.h"
#include "runtime/quantize_model.h"
#include "runtime/report.h"
#include "trtcore/engine.h"
#include "trtcore/error.h"
#include "trtcore/io.h"
#include "trtcore/onnx_import.h"

namespace trtcore {
namespace {

// trtexec's --minShapes/--optShapes/--maxShapes: one profile, so only the batch axis may differ between them;
// maxShapes' batch is the plan's maximum batch and its other axes fix the dynamic ones as --shapes does.
void apply_shape_profile(const Args& a, ModelOptions& m) {
  if (!a.has("maxShapes")) {
    if (a.has("minShapes") || a.has("optShapes"))
      fail(ErrorKind::kInvalidArgument, "--minShapes/--optShapes need --maxShapes (its batch is the plan's maximum)");
    return;
  }
  if (a.has("shapes")) fail(ErrorKind::kInvalidArgument, "give --shapes or --maxShapes, not both");
  const std::map<std::string, Shape> max = shape_specs(a, "maxShapes");
  int64_t batch = 0;
  for (const auto& [name, shape] : max) {
    if (shape.empty()) fail(ErrorKind::kInvalidArgument, "--maxShapes ", name, ": a shape needs a batch axis");
    if (batch && shape[0] != batch)
      fail(ErrorKind::kInvalidArgument, "--maxShapes gives the inputs different batches (", batch, " and ", shape[0],
           ")");
    batch = shape[0];
  }
  for (const char* key : {"minShapes", "optShapes"})
    for (const auto& [name, shape] : shape_specs(a, key)) {
      auto it = max.find(name);
      if (it == max.end())
        fail(ErrorKind::kInvalidArgument, "--", key, " names '", name, "', which --maxShapes does not");
      const Shape& hi = it->second;
      const bool same_rest = shape.size() == hi.size() && std::equal(shape.begin() + 1, shape.end(), hi.begin() + 1);
      if (!same_rest)
        fail(ErrorKind::kUnsupported, "--", key, " ", name, ":", shape_str(shape), " differs from --maxShapes ",
             shape_str(hi), " beyond the batch axis; a plan has one shape profile (a dynamic batch only), so only "
             "axis 0 may differ");
      if (shape[0] < 1 || shape[0] > hi[0])
        fail(ErrorKind::kInvalidArgument, "--", key, " ", name, ": batch ", shape[0], " is outside 1..", hi[0],
             " (--maxShapes)");
    }
  if (a.has("batch") && a.get_int("batch", 0) != batch)
    fail(ErrorKind::kInvalidArgument, "--batch ", a.get("batch"), " and the batch of --maxShapes (", batch, ") differ");
  m.shapes = max;
  m.max_batch = batch;
}

ModelOptions model_options(const Args& a) {
  ModelOptions m;
  m.onnx_path = a.get("onnx");
  m.max_batch = a.get_int("batch", 0);
  if (a.has("batch") && m.max_batch < 1) fail(ErrorKind::kInvalidArgument, "--batch must be >= 1, got ", m.max_batch);
  m.shapes = shape_specs(a, "shapes");
  apply_shape_profile(a, m);
  return m;
}

// trtexec's --memPoolSize=workspace:N[B|K|M|G] (MiB without a unit) in MiB; other pools are refused by name.
int64_t mem_pool_workspace_mib(const std::string& spec) {
  int64_t mib = -1;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t colon = item.find(':');
    const std::string pool = item.substr(0, colon);
    if (pool != "workspace" || colon == std::string::npos)
      fail(ErrorKind::kUnsupported, "--memPoolSize: pool '", pool, "' does not exist here; only workspace:N (MiB)");
    std::string v = item.substr(colon + 1);
    double scale = 1;  // MiB
    const char unit = v.empty() ? 'M' : v.back();
    if (std::string("BKMG").find(unit) != std::string::npos) {
      scale = unit == 'B' ? 1.0 / (1 << 20) : unit == 'K' ? 1.0 / 1024 : unit == 'G' ? 1024 : 1;
      v.pop_back();
    }
    double x = -1;
    size_t used = 0;
    try {
      x = std::stod(v, &used);
    } catch (...) {
      used = 0;
    }
    if (used != v.size() || v.empty() || x < 0)
      fail(ErrorKind::kInvalidArgument, "--memPoolSize expects workspace:N[B|K|M|G], got '", item, "'");
    mib = int64_t(x * scale + 0.5);
  }
  return mib;
}

// Options only an INT8 build reads are errors without --int8 (or --calibration-dir, which implies it); a
// calibration folder alone builds INT8, as the thesis script did, and says so on `err`.
void check_int8_options(const Args& a, std::ostream* note) {
  const bool int8 = a.has("int8") || a.has("calibration-dir");
  for (const char* k : {"calibration-cache", "calibrator", "percentile", "calibration-batch", "calibration-batches",
                        "exclude-layers", "layer-precision", "int8-bias-correction", "int8-equalization", "int8-float-layers",
                        "int8-target-agreement"})
    if (a.has(k) && !int8)
      fail(ErrorKind::kInvalidArgument, a.flag(k), " needs --int8 (or --calibration-dir, which implies it): only an ",
           "INT8 build reads it");
  if (note && a.has("calibration-dir") && !a.has("int8") && !a.has("half"))
    *note << "calibration data given: building INT8 (as --int8)\n";
}

BuildOptions build_options(const Args& a) {
  BuildOptions b;
  b.backend = backend_kind_from_name(a.get("backend", "auto"));
  if (a.has("half")) b.precision = Precision::kFP16;
  // samples alone mean INT8 (the thesis script's form); with --half they feed the FP16 range guard
  if (a.has("int8") || (a.has("calibration-dir") && !a.has("half"))) b.precision = Precision::kINT8;
  if (a.has("int8-fallback")) {
    b.int8_fallback = int8_fallback_from_name(a.get("int8-fallback"));
    if (b.precision != Precision::kINT8) fail(ErrorKind::kInvalidArgument, "--int8-fallback needs --int8");
    if (a.has("half") && b.int8_fallback != Int8Fallback::kFP16)
      fail(ErrorKind::kInvalidArgument, "--int8 --half keeps the float layers in fp16; --int8-fallback says ",
           int8_fallback_name(b.int8_fallback));
  } else if (b.precision == Precision::kINT8 && a.has("half")) {
    b.int8_fallback = Int8Fallback::kFP16;
  }
  b.fp32_math = a.has("strict-fp32") ? Fp32Math::kStrict : Fp32Math::kTF32;
  b.io_half = a.has("io-half");
  if (a.has("disable-pass")) b.disabled_passes = a.values.at("disable-pass");
  b.timing_cache = a.get("timing-cache");
  if (a.has("workspace") && a.has("memPoolSize"))
    fail(ErrorKind::kInvalidArgument, "give --workspace or --memPoolSize=workspace:N, not both");
  b.workspace_mib = a.has("memPoolSize") ? mem_pool_workspace_mib(a.get("memPoolSize")) : a.get_int("workspace", 0);
  if (b.workspace_mib < 0) fail(ErrorKind::kInvalidArgument, "--workspace must be >= 0 MiB, got ", b.workspace_mib);
  b.calibration_dir = a.get("calibration-dir");
  b.calibration_cache = a.get("calibration-cache");
  b.calibrator = calibration_algorithm_from_name(a.get("calibrator", "entropy"));
  if (a.has("percentile")) {
    b.calibration_percentile = a.get_double("percentile", 0);
    if (!(b.calibration_percentile > 0 && b.calibration_percentile <= 100))
      fail(ErrorKind::kInvalidArgument, "--percentile expects a number in (0, 100], got '", a.get("percentile"), "'");
  }
  b.calibration_batch = a.get_int("calibration-batch", 0);
  b.calibration_batches = a.get_int("calibration-batches", 0);
  if ((a.has("calibration-batch") && b.calibration_batch < 1) || b.calibration_batches < 0)
    fail(ErrorKind::kInvalidArgument, "--calibration-batch must be >= 1 and --calibration-batches >= 0");
  b.exclude_layers = a.list("exclude-layers");
  b.int8_bias_correction = int8_bias_correction_from_name(a.get("int8-bias-correction", "off"));
  b.int8_equalization = int8_equalization_from_name(a.get("int8-equalization", "off"));
  set_int8_float_layers(b, a.get("int8-float-layers", "0"));
  if (a.has("int8-target-agreement")) {
    char* end = nullptr;
    const std::string t = a.get("int8-target-agreement");
    b.int8_target_agreement = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0') b.int8_target_agreement = -1;  // refused by the build, naming the option
  }
  for (const std::string& spec : a.list("layer-precision")) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || spec.substr(colon + 1) != "fp32")
      fail(ErrorKind::kInvalidArgument, "--layer-precision expects name:fp32 (the layers an INT8 build keeps in ",
           "float), got '", spec, "'");
    b.exclude_layers.push_back(spec.substr(0, colon));
  }
  b.device = int(a.get_int("device", 0));
  return b;
}

SystemOptions system_options(const Args& a) {
  SystemOptions s;
  const int64_t threads = a.get_int("threads", 0);
  s.threads = int(threads);
  if (s.threads != threads)
    fail(ErrorKind::kInvalidArgument, "--threads must be 0 (all cores) or a core count, got ", threads);
  if (a.has("no-cuda-graph") && a.has("useCudaGraph"))
    fail(ErrorKind::kInvalidArgument, "--no-cuda-graph and --useCudaGraph contradict each other");
  s.cuda_graph = !a.has("no-cuda-graph");
  return s;
}

// The backend a build will use, known before any work so flags it ignores fail first.
std::string resolved_backend(const BuildOptions& b) {
  if (b.backend == BackendKind::kAuto) return cuda_device_available() ? "cuda" : "cpu";
  return backend_kind_name(b.backend);
}

std::string default_plan_path(const std::string& onnx) {
  const size_t dot = onnx.rfind('.');
  const size_t slash = onnx.rfind('/');
  const std::string stem = (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? onnx.substr(0, dot) : onnx;
  return stem + ".plan";
}

std::unique_ptr<Engine> build_engine(const Args& a, std::ostream& out) {
  const ModelOptions m = model_options(a);
  const BuildOptions b = build_options(a);
  check_backend_flags(a, resolved_backend(b));
  std::string log;
  std::unique_ptr<Engine> e = Engine::build(m, b, system_options(a), &log, terminal_progress());
  out << log;
  return e;
}

int cmd_build(const Args& a, std::ostream& out) {
  if (!a.has("onnx")) fail(ErrorKind::kInvalidArgument, "build needs --onnx model.onnx");
  const std::string plan = a.get("plan", default_plan_path(a.get("onnx")));
  check_writable_file(plan, "the plan");
  std::unique_ptr<Engine> e = build_engine(a, out);
  e->save(plan);
  if (a.has("verbose")) print_engine(out, engine_summary(*e));
  out << "plan written: " << plan << "\n";
  return 0;
}

// Calibrates and writes the Q/DQ ONNX model (TensorRT's explicit quantization) instead of a plan.
int cmd_quantize(const Args& a, std::ostream& out) {
  if (!a.has("onnx")) fail(ErrorKind::kInvalidArgument, "quantize needs --onnx model.onnx");
  const ModelOptions m = model_options(a);
  BuildOptions b = build_options(a);
  b.precision = Precision::kINT8;
  std::string output = a.get("output");
  if (output.empty()) {
    const std::string plan = default_plan_path(m.onnx_path);
    output = plan.substr(0, plan.size() - 5) + ".qdq.onnx";
  }
  std::string log;
  quantize_model(m, b, system_options(a), output, &log, terminal_progress());
  out << log;
  return 0;
}

std::unique_ptr<Engine> load_engine(const Args& a, std::ostream& out) {
  std::unique_ptr<Engine> e = Engine::load(a.get("plan"), system_options(a));
  out << "plan: " << a.get("plan") << " on " << e->backend_name() << " (" << e->device_description() << ")\n";
  return e;
}

int cmd_run(const Args& a, std::ostream& out) {
  if (!a.has("plan")) fail(ErrorKind::kInvalidArgument, "run needs --plan model.plan (or --loadEngine)");
  std::unique_ptr<Engine> e = load_engine(a, out);
  return run_engine(*e, a, out);
}

// What a plan holds is fixed; options that would change it are errors rather than ignored.
void refuse_build_options_on_plan(const Args& a) {
  for (const auto& [key, values] : a.values)
    if (key != "plan" && key != "verbose" && key != "threads" && key != "device")
      fail(ErrorKind::kInvalidArgument, a.flag(key),
           " does not apply to `inspect --plan`: it shows the plan as it was built; to see the effect, use inspect "
           "--onnx with the option, or rebuild");
}

int cmd_inspect(const Args& a, std::ostream& out) {
  if (a.has("passes")) {
    print_pass_list(out);
    return 0;
  }
  if (a.has("plan") && !a.has("onnx")) {
    refuse_build_options_on_plan(a);
    std::unique_ptr<Engine> e = Engine::load(a.get("plan"), system_options(a));
    print_engine(out, engine_summary(*e));
    return 0;
  }
  if (!a.has("onnx"))
    fail(ErrorKind::kInvalidArgument, "inspect needs --onnx model.onnx, --plan model.plan or --passes");
  if (a.has("plan")) fail(ErrorKind::kInvalidArgument, "give inspect --onnx or --plan, not both");
  const std::string path = a.get("onnx");
  if (print_support(out, path, check_onnx_support(path)) > 0) return 1;
  PassContext ctx;
  ctx.disabled = a.has("disable-pass") ? a.values.at("disable-pass") : std::vector<std::string>{};
  std::vector<PassRecord> passes;
  const std::string stage = a.get("stop-after", "optimize");
  const BuildOptions b = build_options(a);
  std::string log;
  const Graph g = load_graph(model_options(a), stage_from_name(stage), ctx, &passes, &b, &log);
  out << log;
  print_graph(out, g, passes, stage);
  return 0;
}

// A plan being loaded rather than built: the build options cannot change it.
void refuse_build_options_on_load(const Args& a, const char* how) {
  static const char* const build_keys[] = {
      "backend", "half", "int8", "calibration-dir", "calibration-cache", "calibrator", "percentile",
      "calibration-batch", "calibration-batches", "exclude-layers", "int8-fallback", "int8-bias-correction",
      "int8-equalization", "int8-float-layers", "int8-target-agreement", "strict-fp32", "io-half",
      "disable-pass", "timing-cache", "workspace", "memPoolSize", "minShapes", "optShapes", "maxShapes"};
  for (const char* k : build_keys)
    if (a.has(k))
      fail(ErrorKind::kInvalidArgument, a.flag(k), " does not apply when ", how,
           " loads a plan: it is fixed when the plan is built; build from the model (--onnx) with it instead");
}

// Builds from --onnx and saves to --plan when given (checked writable before the work).
std::unique_ptr<Engine> build_and_save(const Args& a, std::ostream& out) {
  if (a.has("plan")) check_writable_file(a.get("plan"), "the plan");
  std::unique_ptr<Engine> e = build_engine(a, out);
  if (a.has("plan")) {
    e->save(a.get("plan"));
    out << "plan written: " << a.get("plan") << "\n";
  }
  return e;
}

// The thesis script's form: --file builds (and saves to --plan if given), --plan alone loads; --dir runs.
int cmd_legacy(const Args& a, std::ostream& out) {
  std::unique_ptr<Engine> e;
  if (a.has("onnx")) {
    e = build_and_save(a, out);
  } else if (a.has("plan")) {
    refuse_build_options_on_load(a, "--plan without --file");
    e = Engine::load(a.get("plan"), system_options(a));
  } else {
    fail(ErrorKind::kInvalidArgument, "give --file=model.onnx (build) or --plan=model.plan (load)");
  }
  print_engine(out, engine_summary(*e));
  if (a.has("dir") || a.has("iter")) return run_engine(*e, a, out);
  for (const char* k : {"warmup", "warmUp", "duration", "avgRuns", "noDataTransfers", "json", "profile", "exportTimes",
                        "exportProfile", "separateProfileRun", "output-dir"})
    if (a.has(k))
      fail(ErrorKind::kInvalidArgument, a.flag(k), " needs a run: add --dir=samples/ or --iter=N");
  return 0;
}

// `trtcore trtexec ...`: --onnx builds (saving to --saveEngine if given) and then runs; --loadEngine runs.
int cmd_trtexec(const Args& a, std::ostream& out) {
  std::unique_ptr<Engine> e;
  if (a.has("onnx")) {
    e = build_and_save(a, out);
  } else if (a.has("plan")) {
    refuse_build_options_on_load(a, "--loadEngine");
    e = load_engine(a, out);
  } else {
    fail(ErrorKind::kInvalidArgument, "trtexec needs --onnx=model.onnx (build, then run) or --loadEngine=model.plan");
  }
  if (a.has("verbose")) print_engine(out, engine_summary(*e));
  return run_engine(*e, a, out);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty()) {
      print_help(out, std::nullopt);
      return 2;
    }
    const std::string word = args[0];
    if (word == "--help" || word == "-h" || word == "help") {
      print_help(out, std::nullopt);
      return 0;
    }
    if (word == "--version" || word == "version") {
      const std::string isa = cpu_kernel_isa();  // may fail (a bad TRTCORE_CPU_ISA) before anything is printed
      out << "trtcore " << version() << "\n";
      std::string backends;
      for (const std::string& b : compiled_backends()) backends += (backends.empty() ? "" : ", ") + b;
      out << "backends: " << backends << "\ncpu kernels: " << isa << "\n";
      return 0;
    }
    const bool legacy = word.rfind("--", 0) == 0;
    const std::optional<Command> named = command_from_name(word);
    const std::vector<std::string> python_commands = {"prepare", "report",  "compare",      "baseline",
                                                      "debug",   "serve",   "export-triton"};
    for (const std::string& py : python_commands)
      if (!legacy && word == py)
        fail(ErrorKind::kInvalidArgument, "'", word, "' is a command of the Python package: run `trtcore ", word,
             " ...` (pip install trtcore); this executable runs build, run, inspect, quantize and trtexec");
    if (!legacy && !named) {
      std::vector<std::string> all = {"build", "run", "inspect", "quantize", "trtexec"};
      all.insert(all.end(), python_commands.begin(), python_commands.end());
      const std::string near = nearest_command(word, all);
      fail(ErrorKind::kInvalidArgument, "unknown command '", word, "'", near.empty() ? "" : "; did you mean " + near + "?",
           " (commands: build, run, inspect, quantize, trtexec; the Python package adds prepare, report, compare, "
           "baseline, debug, serve, export-triton; see --help)");
    }
    const Command cmd = legacy ? Command::kLegacy : *named;
    const Args a = parse_args(args, legacy ? 0 : 1, cmd);
    if (a.has("help")) {
      print_help(out, cmd);
      return 0;
    }
    if (cmd == Command::kBuild || (cmd != Command::kRun && cmd != Command::kQuantize && a.has("onnx")))
      check_int8_options(a, cmd == Command::kInspect ? nullptr : &err);
    switch (cmd) {
      case Command::kBuild: return cmd_build(a, out);
      case Command::kRun: return cmd_run(a, out);
      case Command::kInspect: return cmd_inspect(a, out);
      case Command::kQuantize: return cmd_quantize(a, out);
      case Command::kLegacy: return cmd_legacy(a, out);
      case Command::kTrtexec: return cmd_trtexec(a, out);
    }
    return 2;
  } catch (const Error& e) {
    err << "trtcore: error: " << e.what() << "\n";
    return e.kind() == ErrorKind::kRuntime ? 1 : 2;
  } catch (const std::bad_alloc&) {
    err << "trtcore: error: out of host memory\n";
    return 1;
  } catch (const std::exception& e) {
    err << "trtcore: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace trtcore
