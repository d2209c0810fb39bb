"""`trtcore debug precision`: which layer ruins INT8 accuracy, and which to leave in float.

Calibrates once (the cache goes to the output directory, so every later build reads it), builds FP32 as the
reference and the full INT8 plan, then for every layer the full INT8 build quantizes:
  (a) only that layer INT8 (every other one excluded): the damage it does on its own;
  (b) every layer INT8 except that one: what leaving it in float recovers.
Each plan runs the evaluation samples; the outputs are compared with FP32 (relative L2, cosine similarity, top-1
agreement, or top-1 accuracy against labels). A greedy pass then excludes the worst layers by (a), one more at a
time and re-measuring each step, until the target is met, and prints the matching `trtcore build` command.
"""
import argparse
import csv
import json
import math
import os
import shlex
import shutil
import sys
import time

import numpy as np

from . import _core
from .compare import error_stats
from .progress import Progress

REPORT = "precision_debug"
CACHE = "calibration.cache"


# ----------------------------------------------------------------------------------------------- samples

def _input_infos(onnx_path, batch):
    return _core.load_graph(onnx_path, batch=batch, stop_after="import").inputs


def read_samples(folder, onnx_path, batch):
    """(sorted file names, {input name: N×shape float32}) of a raw sample folder in `trtcore run --dir`'s format:
    one file per sample, or one sub-folder per input name when the model has several inputs."""
    infos = _input_infos(onnx_path, batch)
    inputs = [(t.name, list(t.shape[1:]) if t.batched else list(t.shape)) for t in infos]
    return _core.read_sample_folder(str(folder), inputs)


def read_labels(labels, files):
    """One class index per evaluation sample (sorted file order) from a .npy array, a text file of integers, or a
    labels.csv (file,label) as `trtcore prepare` writes it."""
    if labels is None:
        return None
    if isinstance(labels, (str, os.PathLike)):
        path = str(labels)
        if not os.path.isfile(path):
            raise _core.Error("labels file '%s' does not exist" % path)
        if path.endswith(".npy"):
            y = np.load(path).reshape(-1)
        else:
            from .data import load_labels
            try:
                lab = load_labels(path)
            except ValueError as e:
                raise _core.Error("labels file '%s': expected one integer per line (%s)" % (path, e))
            if isinstance(lab, dict):
                missing = [f for f in files if f not in lab]
                if missing:
                    raise _core.Error("labels file '%s' has no label for sample '%s'" % (path, missing[0]))
                lab = [lab[f] for f in files]
            y = np.asarray(lab)
    else:
        path, y = "labels", np.asarray(labels).reshape(-1)
    if len(y) != len(files):
        raise _core.Error("%s has %d labels for %d evaluation samples" % (path, len(y), len(files)))
    return y.astype(np.int64)


# ----------------------------------------------------------------------------------------------- measuring

def _infer(engine, arrays, batch):
    n = len(next(iter(arrays.values())))
    parts = {}
    for i in range(0, n, batch):
        out = engine.infer({k: v[i:i + batch] for k, v in arrays.items()})
        for k, v in out.items():
            parts.setdefault(k, []).append(v)
    return {k: np.concatenate(v) for k, v in parts.items()}


def measure(outputs, reference, labels=None):
    """Per-output relative L2, mean per-sample cosine and top-1 agreement against the reference; the summary uses
    the mean over outputs for errors and the first output for top-1 (agreement, and accuracy when labels exist)."""
    per = {}
    for name, ref in reference.items():
        n = ref.shape[0]
        s = error_stats(outputs[name].reshape(n, -1), ref.reshape(n, -1), rtol=0.0, atol=0.0)
        per[name] = {"rel_l2": s["rel_l2"], "cosine": s["cosine_mean"], "top1_agreement": s["top1_agreement"]}
    first = next(iter(reference))
    row = {"rel_l2": float(np.mean([p["rel_l2"] for p in per.values()])),
           "cosine": float(np.mean([p["cosine"] for p in per.values()])),
           "top1_agreement": per[first]["top1_agreement"], "outputs": per}
    if labels is not None:
        scores = outputs[first].reshape(len(labels), -1)
        row["accuracy"] = float(np.mean(np.argmax(scores, axis=1) == labels))
    return row


