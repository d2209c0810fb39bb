#include "cli/cli.h"

#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "runtime/report.h"
#include "runtime/quantize_model.h"
#include "trtcore/engine.h"
#include "trtcore/error.h"
#include "trtcore/io.h"
#include "trtcore/onnx_import.h"

namespace trtcore {
namespace {

// One flag: its names (first is canonical; thesis-script spellings are aliases), its group and whether it takes a value.
struct Flag {
  std::vector<std::string> names;
  const char* group;
  bool takes_value;
  const char* help;
};

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {{"onnx", "file"}, "model", true, "ONNX model to build from"},
      {{"batch"}, "model", true, "maximum batch the plan is built for (and the run's batch); default: the model's, 1 if dynamic"},
      {{"shapes"}, "model", true, "fixed shapes for dynamic axes: name:1x3x640x640[,name2:...]"},
      {{"backend"}, "build", true, "auto | cpu | cuda | tensorrt (auto = cuda when a GPU is usable, else cpu)"},
      {{"half"}, "build", false, "FP16 precision"},
      {{"int8"}, "build", false, "INT8 precision (needs --calibration-dir or a calibration cache)"},
      {{"calibration-dir", "calibration_dir"}, "build", true, "directory of raw calibration samples (implies --int8; with --half: the FP16 range guard's samples)"},
      {{"calibration-cache", "calibration"}, "build", true, "calibration cache file (read if present, else written)"},
      {{"calibrator"}, "build", true, "INT8 threshold algorithm: entropy (default) | max | percentile | mse"},
      {{"percentile"}, "build", true, "percentile kept by --calibrator percentile (default 99.99)"},
      {{"calibration-batch"}, "build", true, "samples per calibration run (default 8, at most the plan's batch)"},
      {{"calibration-batches"}, "build", true, "calibrate on at most this many batches (default: every sample)"},
      {{"exclude-layers"}, "build", true, "layers INT8 leaves in float: name[,name2...] (see `inspect --plan`)"},
      {{"layer-precision"}, "build", true, "per-layer precision: name:fp32[,name2:fp32...] (with --int8, as --exclude-layers)"},
      {{"strict-fp32"}, "build", false, "no TF32 tensor-core math for FP32 layers"},
      {{"io-half"}, "build", false, "FP16 inputs and outputs"},
      {{"disable-pass"}, "build", true, "skip an optimizer pass (repeatable; see `inspect --passes`)"},
      {{"timing-cache"}, "build", true, "tactic timing cache file"},
      {{"workspace"}, "build", true, "largest scratch memory one layer's tactic may use, in MiB (default: automatic)"},
      {{"device"}, "system", true, "CUDA device ordinal"},
      {{"threads"}, "system", true, "cpu backend threads (0 = all cores; at most 4 per core)"},
      {{"no-cuda-graph"}, "system", false, "launch kernels one by one instead of replaying a CUDA graph"},
      {{"plan"}, "inference", true, "plan file (written by build, read by run/inspect)"},
      {{"output", "o"}, "model", true, "quantize: the Q/DQ ONNX model to write (default: <model>.qdq.onnx)"},
      {{"dir"}, "inference", true, "directory of raw float32 samples, one per file"},
      {{"output-dir", "output_dir"}, "inference", true, "where to write one output file per input"},
      {{"iter"}, "inference", true, "timed iterations (default 10; with --dir: passes over the directory, default 1)"},
      {{"warmup"}, "inference", true, "untimed warm-up iterations (default 3)"},
      {{"json"}, "reporting", true, "write results as JSON to this file"},
      {{"profile"}, "reporting", false, "per-layer times"},
      {{"stop-after"}, "reporting", true, "inspect --onnx: import | optimize | precision (default optimize; precision with --half/--int8)"},
      {{"passes"}, "reporting", false, "inspect: list the optimizer passes"},
      {{"help", "h"}, "reporting", false, "show this help"},
  };
  return table;
}

