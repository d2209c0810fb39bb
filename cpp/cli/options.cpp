#include "cli/options.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "trtcore/engine.h"
#include "trtcore/error.h"

namespace trtcore {
namespace {

// Commands as bits, so one table row says where a flag belongs.
constexpr unsigned B = 1, R = 2, I = 4, Q = 8, L = 16, T = 32;
constexpr unsigned kBuildLike = B | L | T, kRunLike = R | L | T, kAll = B | R | I | Q | L | T;

unsigned bit(Command c) {
  switch (c) {
    case Command::kBuild: return B;
    case Command::kRun: return R;
    case Command::kInspect: return I;
    case Command::kQuantize: return Q;
    case Command::kLegacy: return L;
    case Command::kTrtexec: return T;
  }
  return 0;
}

// One flag. names[0] is how help lists it; store_as (if set) is the canonical key its value lands under, so
// trtexec's spellings with a command-specific meaning (--saveEngine on build, --loadEngine on run) are rows of
// their own. metavar null: a switch without value.
struct Flag {
  std::vector<std::string> names;
  const char* store_as;
  const char* group;
  const char* metavar;
  unsigned commands;
  const char* help;
  const char* why;  // why it does not apply to the other commands
  const char* run_help = nullptr;  // what it means to `run`, where that differs from building
};

const char* const kBuildTime = "precision is fixed when the plan is built; rebuild with build ";
const char* const kRunTime = "build writes a plan and runs nothing; time it with run --plan";

// The model and build phases: what a plan is made from and how.
std::vector<Flag> build_flags() {
  return {
      // model
      {{"onnx", "file"}, nullptr, "model", "FILE", B | I | Q | L | T, "ONNX model to build from",
       "run takes a built plan (--plan); build one with build --onnx"},
      {{"batch"}, nullptr, "model", "N", kAll,
       "the largest batch the plan takes (default: the model's, 1 if dynamic)", "",
       "the batch to run, up to the plan's (default: the plan's largest)"},
      {{"shapes"}, nullptr, "model", "SPEC", kAll, "fixes dynamic axes: name:1x3x640x640[,name2:...]", "",
       "name:2x3x224x224[,...]: axis 0 picks the batch; the other axes must be the plan's"},
      {{"minShapes"}, nullptr, "model", "SPEC", kBuildLike,
       "trtexec: smallest shapes; only the batch axis may differ from --maxShapes (one profile per plan)",
       "shapes are fixed when the plan is built; rebuild with build --maxShapes (run --shapes picks the batch)"},
      {{"optShapes"}, nullptr, "model", "SPEC", kBuildLike,
       "trtexec: shapes to tune for; only the batch axis may differ from --maxShapes",
       "shapes are fixed when the plan is built; rebuild with build --maxShapes (run --shapes picks the batch)"},
      {{"maxShapes"}, nullptr, "model", "SPEC", kBuildLike,
       "trtexec: largest shapes; axis 0 is the plan's maximum batch (= --batch), the rest as --shapes",
       "shapes are fixed when the plan is built; rebuild with build --maxShapes (run --shapes picks the batch)"},
      {{"output", "o"}, nullptr, "model", "FILE", Q, "the Q/DQ ONNX model to write (default: <model>.qdq.onnx)",
       "only quantize writes an ONNX model; build writes --plan"},
      // build
      {{"backend"}, nullptr, "build", "NAME", B | I | Q | L | T,
       "auto | cpu | cuda | tensorrt (auto = cuda when a GPU is usable, else cpu)",
       "a plan is built for one backend; rebuild with build --backend"},
      {{"half", "fp16"}, nullptr, "build", nullptr, B | I | L | T, "FP16 precision", "half"},
      {{"int8"}, nullptr, "build", nullptr, B | I | Q | L | T,
       "INT8 precision (needs --calibration-dir or a calibration cache)", "int8"},
      {{"calibration-dir", "calibration_dir"}, nullptr, "build", "DIR", B | I | Q | L | T,
       "raw calibration samples (implies --int8; with --half: the FP16 range guard's samples)", "int8"},
      {{"calibration-cache", "calibration", "calib"}, nullptr, "build", "FILE", B | I | Q | L | T,
       "calibration cache (read if present, else written)", "int8"},
      {{"calibrator"}, nullptr, "build", "NAME", B | I | Q | L | T,
       "INT8 threshold algorithm: entropy (default) | max | percentile | mse", "int8"},
      {{"percentile"}, nullptr, "build", "P", B | I | Q | L | T,
       "percentile kept by --calibrator percentile (default 99.99)", "int8"},
      {{"calibration-batch"}, nullptr, "build", "N", B | I | Q | L | T,
       "samples per calibration run (default 8; more than the plan's batch is clamped to it, with a warning)", "int8"},
      {{"calibration-batches"}, nullptr, "build", "N", B | I | Q | L | T,
       "calibrate on at most this many batches (default: every sample)", "int8"},
      {{"exclude-layers"}, nullptr, "build", "LIST", B | I | Q | L | T,
       "layers INT8 leaves in float: name[,name2...] (see `inspect --plan`)", "int8"},
      {{"layer-precision", "layerPrecisions"}, nullptr, "build", "LIST", B | I | Q | L | T,
       "per-layer precision: name:fp32[,name2:fp32...] (with --int8, the same as --exclude-layers)", "int8"},
      {{"int8-fallback"}, nullptr, "build", "P", B | I | L | T,
       "precision of the layers --int8 leaves in float: fp16 (cuda's default; --int8 --half) | fp32 (cpu's)", "int8"},
      {{"int8-bias-correction"}, nullptr, "build", "off|on", B | I | Q | L | T,
       "INT8: biases absorb the mean output shift of int8 weight rounding (default off)", "int8"},
      {{"int8-equalization"}, nullptr, "build", "off|on|activations", B | I | Q | L | T,
       "INT8: cross-layer equalization of Conv pairs before calibration, from weight ranges (on) or from the "
       "calibration samples' per-channel ranges (activations) (default off)", "int8"},
      {{"int8-float-layers"}, nullptr, "build", "N|auto", B | I | Q | L | T,
       "INT8: keep the N layers most sensitive to INT8 in float (scores in <cache>.sensitivity; default 0); auto: "
       "the fewest that reach --int8-target-agreement", "int8"},
      {{"int8-target-agreement"}, nullptr, "build", "F", B | I | Q | L | T,
       "INT8: top-1 agreement with FP32 on the calibration samples that --int8-float-layers auto reaches "
       "(default 0.99)", "int8"},
      {{"strict-fp32", "noTF32"}, nullptr, "build", nullptr, B | I | L | T, "no TF32 tensor-core math for FP32 layers",
       "strict-fp32"},
      {{"io-half"}, nullptr, "build", nullptr, B | I | L | T, "FP16 inputs and outputs", "half --io-half"},
      {{"disable-pass"}, nullptr, "build", "NAME", B | I | Q | L | T,
       "skip an optimizer pass (repeatable; see `inspect --passes`)",
       "passes run when the plan is built; rebuild with build --disable-pass"},
      {{"timing-cache", "timingCacheFile"}, nullptr, "build", "FILE", kBuildLike,
       "tactic timing cache file (cuda, tensorrt)",
       "tactics are timed when the plan is built; rebuild with build --timing-cache"},
      {{"workspace"}, nullptr, "build", "MiB", kBuildLike,
       "largest scratch one layer's tactic may use, in MiB (default: automatic)",
       "tactics are chosen when the plan is built; rebuild with build --workspace"},
      {{"memPoolSize"}, nullptr, "build", "workspace:N", kBuildLike,
       "trtexec: workspace:N[B|K|M|G] (MiB without unit) = --workspace; other pools do not exist here",
       "tactics are chosen when the plan is built; rebuild with build --memPoolSize"},
      {{"saveEngine"}, "plan", "build", "FILE", kBuildLike, "trtexec: the plan to write (= --plan)",
       "run reads a plan: --loadEngine or --plan"},
  };
}

// The system, inference and reporting phases: where and how a plan runs, and what is reported.
std::vector<Flag> run_flags() {
  return {
      // system
      {{"device"}, nullptr, "system", "N", kAll, "CUDA device ordinal", ""},
      {{"threads"}, nullptr, "system", "N", kAll, "cpu backend threads (0 = all cores; at most 4 per core)", ""},
      {{"no-cuda-graph"}, nullptr, "system", nullptr, B | R | L | T,
       "cuda: launch kernels one by one instead of replaying a CUDA graph", "it launches no timed kernels"},
      {{"useCudaGraph"}, nullptr, "system", nullptr, B | R | L | T,
       "trtexec: replay CUDA graphs (the cuda backend's default)", "it launches no timed kernels"},
      // inference
      {{"plan"}, nullptr, "inference", "FILE", B | R | I | L | T, "plan file (written by build, read by run/inspect)",
       "quantize writes a Q/DQ ONNX model, not a plan; name it with -o"},
      {{"loadEngine"}, "plan", "inference", "FILE", R | I | L | T, "trtexec: the plan to read (= --plan)",
       "build writes a plan: --saveEngine or --plan"},
      {{"dir"}, nullptr, "inference", "DIR", kRunLike,
       "directory of raw float32 samples, one per file (several inputs: a sub-folder per input name)", kRunTime},
      {{"output-dir", "output_dir"}, nullptr, "inference", "DIR", kRunLike, "where to write one output file per input",
       kRunTime},
      {{"iter", "iterations"}, nullptr, "inference", "N", kRunLike,
       "timed iterations (default 10; with --dir: passes over the directory, default 1)", kRunTime},
      {{"warmup"}, nullptr, "inference", "N", kRunLike, "untimed warm-up iterations (default 3)", kRunTime},
      {{"warmUp"}, nullptr, "inference", "MS", kRunLike,
       "trtexec: warm up for this many milliseconds (untimed iterations until it has passed, at least 1)", kRunTime},
      {{"duration"}, nullptr, "inference", "S", kRunLike,
       "time at least this many seconds: runs until both --iter and --duration are reached", kRunTime},
      {{"avgRuns"}, nullptr, "inference", "N", kRunLike,
       "trtexec: statistics over means of N consecutive iterations (default 1: every iteration)", kRunTime},
      {{"noDataTransfers"}, nullptr, "inference", nullptr, kRunLike,
       "report compute only: latency and throughput without host-device copies", kRunTime},
      // reporting
      {{"json"}, nullptr, "reporting", "FILE", kRunLike, "write results as JSON (with the per-layer profile if taken)",
       kRunTime},
      {{"profile", "dumpProfile"}, nullptr, "reporting", nullptr, kRunLike, "per-layer times", kRunTime},
      {{"exportTimes"}, nullptr, "reporting", "FILE", kRunLike, "per-iteration times as JSON", kRunTime},
      {{"exportProfile"}, nullptr, "reporting", "FILE", kRunLike, "per-layer times as JSON (implies --profile)",
       kRunTime},
      {{"separateProfileRun"}, nullptr, "reporting", nullptr, kRunLike,
       "trtexec: profile in a run of its own (always so here; needs --profile or --exportProfile)", kRunTime},
      {{"stop-after"}, nullptr, "reporting", "STAGE", I,
       "import | optimize | precision (default optimize; precision with --half/--int8)",
       "only inspect stops a build early; see inspect --help"},
      {{"passes"}, nullptr, "reporting", nullptr, I, "list the optimizer passes", "only inspect lists passes"},
      {{"verbose", "v"}, nullptr, "reporting", nullptr, kAll,
       "more detail: build and inspect list every layer, run lists every iteration", ""},
      {{"help", "h"}, nullptr, "reporting", nullptr, kAll, "show this help", ""},
  };
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = [] {
    std::vector<Flag> all = build_flags();
    for (Flag& f : run_flags()) all.push_back(std::move(f));
    return all;
  }();
  return table;
}

const Flag* find_flag(const std::string& name) {
  for (const Flag& f : flags())
    for (const std::string& n : f.names)
      if (n == name) return &f;
  return nullptr;
}

// Levenshtein distance, ignoring case (so --saveengine finds --saveEngine).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The flag names closest to `name`, nearest first, within a third of its length (at least 2 edits): `cmd`'s own
// flags, else other commands' flags marked with where they belong.
std::vector<std::string> suggestions(const std::string& name, Command cmd) {
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  for (const bool own : {true, false}) {
    std::vector<std::pair<size_t, std::string>> near;
    for (const Flag& f : flags()) {
      if (own != bool(f.commands & bit(cmd))) continue;
      std::string where;
      for (Command c : {Command::kBuild, Command::kRun, Command::kInspect, Command::kQuantize})
        if (!own && (f.commands & bit(c)))
          where += (where.empty() ? " (an option of " : " and ") + std::string(command_name(c));
      if (!where.empty()) where += ")";
      for (const std::string& n : f.names) {
        const size_t d = edit_distance(name, n);
        if (d <= limit && n.size() > 1) near.emplace_back(d, "--" + n + where);
      }
    }
    std::stable_sort(near.begin(), near.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (const auto& [d, n] : near)
      if (out.size() < 3 && d == near.front().first) out.push_back(n);
    if (!out.empty()) return out;
  }
  return {};
}

// trtexec flags with no counterpart here, and what to do instead: a trtexec user gets a reason, not a bare
// "unknown option".
const std::map<std::string, const char*>& trtexec_without_counterpart() {
  static const std::map<std::string, const char*> table = {
      {"best", "choose one precision: --half or --int8 (with --calibration-dir)"},
      {"buildOnly", "build writes the plan without running it: trtcore build"},
      {"skipInference", "build writes the plan without running it: trtcore build"},
      {"loadInputs", "run reads raw float32 samples from a folder: run --dir"},
      {"exportOutput", "run writes one output file per sample: run --dir ... --output-dir"},
      {"dumpOutput", "run writes one output file per sample: run --dir ... --output-dir"},
      {"streams", "one engine runs several contexts from Python (Engine.create_context)"},
      {"infStreams", "one engine runs several contexts from Python (Engine.create_context)"},
      {"exportLayerInfo", "inspect --plan lists every layer with its precision and tactic"},
      {"profilingVerbosity", "inspect --plan always lists every layer"},
      {"explicitBatch", "every plan has an explicit batch axis"},
      {"stronglyTyped", "precision comes from --half/--int8 and the model's own Q/DQ nodes"},
      {"precisionConstraints", "--layer-precision name:fp32 always holds"},
      {"inputIOFormats", "inputs are float32, or float16 with --io-half"},
      {"outputIOFormats", "outputs are float32, or float16 with --io-half"},
      {"useSpinWait", "the host always waits for completion by synchronizing"},
      {"builderOptimizationLevel", "the cuda backend always times its tactics"},
      {"noBuilderCache", "tactic timings are cached only with --timing-cache"},
  };
  return table;
}

// `written` is the flag as given ("-x" or "--x"), so the message quotes the user's own words.
[[noreturn]] void unknown_flag(const std::string& name, const std::string& written, Command cmd) {
  const auto trtexec = trtexec_without_counterpart().find(name);
  if (trtexec != trtexec_without_counterpart().end())
    fail(ErrorKind::kInvalidArgument, written, " is a trtexec option trtcore does not have; ", trtexec->second);
  const std::vector<std::string> near = suggestions(name, cmd);
  std::string hint;
  for (size_t i = 0; i < near.size(); ++i) hint += (i ? (i + 1 == near.size() ? " or " : ", ") : "") + near[i];
  fail(ErrorKind::kInvalidArgument, "unknown option ", written, near.empty() ? "" : "; did you mean " + hint + "?",
       " (see ", cmd == Command::kLegacy ? std::string("--help") : std::string(command_name(cmd)) + " --help", ")");
}

[[noreturn]] void misplaced_flag(const Flag& f, const std::string& written, Command cmd) {
  std::string why = f.why;
  if (cmd == Command::kQuantize && std::string(f.group) == "build")
    why = "quantize writes an INT8 Q/DQ ONNX model; precision, tactic and plan options belong to build";
  else if (cmd == Command::kInspect && (f.commands & R))
    why = "inspect runs nothing; time a plan with run --plan";
  else if (why == "half" || why == "int8" || why == "strict-fp32" || why == "half --io-half")
    why = std::string(kBuildTime) + "--" + why;
  fail(ErrorKind::kInvalidArgument, written, " does not apply to `", command_name(cmd), "`: ", why);
}

}  // namespace

std::string nearest_command(const std::string& word, const std::vector<std::string>& commands) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : commands) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best = c, best_d = d;
  }
  return best;
}

