"""INT8 against FP32 on trtcore's cpu backend, side by side in one process: MobileNetV2-style nets (64x64 width 1,
32x32 width 0.5; depthwise convs, Relu6 as Clip, residual adds; tests/models.py) and a ResNet-style net (64x64, a
stem and six bottleneck blocks) at batch 1 and 8, 1 and 2 threads. The INT8 plans are calibrated on seeded random
inputs (this measures speed; bench/int8_accuracy.py measures accuracy). Repetitions of the two plans are interleaved
so that load from other processes hits both alike; medians, the ratio INT8 / FP32 and whether INT8 is not slower
(ratio <= 1) are reported, with the time per layer kind from Engine.profile() for both plans.

    python bench/cpu_int8_vs_fp32.py [--threads 1 2] [--batches 1 8] [--reps 9] [--models mbv2_64_w1 ...]
"""
import csv
import json
import os
import statistics
import sys
import time

import numpy as np
import onnx

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(REPO, "tests"))

import common  # noqa: E402
from cpu_vs_onnxruntime import cpu_name, load_avg, summary, time_once  # noqa: E402


def resnet_style(batch="N", size=64, seed=0):
    """A stem (3x3 stride 2, 32 channels) and bottleneck blocks (1x1 reduce, 3x3, 1x1 expand, BatchNorm, identity
    or projected residual, Relu) in three stages of two blocks, global pooling and a classifier."""
    import models
    nb = models.NetBuilder(seed)
    x = nb.relu(nb.bn(nb.conv("input", 3, 32, 3, stride=2, bias=False), 32))
    c = 32
    for cout, mid, stride in [(64, 16, 1), (128, 32, 2), (256, 64, 2)]:
        for i in range(2):
            s = stride if i == 0 else 1
            y = nb.relu(nb.bn(nb.conv(x, c, mid, 1, bias=False), mid))
            y = nb.relu(nb.bn(nb.conv(y, mid, mid, 3, stride=s, bias=False), mid))
            y = nb.bn(nb.conv(y, mid, cout, 1, bias=False), cout)
            skip = x if (s == 1 and c == cout) else nb.bn(nb.conv(x, c, cout, 1, stride=s, bias=False), cout)
            x, c = nb.relu(nb.node("Add", [y, skip])), cout
    x = nb.node("Flatten", [nb.node("GlobalAveragePool", [x])], axis=1)
    models._rename_output(nb, nb.gemm(x, c, 10), "logits")
    return nb.model([("input", np.float32, [batch, 3, size, size])], [("logits", np.float32, None)], "resnet_style")


def _mobilenet(size, width):
    import models
    return lambda: models.mobilenet_v2(batch="N", size=size, width=width)


MODELS = {"mbv2_64_w1": (_mobilenet(64, 1.0), 64), "mbv2_32_w05": (_mobilenet(32, 0.5), 32),
          "resnet_style": (resnet_style, 64)}