struct Args {
  std::map<std::string, std::vector<std::string>> values;  // canonical name -> values (repeatable)
  bool has(const std::string& k) const { return values.count(k) != 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second.back();
  }
  int64_t get_int(const std::string& k, int64_t def) const {
    if (!has(k)) return def;
    const std::string v = get(k);
    size_t used = 0;
    long long x = 0;
    try {
      x = std::stoll(v, &used);
    } catch (...) {
      used = 0;
    }
    if (used != v.size() || v.empty()) fail(ErrorKind::kInvalidArgument, "--", k, " expects an integer, got '", v, "'");
    return x;
  }
};

const Flag* find_flag(const std::string& name) {
  for (const Flag& f : flags())
    for (const std::string& n : f.names)
      if (n == name) return &f;
  return nullptr;
}

Args parse(const std::vector<std::string>& argv, size_t start) {
  Args a;
  for (size_t i = start; i < argv.size(); ++i) {
    std::string tok = argv[i];
    if (tok.rfind("--", 0) != 0 && !(tok.size() == 2 && tok[0] == '-'))
      fail(ErrorKind::kInvalidArgument, "unexpected argument '", tok, "' (options start with --)");
    tok = tok.substr(tok[1] == '-' ? 2 : 1);
    std::string value;
    bool inline_value = false;
    const size_t eq = tok.find('=');
    if (eq != std::string::npos) {
      value = tok.substr(eq + 1);
      tok = tok.substr(0, eq);
      inline_value = true;
    }
    const Flag* f = find_flag(tok);
    if (!f) fail(ErrorKind::kInvalidArgument, "unknown option --", tok, " (see --help)");
    if (f->takes_value && !inline_value) {
      if (i + 1 >= argv.size()) fail(ErrorKind::kInvalidArgument, "option --", tok, " needs a value");
      value = argv[++i];
    } else if (!f->takes_value && inline_value) {
      fail(ErrorKind::kInvalidArgument, "option --", tok, " takes no value");
    }
    a.values[f->names[0]].push_back(value);
  }
  return a;
}

void print_help(std::ostream& out) {
  out << "trtcore " << version() << " — ONNX to optimized inference engine\n\n"
      << "usage:\n"
      << "  trtcore build   --onnx model.onnx [--batch N] [--shapes ...] [--backend ...] [--half] [--plan out.plan]\n"
      << "  trtcore run     --plan model.plan [--dir samples/ [--output-dir out/]] [--batch N] [--iter N] [--json f]\n"
      << "  trtcore inspect --onnx model.onnx [--stop-after import|optimize|precision] | --plan model.plan | --passes\n"
      << "  trtcore quantize --onnx model.onnx --calibration-dir samples/ [--calibrator ...] [-o model.qdq.onnx]\n"
      << "  trtcore --file=model.onnx --plan=model.plan --dir=samples/ ...   (the thesis script's form)\n";
  const char* group = "";
  for (const Flag& f : flags()) {
    if (std::string(group) != f.group) {
      group = f.group;
      out << "\n" << group << " options:\n";
    }
    std::string names;
    for (const std::string& n : f.names) names += (names.empty() ? "--" : ", --") + n;
    out << "  " << std::left << std::setw(36) << (names + (f.takes_value ? " V" : "")) << f.help << "\n";
  }
}

ModelOptions model_options(const Args& a) {
  ModelOptions m;
  m.onnx_path = a.get("onnx");
  m.max_batch = a.get_int("batch", 0);
  if (a.has("batch") && m.max_batch < 1) fail(ErrorKind::kInvalidArgument, "--batch must be >= 1, got ", m.max_batch);
  if (a.has("shapes"))
    for (const std::string& spec_list : a.values.at("shapes")) {
      std::stringstream ss(spec_list);
      std::string spec;
      while (std::getline(ss, spec, ',')) {
        const size_t colon = spec.rfind(':');
        if (colon == std::string::npos || colon == 0)
          fail(ErrorKind::kInvalidArgument, "--shapes expects name:1x3x224x224, got '", spec, "'");
        m.shapes[spec.substr(0, colon)] = parse_shape(spec.substr(colon + 1));
      }
    }
  return m;
}

