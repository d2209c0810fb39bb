"""What every experiment script shares: arguments, the results folder, running trtcore / onnxruntime / PyTorch
configurations into result dicts (trtcore.timing schema), and writing Markdown + CSV + JSON + PNGs."""
import argparse
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import types

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)


def py(name):
    """A pure-Python trtcore module (data, report, plots, timing, baselines, compare). Taken from the installed
    package when it imports; otherwise loaded from python/trtcore without the compiled module."""
    try:
        return importlib.import_module("trtcore." + name)
    except ImportError:
        if "_trtcore_py" not in sys.modules:
            pkg = types.ModuleType("_trtcore_py")
            pkg.__path__ = [os.path.join(REPO, "python", "trtcore")]
            sys.modules["_trtcore_py"] = pkg
        return importlib.import_module("_trtcore_py." + name)


def trtcore_engine():
    """The trtcore package when its compiled engine is importable, else None (the reason in trtcore_missing)."""
    global trtcore_missing
    try:
        import trtcore
        trtcore.compiled_backends()
        return trtcore
    except Exception as e:  # ImportError, or a half-built package
        trtcore_missing = "%s: %s" % (type(e).__name__, e)
        return None


trtcore_missing = ""


def torch_cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


class _Parser(argparse.ArgumentParser):
    """Remembers the argument list it parsed (args.argv), so the results record the exact command line."""

    def parse_args(self, args=None, namespace=None):
        argv = list(sys.argv[1:] if args is None else args)
        ns = super().parse_args(argv, namespace)
        ns.argv = argv
        return ns


def command_line(args, script):
    """The command that produced a run, as typed: python bench/<script> and the arguments it was given."""
    main = os.path.abspath(getattr(sys.modules.get("__main__"), "__file__", "") or "")
    if os.path.dirname(main) == BENCH:  # run as a script: its own name, whatever the experiment is called
        script = os.path.basename(main)
    return " ".join(shlex.quote(a) for a in ["python", "bench/" + script] + list(getattr(args, "argv", [])))


def parser(description):
    p = _Parser(description=description)
    p.add_argument("--small", action="store_true",
                   help="tiny sizes on the cpu backend (for CI): checks the script, not the speed")
    p.add_argument("--out", default=os.path.join(BENCH, "results"), help="results root (default bench/results)")
    p.add_argument("--name", help="results folder under --out (default: the experiment); a variant of an experiment "
                                  "(another model or batch) named apart keeps its own latest run")
    p.add_argument("--iterations", type=int, help="timed iterations per configuration")
    p.add_argument("--warmup", type=int, help="warm-up iterations (not timed)")
    p.add_argument("--work", help="folder for models and plans (default: a temp folder inside --out)")
    return p


def git_commit():
    # A copy of the tree without .git (e.g. on a GPU box) names its commit in TRTCORE_COMMIT.
    if os.environ.get("TRTCORE_COMMIT"):
        return os.environ["TRTCORE_COMMIT"]
    try:
        out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "nocommit"
    except (OSError, subprocess.SubprocessError):
        return "nocommit"


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20)
        names = [ln.strip() for ln in out.stdout.splitlines() if ln.strip()]
        return names[0] if names else None
    except (OSError, subprocess.SubprocessError):
        return None


def device_description(small):
    if not small:
        g = gpu_name()
        if g:
            return g
    return py("baselines").cpu_name()