def measure(engines, x, reps, inner):
    """Per repetition, `inner` timed calls of each engine in turn (order rotating), each turn after one untimed
    call; returns the times per engine."""
    for e in engines:
        e.infer(x)
    times = [[] for _ in engines]
    for r in range(reps):
        order = list(range(len(engines)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            engines[i].infer(x)
            for _ in range(inner):
                times[i].append(time_once(lambda: engines[i].infer(x)))
    return times


def by_kind(engine, batch):
    """Engine.profile() summed per layer kind: the op label, and for QConv its kernel (depthwise or GEMM)."""
    out = {}
    for d in engine.profile(batch=batch, iterations=10):
        kind = d["op"] + (" (depthwise)" if d["tactic"].startswith("depthwise") else "")
        out[kind] = out.get(kind, 0.0) + d["ms"]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main():
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--reps", type=int, default=9, help="interleaved repetitions")
    p.add_argument("--inner", type=int, default=5, help="calls per plan per repetition")
    args = p.parse_args()
    if args.small:
        args.models, args.batches, args.threads, args.reps, args.inner = ["mbv2_32_w05"], [1], [1], 1, 2
    trtcore = common.trtcore_engine()
    if trtcore is None:
        sys.exit("trtcore is not importable: " + common.trtcore_missing)
    cpu = cpu_name()
    rdir = common.result_dir(args, "cpu_int8_vs_fp32", device="cpu-small" if args.small else common.slug(cpu))
    work = common.work_dir(args, rdir)
    rng = np.random.default_rng(0)
    rows, profiles = [], {}
    load_before = load_avg()
    for model in args.models:
        make, size = MODELS[model]
        path = os.path.join(work, model + ".onnx")
        onnx.save(make(), path)
        calib = rng.standard_normal((32, 3, size, size)).astype(np.float32)
        for nt in args.threads:
            fp32 = trtcore.build(path, batch=max(args.batches), backend="cpu", threads=nt)
            int8 = trtcore.build(path, batch=max(args.batches), backend="cpu", threads=nt, precision="int8",
                                 calibration_data=[calib[:16], calib[16:]])
            for batch in args.batches:
                x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
                a, b = fp32.infer(x)["logits"], int8.infer(x)["logits"]
                agree = float((a.argmax(1) == b.argmax(1)).mean())
                la = load_avg()
                t_fp32, t_int8 = measure([fp32, int8], x, args.reps, args.inner)
                s32, s8 = summary(t_fp32), summary(t_int8)
                ratio = s8["median"] / s32["median"]
                rows.append(dict(model=model, batch=batch, threads=nt, fp32_ms=round(s32["median"], 3),
                                 int8_ms=round(s8["median"], 3), ratio=round(ratio, 3), goal_met=ratio <= 1.0,
                                 fp32_min_ms=round(s32["min"], 3), int8_min_ms=round(s8["min"], 3),
                                 samples=s8["n"], top1_agreement=agree, load_1min=la[0] if la else None))
                common.log("%s b%d t%d: fp32 %.3f ms, int8 %.3f ms, ratio %.2f (load %s)" %
                           (model, batch, nt, s32["median"], s8["median"], ratio, la))
                profiles["%s-b%d-t%d" % (model, batch, nt)] = {"fp32": by_kind(fp32, batch),
                                                               "int8": by_kind(int8, batch)}
            del fp32, int8
    write(rdir, args, cpu, rows, profiles, load_before, load_avg(), trtcore.cpu_isa())


def write(rdir, args, cpu, rows, profiles, load_before, load_after, isa):
    meta = dict(cpu=cpu, cores=os.cpu_count(), commit=common.git_commit(), date=time.strftime("%Y-%m-%d %H:%M"),
                load_before=load_before, load_after=load_after, reps=args.reps, inner=args.inner, cpu_isa=isa,
                command=common.command_line(args, "cpu_int8_vs_fp32.py"),
                weights="random (seeded), models built here (tests/models.py); INT8 calibrated on 32 seeded "
                "standard-normal inputs")
    with open(os.path.join(rdir, "results.json"), "w") as f:
        json.dump(dict(meta=meta, rows=rows, profiles=profiles), f, indent=1)
    with open(os.path.join(rdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = ["# trtcore cpu: INT8 vs FP32", "",
             "- CPU: %s (%d logical cores, shared with other processes); trtcore cpu kernels: %s" % (
                 cpu, os.cpu_count(), isa),
             "- commit %s, %s; load average (1/5/15 min) before %s, after %s" % (
                 meta["commit"], meta["date"], load_before, load_after),
             "- same process and thread count; %d interleaved repetitions of %d `infer()` calls per plan, medians "
             "of the wall time" % (args.reps, args.inner),
             "- weights: " + meta["weights"], "- command: `%s`" % meta["command"], "",
             "| model | batch | threads | FP32 ms | INT8 ms | INT8 / FP32 | INT8 not slower | top-1 agreement |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d | %d | %.3f | %.3f | %.2f | %s | %.2f |" % (
            r["model"], r["batch"], r["threads"], r["fp32_ms"], r["int8_ms"], r["ratio"],
            "yes" if r["goal_met"] else "**no**", r["top1_agreement"]))
    lines += ["", "## Where the time goes (ms per run by layer kind, Engine.profile())", ""]
    for k, pr in profiles.items():
        for prec in ("fp32", "int8"):
            lines.append("- **%s %s** (sum %.3f): %s" % (k, prec, sum(pr[prec].values()), ", ".join(
                "%s %.3f" % kv for kv in list(pr[prec].items())[:6])))
    common.write_readme(rdir, lines)


if __name__ == "__main__":
    main()
