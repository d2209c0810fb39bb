"""Results → tables and figures (`trtcore report`).

Speed: result JSONs (the schema in trtcore.timing: `trtcore run --json`, the baselines, bench/) → a Markdown and a
CSV table and, where the results sweep batch or input size, log–log latency plots.
Accuracy: run output directories (one raw float32 file per sample, named after the input) → top-1/top-5 against a
prepared set's labels.csv, agreement with a reference run (top-1 agreement, max abs/rel error, cosine similarity),
mean IoU for segmentation outputs.
"""
import argparse
import csv
import io
import math
import os
import sys
import time

import numpy as np

from . import compare as _compare
from . import timing as _timing


class ReportError(Exception):
    """A user error of `trtcore report`: missing or mismatched results, outputs or labels."""


# ----------------------------------------------------------------------------------------------- accuracy

def topk_accuracy(logits, labels, k=1):
    """Fraction of rows whose label is among the k largest scores (ties broken by a stable sort)."""
    logits = np.asarray(logits)
    labels = np.asarray(labels).reshape(-1)
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
        raise ReportError("scores %s and labels %s do not match (need N×C and N)" % (logits.shape, labels.shape))
    if labels.size == 0:
        return float("nan")
    k = min(k, logits.shape[1])
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def agreement(outputs, reference):
    """top-1 agreement, max abs/rel error, relative L2 and cosine similarity of outputs (N×K) against a reference."""
    s = _compare.error_stats(outputs, reference, rtol=0.0, atol=0.0)
    return {k: s[k] for k in ("samples", "top1_agreement", "max_abs", "max_rel", "mean_abs", "rel_l2",
                              "cosine_min", "cosine_mean")}


def mean_iou(pred, target, num_classes, ignore_index=None):
    """Mean over classes of |pred ∩ target| / |pred ∪ target|; classes absent from both are left out.
    pred: class indices (N×H×W) or scores (N×C×H×W, argmax over C); target: class indices (N×H×W)."""
    pred = np.asarray(pred)
    target = np.asarray(target).astype(np.int64)
    if pred.ndim == target.ndim + 1:
        pred = np.argmax(pred, axis=1)
    pred = pred.astype(np.int64)
    if pred.shape != target.shape:
        raise ReportError("prediction shape %s does not match target shape %s" % (pred.shape, target.shape))
    valid = np.ones_like(target, dtype=bool) if ignore_index is None else target != ignore_index
    ious = []
    per_class = {}
    for c in range(num_classes):
        p, t = (pred == c) & valid, (target == c) & valid
        union = np.logical_or(p, t).sum()
        if union == 0:
            continue
        iou = np.logical_and(p, t).sum() / union
        per_class[c] = float(iou)
        ious.append(iou)
    return {"mean_iou": float(np.mean(ious)) if ious else float("nan"), "per_class": per_class}


def read_outputs(run_dir, output=None):
    """(file names, N×K float32 array) of one output of a run directory (the only one, or the named one)."""
    runs = _compare.read_run(run_dir)
    name = output or (_compare.SINGLE if _compare.SINGLE in runs else sorted(runs)[0])
    if name not in runs:
        raise ReportError("%s has no output '%s' (has %s)" % (run_dir, name, ", ".join(sorted(runs))))
    files = sorted(runs[name])
    sizes = {runs[name][f].size for f in files}
    if len(sizes) != 1:
        raise ReportError("%s: output files differ in size (%s)" % (run_dir, sorted(sizes)))
    return files, np.stack([runs[name][f] for f in files])


def labels_for(files, labels_path):
    """The labels of output `files` from a labels.csv (by file name) or a plain list (in order)."""
    from .data import load_labels
    try:
        lab = load_labels(labels_path)
    except ValueError as e:
        raise ReportError("labels file %s: expected one integer per line or a labels.csv (%s)" % (labels_path, e)) \
            from None
    if isinstance(lab, dict):
        missing = [f for f in files if f not in lab]
        if missing:
            raise ReportError("%s has no label for %s (and %d more)" % (labels_path, missing[0], len(missing) - 1))
        return np.asarray([lab[f] for f in files], dtype=np.int64)
    if len(lab) != len(files):
        raise ReportError("%s has %d labels for %d output files" % (labels_path, len(lab), len(files)))
    return np.asarray(lab, dtype=np.int64)