def slug(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-")[:48]


def result_dir(args, experiment, device=None):
    """<out>/<name>/, the experiment's latest run, after moving the run it held into <out>/history/. Its run.json
    names the run as history will: <name>-<device>-<date>-<commit>."""
    device = device or ("cpu-small" if args.small else slug(gpu_name() or "cpu"))
    name = args.name or experiment
    d = os.path.join(args.out, name)
    replaced = retire(d)
    os.makedirs(d, exist_ok=True)
    commit = git_commit()
    run = dict(run="%s-%s-%s-%s" % (name, device, time.strftime("%Y%m%d"), commit), experiment=experiment,
               device=device, date=time.strftime("%Y-%m-%d %H:%M"), commit=commit,
               command=command_line(args, experiment + ".py"))
    if replaced:  # where the previous run went, so a run that measures nothing can put it back
        run["replaced"] = os.path.relpath(replaced, os.path.dirname(os.path.normpath(d)))
    with open(os.path.join(d, "run.json"), "w") as f:
        json.dump(run, f, indent=1)
        f.write("\n")
    return d


def retire(latest):
    """Moves a latest-run folder to history/<its run name> beside it; a name already taken gets -2, -3, ...
    (a run is never overwritten). Returns where it went (None when there was nothing to move)."""
    if not os.path.isdir(latest) or not os.listdir(latest):
        return None
    try:
        with open(os.path.join(latest, "run.json")) as f:
            run = json.load(f)["run"]
    except (OSError, ValueError, KeyError):
        run = "%s-%s" % (os.path.basename(latest), time.strftime("%Y%m%d-%H%M%S",
                                                                 time.localtime(os.path.getmtime(latest))))
    history = os.path.join(os.path.dirname(os.path.normpath(latest)), "history")
    os.makedirs(history, exist_ok=True)
    dest, n = os.path.join(history, run), 1
    while os.path.exists(dest):
        n += 1
        dest = os.path.join(history, "%s-%d" % (run, n))
    shutil.move(latest, dest)
    log("previous run moved to %s" % dest)
    return dest


def restore_replaced(rdir):
    """After a run that measured nothing: that run goes to history/ and the run it replaced is the latest again, so
    a script run where it cannot measure (no GPU) never displaces real results. Returns the empty run's folder."""
    try:
        with open(os.path.join(rdir, "run.json")) as f:
            replaced = json.load(f).get("replaced")
    except (OSError, ValueError):
        replaced = None
    previous = replaced and os.path.join(os.path.dirname(os.path.normpath(rdir)), replaced)
    if not previous or not os.path.isdir(previous):
        return rdir
    tmp = rdir.rstrip(os.sep) + ".empty"
    shutil.move(rdir, tmp)
    shutil.move(previous, rdir)
    moved = retire(tmp)
    log("nothing measured: the previous run is back in %s; this one is in %s" % (rdir, moved))
    return moved


def work_dir(args, rdir):
    # Models and plans stay out of the results folder (which is committed).
    d = args.work or os.path.join(tempfile.gettempdir(), "trtcore-bench-work", os.path.basename(rdir))
    os.makedirs(d, exist_ok=True)
    return d


def classify_error(e):
    text = str(e).lower()
    if "out of memory" in text or "outofmemory" in type(e).__name__.lower() or "cudaerrormemoryallocation" in text:
        return "OOM"
    if getattr(e, "kind", "") == "unsupported" or "unsupported" in text or "not supported" in text:
        return "unsupported"
    return "error"


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ----------------------------------------------------------------------------------------------- runners

def run_trtcore(onnx_path, backend, precision, batches, iterations, warmup, model, shapes=None, input_shape=None,
                calibration=None):
    """Builds one plan for max(batches) and times every batch; a failure becomes a result with its status.
    precision "int8" calibrates on `calibration` (an array with a batch axis; default: 32 seeded standard-normal
    samples of input_shape, which measures speed, not accuracy)."""
    timing = py("timing")
    trtcore = trtcore_engine()
    engine_name = "trtcore-" + backend
    if trtcore is None:
        return [timing.failed_result(engine_name, precision, b, "", "skipped", "trtcore not importable: " +
                                     trtcore_missing, model=model, input_shape=_shape_at(input_shape, b))
                for b in batches]
    opts = dict(batch=max(batches), backend=backend, precision=precision)
    if shapes:
        opts["shapes"] = shapes
    if precision == "int8":
        if calibration is None:
            import numpy as np
            calibration = np.random.default_rng(0).standard_normal([32] + list(input_shape[1:])).astype(np.float32)
        opts.update(calibration_data=[calibration[i:i + 16] for i in range(0, len(calibration), 16)])
    try:
        eng = trtcore.build(onnx_path, **opts)
    except Exception as e:
        log("%s %s %s: build failed: %s" % (model, engine_name, precision, e))
        return [timing.failed_result(engine_name, precision, b, "", classify_error(e), str(e).splitlines()[0][:200],
                                     model=model, input_shape=_shape_at(input_shape, b)) for b in batches]
    out = []
    for b in batches:
        try:
            r = eng.benchmark(batch=b, iterations=iterations, warmup=warmup)
            del r["trace"]  # the sweep tables keep the statistics; `run --json` keeps the per-iteration trace
            r.update(engine=engine_name, precision=precision, model=model, status="ok")
            if backend != "cpu":  # weights + activations + workspace the plan holds on the device
                r["device_memory_bytes"] = int(eng.device_memory_bytes)
            if input_shape:
                r["input_shape"] = _shape_at(input_shape, b)
            out.append(r)
            log("%s %s %s batch %d: %.3f ms" % (model, engine_name, precision, b, r["e2e_ms"]["median"]))
        except Exception as e:
            out.append(timing.failed_result(engine_name, precision, b, eng.device, classify_error(e),
                                            str(e).splitlines()[0][:200], model=model,
                                            input_shape=_shape_at(input_shape, b)))
    return out


def _shape_at(shape, batch):
    return None if not shape else [batch] + list(shape[1:])


def run_onnxruntime(onnx_path, batches, iterations, warmup, model, shapes_for=None):
    timing, baselines = py("timing"), py("baselines")
    out = []
    for b in batches:
        shapes = shapes_for(b) if shapes_for else None
        try:
            r = baselines.onnxruntime_run(onnx_path, batch=b, iterations=iterations, warmup=warmup, model=model,
                                          shapes=shapes)
            log("%s onnxruntime batch %d: %.3f ms" % (model, b, r["e2e_ms"]["median"]))
        except Exception as e:
            r = timing.failed_result("onnxruntime-cpu", "fp32", b, baselines.cpu_name(), classify_error(e),
                                     str(e).splitlines()[0][:200], model=model)
        out.append(r)
    return out


def run_torch(make_module, input_shape, mode, precision, memory_format, iterations, warmup, model, device=None,
              compile_mode="reduce-overhead"):
    """make_module() builds a fresh module (so FP16 conversion does not leak between configurations)."""
    timing, baselines = py("timing"), py("baselines")
    engine = baselines.torch_engine_name(mode, compile_mode)
    prec = precision + ("-cl" if memory_format == "channels_last" else "")
    try:
        r = baselines.torch_run(make_module(), input_shape, mode=mode, precision=precision,
                                memory_format=memory_format, iterations=iterations, warmup=warmup, model=model,
                                device=device, compile_mode=compile_mode)
        log("%s %s %s batch %d: %.3f ms" % (model, engine, prec, input_shape[0], r["e2e_ms"]["median"]))
    except Exception as e:
        r = timing.failed_result(engine, prec, input_shape[0], gpu_name() or "", classify_error(e),
                                 str(e).splitlines()[0][:200], model=model, input_shape=list(input_shape))
        log("%s %s %s batch %d: %s" % (model, engine, prec, input_shape[0], r["status"]))
    finally:
        try:
            import torch
            torch.cuda.empty_cache()
        except Exception:
            pass
    return r


# ----------------------------------------------------------------------------------------------- writing

class EmptyResults(SystemExit):
    """A run that measured nothing: the files are written (they say why), and the script exits non-zero."""


def write_readme(rdir, lines):
    """A hand-made report: rdir/README.md from `lines`, also printed."""
    with open(os.path.join(rdir, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("results in", rdir)


def write_results(rdir, title, results, notes, extra_sections=(), figures=()):
    """results.json + speed.csv + README.md (notes, the speed table, extra sections, figure links). A run whose
    results hold no measured row (and that has no section of its own) raises EmptyResults after writing: a bench
    script never succeeds with nothing measured (e.g. GPU sizes asked for on a machine without a GPU)."""
    timing, report = py("timing"), py("report")
    measured = [r for r in results if r.get("status", "ok") == "ok"]
    empty = not measured and not extra_sections
    if empty:
        notes = list(notes) + ["- **Nothing was measured**: %s" % ("; ".join(sorted(
            {"%s %s: %s" % (r.get("engine"), r.get("status"), r.get("error", "")) for r in results}))
            or "no configuration could run here")]
    timing.save_results(list(results), os.path.join(rdir, "results.json"))
    rows = report.speed_rows(results)
    with open(os.path.join(rdir, "speed.csv"), "w") as f:
        f.write(report.csv_text(rows, report.SPEED_COLUMNS))
    md = ["# %s" % title, ""] + list(notes) + [""]
    for heading, body in extra_sections:
        md += ["## %s" % heading, "", body, ""]
    if results:
        md += ["## Timings", "", "Per batch, median over the timed iterations (warm-up excluded); per image = "
               "e2e median / batch; throughput from the mean end-to-end time.", "",
               report.markdown_table(rows, report.SPEED_COLUMNS)]
    for f in figures:
        md += ["![%s](%s)" % (os.path.splitext(os.path.basename(f))[0], os.path.basename(f)), ""]
    with open(os.path.join(rdir, "README.md"), "w") as f:
        f.write("\n".join(md))
    log("results in %s" % rdir)
    if empty:
        rdir = restore_replaced(rdir)
        raise EmptyResults("%s: nothing was measured (%d configurations, none ran)%s; see %s"
                           % (title, len(results), "" if results else " - is a GPU visible? --small runs on the CPU",
                              os.path.join(rdir, "README.md")))
    return rdir


def header_notes(args, experiment_cmd, weights):
    trt = trtcore_engine()
    return ["- Command: `%s`" % command_line(args, experiment_cmd.split()[0]),
            "- Date: %s; commit %s" % (time.strftime("%Y-%m-%d %H:%M"), git_commit()),
            "- Device: %s" % device_description(args.small),
            "- trtcore: %s" % (("backends " + ", ".join(trt.compiled_backends())) if trt else
                               "not importable (%s): its rows are marked skipped" % trtcore_missing),
            "- Weights: %s" % weights]