std::optional<Command> command_from_name(const std::string& name) {
  for (Command c : {Command::kBuild, Command::kRun, Command::kInspect, Command::kQuantize, Command::kTrtexec})
    if (name == command_name(c)) return c;
  return std::nullopt;
}

const char* command_name(Command c) {
  switch (c) {
    case Command::kBuild: return "build";
    case Command::kRun: return "run";
    case Command::kInspect: return "inspect";
    case Command::kQuantize: return "quantize";
    case Command::kLegacy: return "trtcore --file=...";
    case Command::kTrtexec: return "trtexec";
  }
  return "";
}

std::string Args::get(const std::string& k, const std::string& def) const {
  auto it = values.find(k);
  return it == values.end() ? def : it->second.back();
}

std::string Args::flag(const std::string& k) const {
  auto it = spelled.find(k);
  return "--" + (it == spelled.end() ? k : it->second);
}

int64_t Args::get_int(const std::string& k, int64_t def) const {
  if (!has(k)) return def;
  const std::string v = get(k);
  size_t used = 0;
  long long x = 0;
  try {
    x = std::stoll(v, &used);
  } catch (...) {
    used = 0;
  }
  if (used != v.size() || v.empty()) fail(ErrorKind::kInvalidArgument, flag(k), " expects an integer, got '", v, "'");
  return x;
}