def accuracy_row(name, run_dir, labels_path=None, reference=None, precision=""):
    """One accuracy table row of a run directory: top-1/top-5 against labels, agreement with a reference run.
    name: engine or engine:precision."""
    files, out = read_outputs(run_dir)
    engine, _, prec = name.partition(":")
    row = {"engine": engine, "precision": precision or prec or "", "samples": len(files)}
    if labels_path:
        y = labels_for(files, labels_path)
        row["top1"] = topk_accuracy(out, y, 1)
        row["top5"] = topk_accuracy(out, y, 5)
    if reference:
        rfiles, ref = read_outputs(reference)
        common = sorted(set(files) & set(rfiles))
        if not common:
            raise ReportError("%s and reference %s share no file names" % (run_dir, reference))
        ia = {f: i for i, f in enumerate(files)}
        ib = {f: i for i, f in enumerate(rfiles)}
        if out.shape[1] != ref.shape[1]:
            raise ReportError("%s has %d values per sample, reference %s has %d"
                              % (run_dir, out.shape[1], reference, ref.shape[1]))
        row.update({"vs_ref_" + k: v for k, v in agreement(out[[ia[f] for f in common]],
                                                          ref[[ib[f] for f in common]]).items()})
    return row


# ----------------------------------------------------------------------------------------------- tables

SPEED_COLUMNS = [
    ("model", "model", "%s"), ("engine", "engine", "%s"), ("precision", "precision", "%s"), ("batch", "batch", "%d"),
    ("input", "input", "%s"),
    ("compute_median_ms", "compute median (ms)", "%.3f"), ("e2e_median_ms", "e2e median (ms)", "%.3f"),
    ("e2e_p99_ms", "e2e p99 (ms)", "%.3f"), ("per_image_ms", "per image (ms)", "%.4f"),
    ("throughput", "throughput (img/s)", "%.1f"), ("device_mib", "device memory (MiB)", "%.0f"),
    ("status", "status", "%s"),
]


_MODEL_SUFFIXES = (".onnx", ".plan", ".engine", ".trt")


def model_name(name):
    """The name a model is grouped and plotted under: a path or file name without its folder and its model/plan
    extension, so "models/mbv2.onnx", "mbv2.plan" and "mbv2" are one model."""
    name = os.path.basename(str(name or "").rstrip("/\\"))
    while name.lower().endswith(_MODEL_SUFFIXES):
        name = os.path.splitext(name)[0]
    return name


def normalize_models(results):
    """Copies of the results with their model names normalized (see model_name)."""
    return [dict(r, model=model_name(r["model"])) if r.get("model") else r for r in results]


def speed_rows(results):
    """Speed table rows (SPEED_COLUMNS) of result dicts; failed runs keep their status."""
    rows = []
    for r in results:
        ok = r.get("status", "ok") == "ok"
        e2e = r["e2e_ms"]["median"]
        rows.append({
            "model": r.get("model", ""), "engine": r["engine"], "precision": r["precision"], "batch": r["batch"],
            "input": "x".join(str(v) for v in r["input_shape"]) if r.get("input_shape") else "",
            "compute_median_ms": r["compute_ms"]["median"], "e2e_median_ms": e2e,
            "e2e_p99_ms": r["e2e_ms"]["p99"],
            "per_image_ms": e2e / r["batch"] if ok and r["batch"] else float("nan"),
            "throughput": r["throughput"],
            "device_mib": r["device_memory_bytes"] / 2**20 if r.get("device_memory_bytes") else float("nan"),
            "status": r.get("status", "ok") if ok else
            ("%s: %s" % (r.get("status"), r.get("error", ""))).rstrip(": ")[:80],
        })
    return rows


def _fmt(fmt, v):
    if v is None or v == "":
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return "—"
    try:
        return fmt % v
    except TypeError:
        return str(v)


def _drop_empty(rows, columns):
    return [c for c in columns if any(r.get(c[0]) not in (None, "") for r in rows)]


