"""Timing statistics and the result JSON schema shared by `trtcore run --json`, the baselines and the reports.

trtcore's own results (`run --json`, Engine.benchmark, Context.benchmark) are written in this schema by the C++
report module (cpp/runtime/report.cpp) and need no conversion; make_result builds the same schema for the baselines.
A result is one timed configuration (engine, precision, batch) on one device:

    {"engine": "trtcore-cuda", "precision": "fp16", "batch": 8, "iterations": 100, "device": "NVIDIA H100 ...",
     "compute_ms": {"mean", "std", "min", "median", "p90", "p95", "p99"},   # per batch, GPU time (cpu: steady clock)
     "e2e_ms":     {...},                                                   # per batch, with host<->device copies
     "throughput": 1234.5}                                                  # samples/s from the mean e2e time

Optional keys: "model", "input_shape", "status" ("ok", "OOM", "error"), "error", "date", "commit",
"compute_throughput", "timing" (how it was measured); trtcore's results also carry "backend", "fp32_math",
"trtcore_version", "memory" (bytes) and "trace" (per-iteration [compute, e2e] ms). A result with a status other than
"ok" may carry empty statistics; reports show it as such instead of dropping it.
"""
import json
import math
import time

import numpy as np

STAT_KEYS = ("mean", "std", "min", "median", "p90", "p95", "p99")
REQUIRED_KEYS = ("engine", "precision", "batch", "iterations", "device", "compute_ms", "e2e_ms", "throughput")


def summarize(samples_ms):
    """Statistics of per-iteration times in ms: population std, percentiles by linear interpolation (numpy's
    default, as the C++ runtime computes them)."""
    a = np.asarray(list(samples_ms), dtype=np.float64)
    if a.size == 0:
        return {k: float("nan") for k in STAT_KEYS}
    out = {"mean": float(a.mean()), "std": float(a.std()), "min": float(a.min()),
           "median": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
           "p95": float(np.percentile(a, 95)), "p99": float(np.percentile(a, 99))}
    out["max"] = float(a.max())
    return out


def make_result(engine, precision, batch, device, compute_ms, e2e_ms=None, **extra):
    """A result dict from raw per-batch times (ms). Without e2e times the compute times stand for both."""
    compute_ms = list(compute_ms)
    e2e_ms = compute_ms if e2e_ms is None else list(e2e_ms)
    c, e = summarize(compute_ms), summarize(e2e_ms)
    result = {
        "engine": str(engine), "precision": str(precision), "batch": int(batch), "iterations": len(compute_ms),
        "device": str(device), "compute_ms": c, "e2e_ms": e,
        "throughput": _throughput(batch, e["mean"]),
        "compute_throughput": _throughput(batch, c["mean"]),
        "status": "ok",
    }
    result.update(extra)
    return result


def failed_result(engine, precision, batch, device, status, error="", **extra):
    """A configuration that could not run (e.g. status "OOM"): recorded as a result, not dropped."""
    empty = {k: float("nan") for k in STAT_KEYS}
    result = {"engine": str(engine), "precision": str(precision), "batch": int(batch), "iterations": 0,
              "device": str(device), "compute_ms": dict(empty), "e2e_ms": dict(empty),
              "throughput": float("nan"), "status": status, "error": str(error)}
    result.update(extra)
    return result


def _throughput(batch, mean_ms):
    if not mean_ms or not math.isfinite(mean_ms) or mean_ms <= 0:
        return float("nan")
    return float(batch) * 1000.0 / mean_ms


def normalize(d, **defaults):
    """A result read from a file, checked against the schema: missing keys are filled from `defaults`, a result
    timed without copies (compute_ms only) stands for end-to-end too; stats dicts keep their extra keys."""
    r = dict(defaults)
    r.update({k: v for k, v in dict(d).items() if v is not None})
    if "e2e_ms" not in r and "compute_ms" in r:
        r["e2e_ms"] = r["compute_ms"]
    r.setdefault("status", "ok")
    if "throughput" not in r and "e2e_ms" in r and "batch" in r:
        r["throughput"] = _throughput(r["batch"], r["e2e_ms"].get("mean"))
    validate(r)
    return r


def validate(d):
    """Raises ValueError naming the first missing or malformed key."""
    if not isinstance(d, dict):
        raise ValueError("a result must be a JSON object, got %s" % type(d).__name__)
    for key in REQUIRED_KEYS:
        if key not in d:
            raise ValueError("result is missing key '%s' (needs %s)" % (key, ", ".join(REQUIRED_KEYS)))
    for key in ("compute_ms", "e2e_ms"):
        stats = d[key]
        if not isinstance(stats, dict) or any(k not in stats for k in STAT_KEYS):
            raise ValueError("result key '%s' must hold %s" % (key, ", ".join(STAT_KEYS)))
    return d


def load_results(path):
    """A JSON file holding one result or a list of results; returns a list of normalized results."""
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:  # name the file: json's message alone says only "line 1 column 2"
            raise ValueError("%s is not valid JSON (%s)" % (path, e)) from None
    items = data if isinstance(data, list) else data.get("results", [data]) if isinstance(data, dict) else None
    if items is None:
        raise ValueError("%s: expected a result object or a list of them" % path)
    out = []
    for i, item in enumerate(items):
        try:
            out.append(normalize(item))
        except ValueError as e:
            raise ValueError("%s: result %d: %s" % (path, i, e)) from None
    return out


def save_results(results, path):
    """Writes result dicts as a JSON list (readable by load_results and `trtcore report`)."""
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=_json_default)
        f.write("\n")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError("not JSON serializable: %r" % type(o))


def time_host(fn, iterations, warmup=3):
    """Per-call wall times in ms of fn() from a steady clock, warm-up calls excluded."""
    for _ in range(max(0, warmup)):
        fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times