double Args::get_double(const std::string& k, double def) const {
  if (!has(k)) return def;
  const std::string v = get(k);
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (...) {
    used = 0;
  }
  // nan and inf parse as numbers but are never a useful duration, percentile or threshold
  if (used != v.size() || v.empty() || !std::isfinite(x))
    fail(ErrorKind::kInvalidArgument, flag(k), " expects a finite number, got '", v, "'");
  return x;
}

std::vector<std::string> Args::list(const std::string& k) const {
  std::vector<std::string> out;
  auto it = values.find(k);
  if (it == values.end()) return out;
  for (const std::string& v : it->second) {
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) out.push_back(item);
  }
  return out;
}

Args parse_args(const std::vector<std::string>& argv, size_t start, Command cmd) {
  Args a;
  for (size_t i = start; i < argv.size(); ++i) {
    std::string tok = argv[i];
    if (tok.rfind("--", 0) != 0 && !(tok.size() == 2 && tok[0] == '-'))
      fail(ErrorKind::kInvalidArgument, "unexpected argument '", tok, "' (options start with --)");
    const size_t dashes = tok[1] == '-' ? 2 : 1;
    tok = tok.substr(dashes);
    std::string value;
    bool inline_value = false;
    const size_t eq = tok.find('=');
    if (eq != std::string::npos) {
      value = tok.substr(eq + 1);
      tok = tok.substr(0, eq);
      inline_value = true;
    }
    const std::string written = std::string(dashes, '-') + tok;
    const Flag* f = find_flag(tok);
    if (!f) unknown_flag(tok, written, cmd);
    if (!(f->commands & bit(cmd))) misplaced_flag(*f, written, cmd);
    if (f->metavar && !inline_value) {
      if (i + 1 >= argv.size()) fail(ErrorKind::kInvalidArgument, "option ", written, " needs a value");
      value = argv[++i];
    } else if (!f->metavar && inline_value) {
      fail(ErrorKind::kInvalidArgument, "option ", written, " takes no value");
    }
    const std::string key = f->store_as ? f->store_as : f->names[0];
    a.values[key].push_back(value);
    a.spelled[key] = tok;
  }
  return a;
}