def markdown_table(rows, columns=None):
    """columns: (key, header, printf format) triples; columns empty in every row are left out."""
    if not rows:
        return "(no rows)\n"
    columns = _drop_empty(rows, columns or [(k, k, "%s") for k in rows[0]])
    out = ["| " + " | ".join(h for _, h, _ in columns) + " |",
           "|" + "|".join("---" if f == "%s" else "---:" for _, _, f in columns) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_fmt(f, r.get(k)) for k, _, f in columns) + " |")
    return "\n".join(out) + "\n"


def csv_text(rows, columns=None):
    """rows as CSV text (floats in full precision); columns empty in every row are left out."""
    if not rows:
        return ""
    columns = _drop_empty(rows, columns or [(k, k, "%s") for k in rows[0]])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([k for k, _, _ in columns])
    for r in rows:
        w.writerow(["" if r.get(k) is None else (repr(r[k]) if isinstance(r[k], float) else r[k])
                    for k, _, _ in columns])
    return buf.getvalue()


ACCURACY_COLUMNS = [
    ("engine", "engine", "%s"), ("precision", "precision", "%s"), ("samples", "samples", "%d"),
    ("top1", "top-1", "%.4f"), ("top5", "top-5", "%.4f"),
    ("vs_ref_top1_agreement", "top-1 agreement", "%.4f"), ("vs_ref_max_abs", "max abs err", "%.3g"),
    ("vs_ref_max_rel", "max rel err", "%.3g"), ("vs_ref_rel_l2", "rel L2", "%.3g"),
    ("vs_ref_cosine_min", "min cosine", "%.6f"), ("mean_iou", "mean IoU", "%.4f"),
]


# ----------------------------------------------------------------------------------------------- whole report

def write_report(out_dir, results=(), accuracy=(), title="trtcore report", device=None, date=None):
    """Writes report.md, speed.csv/accuracy.csv and the plots that the data supports; returns written paths."""
    from . import plots
    os.makedirs(out_dir, exist_ok=True)
    date = date or time.strftime("%Y-%m-%d")
    device = device or "; ".join(sorted({r.get("device", "") for r in results if r.get("device")})) or None
    written = []
    results = normalize_models(results)
    md = ["# %s" % title, "", "Device: %s · date: %s" % (device or "unknown", date), ""]
    if results:
        rows = speed_rows(results)
        md += ["## Speed", "", "Latencies are per batch (median of the timed iterations, warm-up excluded); "
               "per image = e2e median / batch; throughput from the mean end-to-end time.", "",
               markdown_table(rows, SPEED_COLUMNS)]
        _write(os.path.join(out_dir, "speed.csv"), csv_text(rows, SPEED_COLUMNS), written)
        by_model = {}
        for r in results:
            by_model.setdefault(r.get("model", ""), []).append(r)
        for model, rs in sorted(by_model.items()):
            stem = ("_" + _slug(model)) if model and len(by_model) > 1 else ""
            if len({r["batch"] for r in rs}) > 1:
                p = plots.latency_vs_batch(rs, os.path.join(out_dir, "latency_vs_batch%s.png" % stem),
                                           title="%sLatency vs batch size" % (model + ": " if model else ""),
                                           device=device, date=date)
                written.append(p)
                md += ["![latency vs batch](%s)" % os.path.basename(p), ""]
            if len({tuple(r["input_shape"][-2:]) for r in rs if r.get("input_shape")}) > 1:
                p = plots.latency_vs_input_size(rs, os.path.join(out_dir, "latency_vs_input_size%s.png" % stem),
                                                title="%sLatency vs input size" % (model + ": " if model else ""),
                                                device=device, date=date)
                written.append(p)
                md += ["![latency vs input size](%s)" % os.path.basename(p), ""]
    if accuracy:
        md += ["## Accuracy", "", markdown_table(list(accuracy), ACCURACY_COLUMNS)]
        _write(os.path.join(out_dir, "accuracy.csv"), csv_text(list(accuracy), ACCURACY_COLUMNS), written)
        metric = next((m for m in ("top1", "mean_iou", "vs_ref_top1_agreement") if all(m in a for a in accuracy)),
                      None)
        if metric:
            p = plots.accuracy_per_precision(list(accuracy), os.path.join(out_dir, "accuracy.png"), device=device,
                                             date=date, metric=metric,
                                             ylabel={"top1": "top-1 accuracy (%)", "mean_iou": "mean IoU (%)",
                                                     "vs_ref_top1_agreement": "top-1 agreement (%)"}[metric])
            written.append(p)
            md += ["![accuracy](accuracy.png)", ""]
    _write(os.path.join(out_dir, "report.md"), "\n".join(md), written)
    return written