def _pick(layers, max_layers):
    """At most max_layers of them, spread evenly over the network (the first and last always kept)."""
    if not max_layers or max_layers >= len(layers):
        return list(layers)
    idx = sorted({int(round(i)) for i in np.linspace(0, len(layers) - 1, max_layers)})
    return [layers[i] for i in idx]


# ----------------------------------------------------------------------------------------------- the analysis

def quantized_layers(engine):
    """The layers of an INT8 plan that compute in int8: those writing int8, less the conversions between float and
    int8 (QuantizeLinear, DequantizeLinear) that --exclude-layers cannot name."""
    return [l for l in engine.layers if l.precision == "int8" and l.op not in ("QuantizeLinear", "DequantizeLinear")]


class _Runner:
    """Builds plans from the shared calibration cache and measures them on the evaluation samples."""

    def __init__(self, onnx_path, backend, batch, cache, calibrator, arrays, labels):
        self.common = dict(backend=backend, batch=batch)
        self.onnx, self.cache, self.calibrator = onnx_path, cache, calibrator
        self.arrays, self.labels, self.batch = arrays, labels, batch
        self.reference = None

    def int8(self, exclude, **extra):
        from . import build
        return build(self.onnx, precision="int8", calibration_cache=self.cache, calibrator=self.calibrator,
                     exclude_layers=list(exclude), **self.common, **extra)

    def row(self, engine, **fields):
        out = _infer(engine, self.arrays, self.batch)
        r = dict(fields)
        r["int8_layers"] = len(quantized_layers(engine))
        r.update(measure(out, self.reference, self.labels))
        return r


def _goal(rows, labels, target):
    """(metric name, value to reach): top-1 agreement >= target, or with labels accuracy >= target × FP32's."""
    if labels is None:
        return "top1_agreement", target
    return "accuracy", target * rows["fp32"]["accuracy"]


def _greedy(runner, order, int8_row, metric, goal, progress_stream):
    """Excludes layers in `order` one more at a time, re-measuring each step, until metric >= goal."""
    steps = [{"exclude": [], metric: int8_row[metric], "rel_l2": int8_row["rel_l2"]}]
    excluded = []
    for name in order:
        if steps[-1][metric] >= goal:
            break
        excluded.append(name)
        r = runner.row(runner.int8(excluded))
        steps.append({"exclude": list(excluded), metric: r[metric], "rel_l2": r["rel_l2"]})
        if progress_stream:
            progress_stream.write("debug precision: greedy, %d excluded: %s %.4f\n"
                                  % (len(excluded), metric, r[metric]))
    return steps


def build_command(onnx_path, calibration_dir, cache, calibrator, backend, batch, exclude, plan):
    """The `trtcore build` command line that builds the suggested INT8 plan."""
    argv = ["trtcore", "build", "--onnx", onnx_path, "--backend", backend, "--batch", str(batch), "--int8",
            "--calibration-dir", calibration_dir, "--calibration-cache", cache]
    if calibrator != "entropy":
        argv += ["--calibrator", calibrator]
    if exclude:
        argv += ["--exclude-layers", ",".join(exclude)]
    return argv + ["--plan", plan]