namespace {

const char* usage(Command c) {
  switch (c) {
    case Command::kBuild: return "trtcore build --onnx model.onnx [--batch N] [--half|--int8 ...] [--plan out.plan]";
    case Command::kRun:
      return "trtcore run --plan model.plan [--dir samples/ [--output-dir out/]] [--iter N] [--json f]";
    case Command::kInspect:
      return "trtcore inspect --onnx model.onnx [--stop-after import|optimize|precision] | --plan p | --passes";
    case Command::kQuantize:
      return "trtcore quantize --onnx model.onnx --calibration-dir samples/ [--calibrator ...] [-o model.qdq.onnx]";
    case Command::kLegacy:
      return "trtcore --file=model.onnx --plan=model.plan --dir=samples/ --output_dir=out/ --batch=8 --iter=10";
    case Command::kTrtexec:
      return "trtcore trtexec --onnx=model.onnx [--saveEngine=p] [--fp16] ... | --loadEngine=p [--iterations=N] ...\n"
             "  (--onnx: build, then run as trtexec does; --loadEngine: run; trtcore's run defaults otherwise)";
  }
  return "";
}

// `text` from column `indent` (where the cursor is) to `width`, broken between words.
void print_wrapped(std::ostream& out, const std::string& text, size_t indent, size_t width) {
  std::istringstream words(text);
  std::string word;
  size_t col = indent;
  bool first = true;
  while (words >> word) {
    if (!first && col + 1 + word.size() > width) {
      out << "\n" << std::string(indent, ' ');
      col = indent;
    } else if (!first) {
      out << ' ';
      ++col;
    }
    out << word;
    col += word.size();
    first = false;
  }
  out << "\n";
}

void print_flags(std::ostream& out, Command cmd) {
  for (const char* group : {"model", "build", "system", "inference", "reporting"}) {
    bool header = false;
    for (const Flag& f : flags()) {
      if (std::string(f.group) != group || !(f.commands & bit(cmd))) continue;
      if (!header) out << "\n" << group << " options:\n";
      header = true;
      std::string names;
      for (const std::string& n : f.names)
        names += (names.empty() ? "" : ", ") + std::string(n.size() == 1 ? "-" : "--") + n;
      if (f.metavar) names += std::string(" ") + f.metavar;
      // A long name list gets its own line, so the help column never runs into it.
      if (names.size() > 34) out << "  " << names << "\n  " << std::string(36, ' ');
      else out << "  " << std::left << std::setw(36) << names;
      print_wrapped(out, cmd == Command::kRun && f.run_help ? f.run_help : f.help, 38, 118);
    }
  }
}

}  // namespace

void print_help(std::ostream& out, std::optional<Command> cmd) {
  out << "trtcore " << version() << " — ONNX to optimized inference engine\n\n";
  if (cmd) {
    out << "usage: " << usage(*cmd) << "\n";
    print_flags(out, *cmd);
    return;
  }
  out << "usage: trtcore <command> [options]   (trtcore <command> --help lists the command's options)\n\n"
      << "commands:\n"
      << "  build      ONNX model -> plan (precision, INT8 calibration, tactics)\n"
      << "  run        time a plan; run a directory of samples and write the outputs\n"
      << "  inspect    op support and layers of a model, or what a plan holds\n"
      << "  quantize   calibrate and write the model as Q/DQ ONNX\n"
      << "  trtexec    a trtexec command line: --onnx builds then runs, --loadEngine runs\n\n"
      << "the thesis script's form (build and/or run in one command):\n  " << usage(Command::kLegacy) << "\n";
}

}  // namespace trtcore