def _slug(s):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in s)


def _write(path, text, written):
    with open(path, "w") as f:
        f.write(text)
    written.append(path)


def collect_results(paths):
    """The result dicts of JSON files and of folders of them."""
    out = []
    for p in paths:
        files = ([os.path.join(p, f) for f in sorted(os.listdir(p)) if f.endswith(".json")]
                 if os.path.isdir(p) else [p])
        if os.path.isdir(p) and not files:
            raise ReportError("%s holds no .json result files" % p)
        for f in files:
            try:
                out += _timing.load_results(f)
            except (ValueError, OSError) as e:
                raise ReportError(str(e)) from None
    return out


# ----------------------------------------------------------------------------------------------- CLI

def add_cli(subparsers):
    """Adds `trtcore report` to the `trtcore` command's subparsers."""
    p = subparsers.add_parser("report", help="tables (Markdown, CSV) and plots (PNG) from results and run outputs",
                              description="Speed tables and latency plots from result JSON files; accuracy and "
                              "agreement from run output directories.")
    p.add_argument("--results", nargs="+", default=[], metavar="JSON_OR_DIR",
                   help="result files (trtcore run --json, trtcore baseline) or folders of them")
    p.add_argument("--outputs", nargs="+", default=[], metavar="[NAME=]DIR",
                   help="run output directories to score; NAME may be engine:precision")
    p.add_argument("--labels", help="labels.csv of the prepared set (file,label) or one integer per line")
    p.add_argument("--reference", help="reference run directory for agreement (e.g. onnxruntime or fp32 outputs)")
    p.add_argument("--num-classes", type=int, help="segmentation: classes per pixel (outputs are C×H×W scores)")
    p.add_argument("--targets", help="segmentation: folder of raw float32 H×W class maps named like the outputs")
    p.add_argument("-o", "--out", default="report", help="folder for report.md, CSVs and PNGs (default ./report)")
    p.add_argument("--title", default="trtcore report")
    p.add_argument("--device", help="device name for captions (default: from the results)")
    p.set_defaults(func=_cli)
    return p


def _cli(args):
    try:
        if not args.results and not args.outputs:
            raise ReportError("nothing to report: give --results and/or --outputs")
        if args.targets and not args.num_classes:
            raise ReportError("--targets needs --num-classes")
        results = collect_results(args.results)
        from .progress import track

        accuracy = []
        for spec in track(args.outputs, "report: scoring outputs", enabled=len(args.outputs) > 1):
            name, sep, d = spec.partition("=")
            if not sep:
                name, d = os.path.basename(os.path.normpath(spec)), spec
            row = accuracy_row(name, d, args.labels, args.reference)
            if args.targets:
                files, out = read_outputs(d)
                tgt = np.stack([np.fromfile(os.path.join(args.targets, f), dtype=np.float32) for f in files])
                pred = out.reshape(len(files), args.num_classes, -1)
                row.update(mean_iou(pred, tgt.reshape(len(files), -1), args.num_classes))
                row.pop("per_class", None)
            accuracy.append(row)
        written = write_report(args.out, results, accuracy, title=args.title, device=args.device)
    except (ReportError, _compare.CompareError, OSError, ValueError) as e:
        sys.stderr.write("trtcore report: error: %s\n" % e)
        return 2
    for p in written:
        print(p)
    return 0


def main(argv=None):
    """`trtcore report ...` on its own; returns the exit code."""
    parser = argparse.ArgumentParser(prog="trtcore")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