def debug_precision(onnx, calibration_dir, output_dir, eval_dir=None, labels=None, calibrator="entropy", batch=8,
                    backend="cpu", max_layers=0, target=0.99, progress=None):
    """Per-layer INT8 sensitivity of an ONNX model (see the module's docstring). Writes precision_debug.json/.csv/
    .md/.png and calibration.cache into output_dir and returns the JSON's content as a dict. labels: a path (.npy,
    or text with one integer per line) or an array, one class per evaluation sample in sorted file order.
    progress: True, False, or None (on when stderr is a terminal). Bad input raises trtcore.Error."""
    onnx, calibration_dir, output_dir = str(onnx), str(calibration_dir), str(output_dir)
    eval_dir = str(eval_dir) if eval_dir else calibration_dir
    if batch < 1:
        raise _core.Error("batch must be at least 1, got %d" % batch)
    if not 0 < target <= 1:
        raise _core.Error("target must be in (0, 1], got %g" % target)
    # the inputs are checked before anything is written, so a user error leaves no output folder behind
    files, arrays = read_samples(eval_dir, onnx, batch)
    y = read_labels(labels, files)
    created = not os.path.isdir(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    cache = os.path.join(output_dir, CACHE)
    for stale in (cache, cache + ".json"):  # calibrate on this run's samples, never on an earlier run's
        if os.path.exists(stale):
            os.remove(stale)
    stream = sys.stderr if (progress or (progress is None and sys.stderr.isatty())) else None
    t0 = time.monotonic()
    from . import build
    try:
        full = build(onnx, precision="int8", calibration_dir=calibration_dir, calibration_cache=cache,
                     calibrator=calibrator, backend=backend, batch=batch)
    except BaseException:
        if created:
            shutil.rmtree(output_dir, ignore_errors=True)
        raise
    layers = [(l.name, l.op) for l in quantized_layers(full)]
    if not layers:
        raise _core.Error("'%s': the INT8 build quantizes no layer; nothing to analyze" % onnx)
    runner = _Runner(onnx, backend, batch, cache, calibrator, arrays, y)
    fp32 = build(onnx, precision="fp32", **runner.common)
    runner.reference = _infer(fp32, arrays, batch)
    rows = {"fp32": runner.row(fp32, variant="fp32", layer=""), "int8": runner.row(full, variant="int8", layer="")}
    names = [n for n, _ in layers]
    ops = dict(layers)
    chosen = _pick(names, max_layers)
    bar = Progress(len(chosen), "debug precision: layers", stream is not None, stream)
    per_layer = []
    for i, name in enumerate(chosen):
        only = runner.row(runner.int8([n for n in names if n != name]), variant="only_int8", layer=name)
        but = runner.row(runner.int8([name]), variant="all_but", layer=name)
        per_layer.append({"layer": name, "op": ops[name], "only_int8": only, "all_but": but,
                          "damage": only["rel_l2"], "recovery": rows["int8"]["rel_l2"] - but["rel_l2"]})
        bar.update(i + 1, name)
    bar.close()
    by_damage = sorted(per_layer, key=lambda p: -p["damage"])
    by_recovery = sorted(per_layer, key=lambda p: (-p["recovery"], -p["damage"]))
    for rank, p in enumerate(by_damage, 1):
        p["rank_damage"] = rank
    for rank, p in enumerate(by_recovery, 1):
        p["rank_recovery"] = rank
    metric, goal = _goal(rows, y, target)
    steps = _greedy(runner, [p["layer"] for p in by_damage], rows["int8"], metric, goal, stream)
    exclude = steps[-1]["exclude"]
    model = os.path.splitext(os.path.basename(onnx))[0]
    argv = build_command(onnx, calibration_dir, cache, calibrator, backend, batch, exclude,
                         os.path.join(output_dir, model + ".int8.plan"))
    result = {
        "model": model, "onnx": os.path.abspath(onnx), "backend": backend, "batch": batch, "calibrator": calibrator,
        "calibration_dir": calibration_dir, "eval_dir": eval_dir, "eval_samples": len(files),
        "labels": str(labels) if isinstance(labels, (str, os.PathLike)) else (None if y is None else "array"),
        "metric": metric, "target": target, "goal": goal, "calibration_cache": cache,
        "quantizable_layers": len(names), "analyzed_layers": len(chosen),
        "skipped_layers": [n for n in names if n not in chosen],
        "reference": rows, "layers": per_layer,
        "ranking_damage": [p["layer"] for p in by_damage], "ranking_recovery": [p["layer"] for p in by_recovery],
        "suggestion": {"exclude": exclude, "reached": bool(steps[-1][metric] >= goal), metric: steps[-1][metric],
                       "rel_l2": steps[-1]["rel_l2"], "steps": steps, "command": argv,
                       "command_line": " ".join(shlex.quote(a) for a in argv)},
        "seconds": round(time.monotonic() - t0, 2),
    }
    write_outputs(result, output_dir)
    return result


# ----------------------------------------------------------------------------------------------- writing

def _pct(v):
    return "%.2f%%" % (100 * v) if v is not None and math.isfinite(v) else "n/a"


def _csv_rows(result):
    rows = [dict(result["reference"]["fp32"]), dict(result["reference"]["int8"])]
    for p in result["layers"]:
        for key in ("only_int8", "all_but"):
            rows.append(dict(p[key], op=p["op"], rank_damage=p["rank_damage"], rank_recovery=p["rank_recovery"]))
    return rows


def write_outputs(result, output_dir):
    """Writes precision_debug.{json,csv,md,png} of a debug_precision result; returns their paths."""
    base = os.path.join(output_dir, REPORT)
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=2)
    outputs = list(result["reference"]["fp32"]["outputs"])
    cols = ["variant", "layer", "op", "int8_layers", "rel_l2", "cosine", "top1_agreement"]
    cols += ["accuracy"] if result["metric"] == "accuracy" else []
    cols += ["rank_damage", "rank_recovery"]
    if len(outputs) > 1:
        cols += ["rel_l2:" + o for o in outputs]
    with open(base + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore")
        w.writeheader()
        for r in _csv_rows(result):
            r.update({"rel_l2:" + o: v["rel_l2"] for o, v in r["outputs"].items()})
            w.writerow(r)
    with open(base + ".md", "w") as f:
        f.write(format_markdown(result))
    plot(result, base + ".png")


def format_markdown(result):
    """A debug_precision result as a Markdown report (rankings, suggestion)."""
    m = result["metric"]
    label = "top-1 accuracy" if m == "accuracy" else "top-1 agreement with FP32"
    ref = result["reference"]
    lines = ["# INT8 sensitivity of %s" % result["model"], "",
             "%s backend, batch %d, %s calibration, %d evaluation samples; errors are the relative L2 error of the "
             "output%s against FP32. (a): only this layer INT8; (b): every layer INT8 except this one."
             % (result["backend"], result["batch"], result["calibrator"], result["eval_samples"],
                "s (mean)" if len(ref["fp32"]["outputs"]) > 1 else ""), "",
             "| plan | INT8 layers | rel L2 | cosine | %s |" % label, "|---|---:|---:|---:|---:|"]
    for key in ("fp32", "int8"):
        r = ref[key]
        lines.append("| %s | %d | %s | %.6f | %s |" % (key.upper(), r["int8_layers"], _pct(r["rel_l2"]), r["cosine"],
                                                      _pct(r[m])))
    short = "top-1 acc." if m == "accuracy" else "top-1 agree"
    lines += ["", "| rank | layer | op | (a) rel L2 | (a) %s | (b) rel L2 | (b) %s | recovered by (b) |"
              % (short, short),
              "|---:|---|---|---:|---:|---:|---:|---:|"]
    for p in sorted(result["layers"], key=lambda p: p["rank_damage"]):
        lines.append("| %d | `%s` | %s | %s | %s | %s | %s | %s |" % (
            p["rank_damage"], p["layer"], p["op"], _pct(p["only_int8"]["rel_l2"]), _pct(p["only_int8"][m]),
            _pct(p["all_but"]["rel_l2"]), _pct(p["all_but"][m]), _pct(p["recovery"])))
    if result["skipped_layers"]:
        lines += ["", "Not analyzed (--max-layers): %s" % ", ".join("`%s`" % n for n in result["skipped_layers"])]
    s = result["suggestion"]
    lines += ["", "Suggestion (%s ≥ %s, re-measured): exclude %s → %s %s, rel L2 %s%s." % (
        label, _pct(result["goal"]), ", ".join("`%s`" % n for n in s["exclude"]) or "nothing", label, _pct(s[m]),
        _pct(s["rel_l2"]), "" if s["reached"] else " (target not reached)"), "",
        "```", s["command_line"], "```", ""]
    return "\n".join(lines)


def plot(result, path):
    """Two bar panels over the analyzed layers (network order, top to bottom): the error of (a) and of (b)."""
    from .plots import _plt
    plt = _plt()
    layers = result["layers"]
    n = len(layers)
    names = [p["layer"] for p in layers]
    worst = set(result["ranking_damage"][:3]) | set(result["ranking_recovery"][:3])
    colors = ["#c0392b" if name in worst else "#4a78b5" for name in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, max(3.5, 0.24 * n + 1.8)), sharey=True)
    ypos = np.arange(n)
    ax1.barh(ypos, [100 * p["only_int8"]["rel_l2"] for p in layers], color=colors)
    ax1.set_xlabel("relative L2 error vs FP32 (%)")
    ax1.set_title("(a) only this layer INT8: its damage", fontsize=9)
    ax2.barh(ypos, [100 * p["all_but"]["rel_l2"] for p in layers], color=colors)
    full = 100 * result["reference"]["int8"]["rel_l2"]
    ax2.axvline(full, color="black", linestyle="--", linewidth=1, label="all layers INT8 (%.2f%%)" % full)
    ax2.set_xlabel("relative L2 error vs FP32 (%)")
    ax2.set_title("(b) all INT8 except this layer: lower = leaving it float helps", fontsize=9)
    ax2.legend(fontsize=7, loc="lower right")
    ax1.set_yticks(ypos)
    ax1.set_yticklabels(["%s (%s)" % (p["layer"], p["op"]) for p in layers], fontsize=7)
    ax1.invert_yaxis()
    for ax in (ax1, ax2):
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("INT8 sensitivity per layer of %s: output error in %% (relative L2 vs FP32)\n%s backend, %s "
                 "calibration, %d samples, %d of %d quantizable layers; red: top culprits"
                 % (result["model"], result["backend"], result["calibrator"], result["eval_samples"], n,
                    result["quantizable_layers"]), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_summary(result, top=5):
    """The short text summary `trtcore debug precision` prints: the worst `top` layers and the suggestion."""
    m = result["metric"]
    name = "top-1 accuracy" if m == "accuracy" else "top-1 agreement"
    ref = result["reference"]
    lines = ["%s: FP32 %s %s; full INT8 (%d layers) rel L2 %s, %s %s" % (
        result["model"], name, _pct(ref["fp32"][m]), result["quantizable_layers"], _pct(ref["int8"]["rel_l2"]),
        name, _pct(ref["int8"][m])), "worst layers (output rel L2 vs FP32 with only it INT8 | with all but it INT8):"]
    for p in sorted(result["layers"], key=lambda p: p["rank_damage"])[:top]:
        lines.append("  %2d. %-32s %-14s %8s | %8s" % (p["rank_damage"], p["layer"], p["op"],
                                                      _pct(p["only_int8"]["rel_l2"]), _pct(p["all_but"]["rel_l2"])))
    s = result["suggestion"]
    verdict = "reaches" if s["reached"] else "does NOT reach"
    lines.append("suggestion: exclude %d layer(s) → %s %s, %s the target %s (re-measured)" % (
        len(s["exclude"]), name, _pct(s[m]), verdict, _pct(result["goal"])))
    if not s["reached"] and result["skipped_layers"]:
        lines.append("  (%d layers were not analyzed: raise --max-layers)" % len(result["skipped_layers"]))
    lines.append("  " + s["command_line"])
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- CLI

def add_cli(subparsers):
    """Adds `trtcore debug precision` to the `trtcore` command's subparsers."""
    d = subparsers.add_parser("debug", help="debugging helpers: `trtcore debug precision` (INT8 layer sensitivity)",
                              description="Debugging helpers.")
    sub = d.add_subparsers(dest="debug_command", required=True)
    p = sub.add_parser("precision", help="finds the layers that hurt INT8 accuracy and which to leave in float",
                       description=__doc__.split("\n\n", 1)[1].strip(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", required=True, help="the model")
    p.add_argument("--calibration-dir", required=True, help="raw float32 calibration samples, one per file")
    p.add_argument("--eval-dir", help="samples to measure on (default: the calibration samples)")
    p.add_argument("--labels", help="one class index per evaluation sample (sorted file order), .txt or .npy: "
                   "the metric becomes top-1 accuracy and the target is relative to FP32's accuracy")
    p.add_argument("--calibrator", default="entropy", help="entropy (default), max, percentile or mse")
    p.add_argument("--batch", type=int, default=8, help="batch of every plan (default 8)")
    p.add_argument("--backend", default="cpu", help="backend (default cpu)")
    p.add_argument("--max-layers", type=int, default=0, metavar="N",
                   help="analyze at most N layers, spread over the network (default: all)")
    p.add_argument("--target", type=float, default=0.99,
                   help="top-1 agreement with FP32 the suggestion must reach (default 0.99)")
    p.add_argument("--top", type=int, default=5, help="culprits to print (default 5)")
    p.add_argument("--output-dir", "-o", default="precision_debug", help="where results go (default precision_debug/)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cli)
    return d


def _cli(args):
    try:
        result = debug_precision(args.onnx, args.calibration_dir, args.output_dir, eval_dir=args.eval_dir,
                                 labels=args.labels, calibrator=args.calibrator, batch=args.batch,
                                 backend=args.backend, max_layers=args.max_layers, target=args.target,
                                 progress=False if args.quiet else True)
    except (_core.Error, OSError) as e:
        sys.stderr.write("trtcore: error: %s\n" % e)
        return 2
    print(format_summary(result, args.top))
    print("results: %s.{json,csv,md,png}" % os.path.join(args.output_dir, REPORT))
    return 0