BuildOptions build_options(const Args& a) {
  BuildOptions b;
  b.backend = backend_kind_from_name(a.get("backend", "auto"));
  if (a.has("half")) b.precision = Precision::kFP16;
  // samples alone mean INT8 (the thesis script's form); with --half they feed the FP16 range guard
  if (a.has("int8") || (a.has("calibration-dir") && !a.has("half"))) b.precision = Precision::kINT8;
  b.fp32_math = a.has("strict-fp32") ? Fp32Math::kStrict : Fp32Math::kTF32;
  b.io_half = a.has("io-half");
  if (a.has("disable-pass")) b.disabled_passes = a.values.at("disable-pass");
  b.timing_cache = a.get("timing-cache");
  b.workspace_mib = a.get_int("workspace", 0);
  if (b.workspace_mib < 0) fail(ErrorKind::kInvalidArgument, "--workspace must be >= 0 MiB, got ", b.workspace_mib);
  b.calibration_dir = a.get("calibration-dir");
  b.calibration_cache = a.get("calibration-cache");
  b.calibrator = calibration_algorithm_from_name(a.get("calibrator", "entropy"));
  if (a.has("percentile")) {
    try {
      b.calibration_percentile = std::stod(a.get("percentile"));
    } catch (...) {
      b.calibration_percentile = -1;
    }
    if (!(b.calibration_percentile > 0 && b.calibration_percentile <= 100))
      fail(ErrorKind::kInvalidArgument, "--percentile expects a number in (0, 100], got '", a.get("percentile"), "'");
  }
  b.calibration_batch = a.get_int("calibration-batch", 8);
  b.calibration_batches = a.get_int("calibration-batches", 0);
  if (b.calibration_batch < 1 || b.calibration_batches < 0)
    fail(ErrorKind::kInvalidArgument, "--calibration-batch must be >= 1 and --calibration-batches >= 0");
  if (a.has("exclude-layers"))
    for (const std::string& list : a.values.at("exclude-layers")) {
      std::stringstream ss(list);
      std::string name;
      while (std::getline(ss, name, ','))
        if (!name.empty()) b.exclude_layers.push_back(name);
    }
  if (a.has("layer-precision"))
    for (const std::string& list : a.values.at("layer-precision")) {
      std::stringstream ss(list);
      std::string spec;
      while (std::getline(ss, spec, ',')) {
        const size_t colon = spec.rfind(':');
        if (colon == std::string::npos || colon == 0 || spec.substr(colon + 1) != "fp32")
          fail(ErrorKind::kInvalidArgument, "--layer-precision expects name:fp32 (the layers an INT8 build keeps in ",
               "float), got '", spec, "'");
        b.exclude_layers.push_back(spec.substr(0, colon));
      }
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
  s.cuda_graph = !a.has("no-cuda-graph");
  return s;
}

std::string default_plan_path(const std::string& onnx) {
  const size_t dot = onnx.rfind('.');
  const size_t slash = onnx.rfind('/');
  const std::string stem = (dot != std::string::npos && (slash == std::string::npos || dot > slash)) ? onnx.substr(0, dot) : onnx;
  return stem + ".plan";
}

// A one-line progress bar on stderr when it is a terminal; nothing otherwise, so logs carry no \r frames.
ProgressFn terminal_progress() {
  if (!::isatty(2)) return {};
  return [](const std::string& what, size_t done, size_t total) {
    const int width = 30, filled = total ? int(double(done) / double(total) * width) : width;
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu", what.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), ' ').c_str(), done, total);
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

int cmd_build(const Args& a, std::ostream& out) {
  if (!a.has("onnx")) fail(ErrorKind::kInvalidArgument, "build needs --onnx model.onnx");
  const ModelOptions m = model_options(a);
  const BuildOptions b = build_options(a);
  const std::string plan = a.get("plan", default_plan_path(m.onnx_path));
  check_writable_file(plan, "the plan");
  std::string log;
  std::unique_ptr<Engine> e = Engine::build(m, b, system_options(a), &log, terminal_progress());
  e->save(plan);
  out << log << "plan written: " << plan << "\n";
  return 0;
}

int run_engine(Engine& e, const Args& a, std::ostream& out) {
  if (a.has("json")) check_writable_file(a.get("json"), "the --json file");  // before the run, not after it
  const int64_t batch = a.get_int("batch", 0);
  const int warmup = int(a.get_int("warmup", 3));
  TimingReport report;
  if (a.has("dir")) {
    const int passes = int(a.get_int("iter", 1));
    const DirectoryRunResult d = e.run_directory(a.get("dir"), a.get("output-dir"), batch, passes);
    print_directory(out, d, a.get("output-dir"));
    // The GPU/steady-clock statistics come from at least 10 timed iterations even when --iter asks for fewer passes.
    report = timing_report(e, e.memory(), e.benchmark(batch, std::max(passes, 10), warmup), &d);
  } else {
    if (a.has("output-dir")) fail(ErrorKind::kInvalidArgument, "--output-dir needs --dir (outputs are written per input file)");
    report = timing_report(e, e.memory(), e.benchmark(batch, int(a.get_int("iter", 10)), warmup));
  }
  print_timing(out, report);
  if (a.has("profile"))
    print_profile(out, profile_report(e.layers(), e.profile_layers(batch == 0 ? e.max_batch() : batch, 10)));
  if (a.has("json")) {
    write_file_atomic(a.get("json"), timing_json(report));
    out << "results written: " << a.get("json") << "\n";
  }
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

int cmd_run(const Args& a, std::ostream& out) {
  if (!a.has("plan")) fail(ErrorKind::kInvalidArgument, "run needs --plan model.plan");
  std::unique_ptr<Engine> e = Engine::load(a.get("plan"), system_options(a));
  out << "plan: " << a.get("plan") << " on " << e->backend_name() << " (" << e->device_description() << ")\n";
  return run_engine(*e, a, out);
}

int cmd_inspect(const Args& a, std::ostream& out) {
  if (a.has("passes")) {
    print_pass_list(out);
    return 0;
  }
  if (a.has("plan") && !a.has("onnx")) {
    std::unique_ptr<Engine> e = Engine::load(a.get("plan"), system_options(a));
    print_engine(out, engine_summary(*e));
    return 0;
  }
  if (!a.has("onnx")) fail(ErrorKind::kInvalidArgument, "inspect needs --onnx model.onnx, --plan model.plan or --passes");
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

// The thesis script's form: --file builds (and saves to --plan if given), --plan alone loads; --dir runs.
int cmd_legacy(const Args& a, std::ostream& out) {
  std::unique_ptr<Engine> e;
  if (a.has("onnx")) {
    std::string log;
    e = Engine::build(model_options(a), build_options(a), system_options(a), &log, terminal_progress());
    out << log;
    if (a.has("plan")) {
      e->save(a.get("plan"));
      out << "plan written: " << a.get("plan") << "\n";
    }
  } else if (a.has("plan")) {
    e = Engine::load(a.get("plan"), system_options(a));
  } else {
    fail(ErrorKind::kInvalidArgument, "give --file=model.onnx (build) or --plan=model.plan (load)");
  }
  print_engine(out, engine_summary(*e));
  if (a.has("dir") || a.has("iter")) return run_engine(*e, a, out);
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty()) {
      print_help(out);
      return 2;
    }
    const std::string cmd = args[0];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      print_help(out);
      return 0;
    }
    if (cmd == "--version" || cmd == "version") {
      out << "trtcore " << version() << "\n";
      return 0;
    }
    const bool legacy = cmd.rfind("--", 0) == 0;
    const Args a = parse(args, legacy ? 0 : 1);
    if (a.has("help")) {
      print_help(out);
      return 0;
    }
    if (legacy) return cmd_legacy(a, out);
    if (cmd == "build") return cmd_build(a, out);
    if (cmd == "run") return cmd_run(a, out);
    if (cmd == "inspect") return cmd_inspect(a, out);
    if (cmd == "quantize") return cmd_quantize(a, out);
    fail(ErrorKind::kInvalidArgument, "unknown command '", cmd, "'; expected build, run, inspect or quantize (see --help)");
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
