"""Where the time goes: build time, CUDA-graph replay vs per-kernel launches, and a per-layer time breakdown of one
model on the cuda backend (FP32/TF32, FP16, and INT8 calibrated on seeded noise), plus FP16 agreement with strict FP32 on the same input.

    python bench/layer_profile.py [--model resnet50] [--batch 1]

Writes README.md (tables) and profile.json to results/layer_profile/ (or --name, e.g. layer_profile_b256 for another
model or batch), moving the previous run into results/history/. Random weights (torchvision weights=None): speed only.
"""
import json
import os
import time

import numpy as np

import common
import bench_models as models


def main():
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet50")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--precisions", nargs="+", default=["fp32", "fp16"], choices=["fp32", "fp16", "int8"])
    p.add_argument("--workspace-mib", type=int, default=0, help="per-layer tactic scratch cap (0 = automatic)")
    p.add_argument("--no-agreement", action="store_true", help="skip the FP16 vs strict FP32 comparison")
    args = p.parse_args()
    trtcore = common.trtcore_engine()
    if trtcore is None or not trtcore.cuda_available():
        raise SystemExit("layer_profile needs trtcore with a usable cuda backend")
    iters = args.iterations or 50
    warmup = args.warmup or 10
    rdir = common.result_dir(args, "layer_profile")
    work = common.work_dir(args, rdir)
    path = os.path.join(work, args.model + ".onnx")
    models.export_torch(models.torchvision_model(args.model), path, (1, 3, 224, 224))

    report, md = {}, []
    for prec in args.precisions:
        # The kernel-by-kernel build reuses the first build's tactic choices (and skips timing them again).
        cache = os.path.join(work, "%s_%s_b%d.timing" % (args.model, prec, args.batch))
        if os.path.exists(cache):
            os.remove(cache)
        opts = dict(batch=args.batch, backend="cuda", precision=prec, workspace_mib=args.workspace_mib,
                    timing_cache=cache)
        if prec == "int8":  # speed only: the scales come from seeded noise, as in batch_sweep.py
            noise = np.random.default_rng(0).standard_normal((32, 3, 224, 224)).astype(np.float32)
            opts.update(calibration_data=[noise[i:i + 16] for i in range(0, 32, 16)])
        t0 = time.time()
        eng = trtcore.build(path, **opts)
        build_s = time.time() - t0
        graph = eng.benchmark(batch=args.batch, iterations=iters, warmup=warmup)
        eager = trtcore.build(path, cuda_graph=False, **opts)
        nograph = eager.benchmark(batch=args.batch, iterations=iters, warmup=warmup)
        prof = eng.profile(batch=args.batch, iterations=20)
        timed = {la.name: [dict(tactic=t.tactic, ms=t.ms, note=t.note) for t in la.candidates] for la in eng.layers}
        for r in prof:  # each row already names its tactic and scratch bytes; the build's timing of each form beside
            r["workspace_mib"] = r["workspace_bytes"] / 2**20
            r["candidates"] = timed.get(r["name"], [])
        total = sum(r["ms"] for r in prof) or 1.0
        by_op = {}
        for r in prof:
            by_op[r["op"]] = by_op.get(r["op"], 0.0) + r["ms"]
        report[prec] = dict(build_s=build_s, compute_ms_graph=graph["compute_ms"], compute_ms_no_graph=nograph["compute_ms"],
                            memory=eng.memory, layers=prof)
        md += ["## %s (batch %d)" % (prec.upper(), args.batch), "",
               "- build: %.1f s (import, optimize, tactic timing, weight upload)" % build_s,
               "- GPU compute, CUDA graph: median %.3f ms; kernel by kernel: median %.3f ms" % (
                   graph["compute_ms"]["median"], nograph["compute_ms"]["median"]),
               "- device memory: " + ", ".join("%s %.1f MiB" % (k, v / 2**20) for k, v in eng.memory.items()),
               "- per-layer profile (each layer replayed alone as a CUDA graph) sums to %.3f ms" % total, "",
               "| layer kind | layers | ms | share |", "|---|---:|---:|---:|"]
        counts = {}
        for r in prof:
            counts[r["op"]] = counts.get(r["op"], 0) + 1
        for op, ms in sorted(by_op.items(), key=lambda kv: -kv[1]):
            md.append("| %s | %d | %.3f | %.1f%% |" % (op, counts[op], ms, 100 * ms / total))
        md += ["", "Slowest layers:", "", "| layer | op | precision | tactic | workspace (MiB) | ms |",
               "|---|---|---|---|---:|---:|"]
        for r in sorted(prof, key=lambda r: -r["ms"])[:12]:
            md.append("| %s | %s | %s | %s | %.1f | %.4f |" % (r["name"], r["op"], r["precision"], r["tactic"],
                                                             r["workspace_mib"], r["ms"]))
        big = sorted(prof, key=lambda r: -r["workspace_mib"])[:3]
        md += ["", "Largest scratch: " + ", ".join("%s %.1f MiB (%s)" % (r["name"], r["workspace_mib"], r["tactic"])
                                                   for r in big)]
        md.append("")
        common.log("%s: build %.1f s, graph %.3f ms, no graph %.3f ms" % (
            prec, build_s, graph["compute_ms"]["median"], nograph["compute_ms"]["median"]))

    if args.no_agreement:
        x = None
    else:
        x = np.random.default_rng(0).standard_normal((min(8, max(args.batch, 8)), 3, 224, 224)).astype(np.float32)
    if x is not None:
        e32 = trtcore.build(path, batch=x.shape[0], backend="cuda", precision="fp32", strict_fp32=True)
        e16 = trtcore.build(path, batch=x.shape[0], backend="cuda", precision="fp16")
        name = e32.outputs[0].name
        a, b = e32.infer(x)[name], e16.infer(x)[name]
        rel = float(np.linalg.norm(a - b) / np.linalg.norm(a))
        top1 = float((a.argmax(1) == b.argmax(1)).mean())
        report["fp16_vs_strict_fp32"] = dict(rel_l2=rel, top1_agreement=top1)
        md += ["## FP16 vs strict FP32 (same random input, batch %d)" % x.shape[0], "",
               "relative L2 %.2e, top-1 agreement %.0f%%" % (rel, 100 * top1), ""]
    head = ["# Layer profile: %s" % args.model, ""] + common.header_notes(
        args, "layer_profile.py --model %s --batch %d --precisions %s%s" % (
            args.model, args.batch, " ".join(args.precisions),
            " --workspace-mib %d" % args.workspace_mib if args.workspace_mib else ""),
        "random (torchvision weights=None): speed only") + [""]
    with open(os.path.join(rdir, "README.md"), "w") as f:
        f.write("\n".join(head + md) + "\n")
    with open(os.path.join(rdir, "profile.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    common.log("results in " + rdir)


if __name__ == "__main__":
    main()
