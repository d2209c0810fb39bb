"""trtcore's cpu backend against onnxruntime on the same machine, same process and same thread count: ResNet-50
(the onnx wheel's light graph with seeded random weights), an EfficientNet-style network (MBConv blocks with
depthwise convs, SiLU as Sigmoid*Mul and squeeze-excite) and a small MobileNetV2-style network at 64x64 (width 0.5,
Relu6 as Clip; tests/models.py), at batch 1 and 8, where per-layer overhead counts most. Repetitions of the two engines are
interleaved so that load from other processes hits both alike; medians are reported with the ratio
trtcore / onnxruntime and whether the goal (ratio <= 1.5) is met. The slowest trtcore layers (Engine.profile())
are listed per configuration, so a miss can be traced to its layers.

    python bench/cpu_vs_onnxruntime.py [--threads 1 2] [--batches 1 8] [--reps 15] [--models resnet50 efficientnet mobilenet_small]
"""
import csv
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(REPO, "tests"))

import common  # noqa: E402

GOAL = 1.5


# ------------------------------------------------------------------------------------------------ models

class _Builder:
    """Collects nodes and seeded initializers for a hand-built ONNX graph."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, p):
        self.n += 1
        return "%s_%d" % (p, self.n)

    def init(self, p, arr):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), n))
        return n

    def conv(self, x, cin, cout, k, stride=1, group=1, bias=False):
        fan_in = cin // group * k * k
        w = self.init("w", self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in))
        ins = [x, w]
        if bias:
            ins.append(self.init("b", self.rng.standard_normal(cout) * 0.1))
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", ins, [y], kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[k // 2] * 4, group=group))
        return y

    def bn(self, x, c):
        s = self.init("s", 1.0 + 0.1 * self.rng.standard_normal(c))
        b = self.init("bb", 0.1 * self.rng.standard_normal(c))
        m = self.init("m", 0.1 * self.rng.standard_normal(c))
        v = self.init("v", 1.0 + 0.1 * np.abs(self.rng.standard_normal(c)))
        y = self.name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [x, s, b, m, v], [y], epsilon=1e-3))
        return y

    def op(self, op, ins, **attrs):
        y = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [y], **attrs))
        return y

    def silu(self, x):
        return self.op("Mul", [x, self.op("Sigmoid", [x])])


def efficientnet_style(path, seed=0, width=1.0):
    """EfficientNet-B0's layout at 224x224: stem, 16 MBConv blocks (expand 1x1, depthwise kxk, squeeze-excite,
    project 1x1, residual where shapes allow), head 1x1 conv, global pooling, classifier. BatchNorm after every
    conv (folded by trtcore's optimizer and by onnxruntime's)."""
    b = _Builder(seed)
    ch = lambda c: int(round(c * width))  # noqa: E731
    x = b.silu(b.bn(b.conv("input", 3, ch(32), 3, 2), ch(32)))
    cin = ch(32)
    # (expand ratio, out channels, repeats, first stride, kernel)
    stages = [(1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3), (6, 112, 3, 1, 5),
              (6, 192, 4, 2, 5), (6, 320, 1, 1, 3)]
    for e, c, reps, s, k in stages:
        for r in range(reps):
            cout, stride = ch(c), s if r == 0 else 1
            h, mid = x, cin * e
            if e != 1:
                h = b.silu(b.bn(b.conv(h, cin, mid, 1), mid))
            h = b.silu(b.bn(b.conv(h, mid, mid, k, stride, group=mid), mid))
            se = max(1, cin // 4)
            g = b.op("GlobalAveragePool", [h])
            g = b.silu(b.conv(g, mid, se, 1, bias=True))
            g = b.op("Sigmoid", [b.conv(g, se, mid, 1, bias=True)])
            h = b.op("Mul", [h, g])
            h = b.bn(b.conv(h, mid, cout, 1), cout)
            if stride == 1 and cin == cout:
                h = b.op("Add", [h, x])
            x, cin = h, cout
    x = b.silu(b.bn(b.conv(x, cin, ch(1280), 1), ch(1280)))
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    w = b.init("fc_w", b.rng.standard_normal((ch(1280), 1000)) * np.sqrt(1.0 / ch(1280)))
    bias = b.init("fc_b", np.zeros(1000))
    y = "logits"
    b.nodes.append(helper.make_node("Gemm", [x, w, bias], [y]))
    graph = helper.make_graph(b.nodes, "efficientnet_style",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["N", 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def resnet50(path, seed=0):
    import models  # tests/models.py
    m = models.light_model("resnet50", seed=seed, expose_logits=True)
    # a dynamic batch axis, so one file serves batch 1 and 8 for both engines (the flatten before the classifier
    # reshapes to a fixed [1, 2048]: its batch becomes -1)
    reshape_shapes = {n.input[1] for n in m.graph.node if n.op_type == "Reshape"}
    for i, init in enumerate(m.graph.initializer):
        if init.name in reshape_shapes:
            shape = numpy_helper.to_array(init).copy()
            shape[0] = -1
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(shape, init.name))
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.save(m, path)
    return path


def mobilenet_small(path, seed=0):
    import models  # tests/models.py
    onnx.save(models.mobilenet_v2(batch="N", size=64, seed=seed), path)
    return path


MODELS = {"resnet50": resnet50, "efficientnet": efficientnet_style, "mobilenet_small": mobilenet_small}
INPUT_SIZE = {"mobilenet_small": 64}  # others: 224


# ------------------------------------------------------------------------------------------------ timing

def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def load_avg():
    try:
        return tuple(round(v, 2) for v in os.getloadavg())
    except OSError:
        return None


def time_once(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def measure(trt_engine, ort_sess, x, reps, inner):
    """Interleaves the engines: each repetition times `inner` calls of one, then of the other (order alternates).
    Before each engine's turn there is a short pause and one untimed call: onnxruntime's worker threads spin for a
    while after a run, and on a machine with few cores that spinning would otherwise be charged to the next
    engine (and trtcore's idle workers sleep, so they cost onnxruntime nothing)."""
    feed_name = ort_sess.get_inputs()[0].name
    run_trt = lambda: trt_engine.infer(x)  # noqa: E731
    run_ort = lambda: ort_sess.run(None, {feed_name: x})  # noqa: E731
    for _ in range(2):  # warm-up (first calls allocate)
        run_trt()
        run_ort()
    t_trt, t_ort = [], []
    for r in range(reps):
        order = [(run_trt, t_trt), (run_ort, t_ort)]
        if r % 2:
            order.reverse()
        for fn, acc in order:
            time.sleep(0.05)
            fn()
            for _ in range(inner):
                acc.append(time_once(fn))
    return t_trt, t_ort


def ort_op_times(ort, path, x, threads, runs=3):
    """onnxruntime's own per-op-type time (ms per run) from its profiler, on a separate session."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(os.path.dirname(path), "ort_profile")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x}
    sess.run(None, feed)
    for _ in range(runs):
        sess.run(None, feed)
    prof = sess.end_profiling()
    with open(prof) as f:
        events = json.load(f)
    os.remove(prof)
    by_op = {}
    for ev in events:
        if ev.get("cat") == "Node" and ev.get("name", "").endswith("_kernel_time"):
            op = ev.get("args", {}).get("op_name", "?")
            by_op[op] = by_op.get(op, 0.0) + ev["dur"] / 1e3 / (runs + 1)
    return dict(sorted(by_op.items(), key=lambda kv: -kv[1]))


def summary(ts):
    s = sorted(ts)
    return {"median": statistics.median(s), "min": s[0], "mean": statistics.fmean(s),
            "p90": s[min(len(s) - 1, int(0.9 * len(s)))], "n": len(s)}


def main():
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--reps", type=int, default=7, help="interleaved repetitions")
    p.add_argument("--inner", type=int, default=3, help="calls per engine per repetition")
    p.add_argument("--profile-top", type=int, default=8, help="slowest trtcore layers listed per configuration")
    args = p.parse_args()
    if args.small:
        args.batches, args.reps, args.inner, args.threads = [1], 1, 1, [1]

    import onnxruntime as ort
    trtcore = common.trtcore_engine()
    if trtcore is None:
        sys.exit("trtcore is not importable: " + common.trtcore_missing)

    cpu = cpu_name()
    commit = common.git_commit()
    rdir = common.result_dir(args, "cpu_vs_onnxruntime", device=common.slug(cpu))
    work = common.work_dir(args, rdir)
    rng = np.random.default_rng(0)
    rows, profiles = [], {}
    load_before = load_avg()
    for model in args.models:
        path = MODELS[model](os.path.join(work, model + ".onnx"))
        for nt in args.threads:
            eng = trtcore.build(path, batch=max(args.batches), backend="cpu", threads=nt)
            so = ort.SessionOptions()
            so.intra_op_num_threads = nt
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            for batch in args.batches:
                size = INPUT_SIZE.get(model, 224)
                x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
                # the two engines must agree before their times mean anything
                refs = sess.run(None, {sess.get_inputs()[0].name: x})
                got = eng.infer(x)
                rel = 0.0
                for o, ref in zip(sess.get_outputs(), refs):  # logits too: a saturated softmax hides errors
                    rel = max(rel, float(np.linalg.norm(got[o.name] - ref) / max(np.linalg.norm(ref), 1e-30)))
                la = load_avg()
                t_trt, t_ort = measure(eng, sess, x, args.reps, args.inner)
                st, so_ = summary(t_trt), summary(t_ort)
                ratio = st["median"] / so_["median"]
                row = dict(model=model, batch=batch, threads=nt, trtcore_ms=round(st["median"], 3),
                           onnxruntime_ms=round(so_["median"], 3), ratio=round(ratio, 3), goal_met=ratio <= GOAL,
                           trtcore_min_ms=round(st["min"], 3), onnxruntime_min_ms=round(so_["min"], 3),
                           min_ratio=round(st["min"] / so_["min"], 3), samples=st["n"], rel_l2=rel,
                           load_1min=la[0] if la else None)
                rows.append(row)
                common.log("%s b%d t%d: trtcore %.2f ms, onnxruntime %.2f ms, ratio %.2f (load %s)" %
                           (model, batch, nt, st["median"], so_["median"], ratio, la))
                prof = eng.profile(batch=batch, iterations=3)
                prof.sort(key=lambda d: -d["ms"])
                total = sum(d["ms"] for d in prof)
                by_op = {}
                for d in prof:
                    by_op[d["op"]] = by_op.get(d["op"], 0.0) + d["ms"]
                ort_ops = ort_op_times(ort, path, x, nt)
                profiles["%s-b%d-t%d" % (model, batch, nt)] = {
                    "onnxruntime_by_op_ms": ort_ops,
                    "total_ms": total, "by_op_ms": dict(sorted(by_op.items(), key=lambda kv: -kv[1])),
                    "top": [dict(name=d["name"], op=d["op"], ms=d["ms"]) for d in prof[:args.profile_top]]}
            del eng, sess
    load_after = load_avg()

    meta = dict(cpu=cpu, cores=os.cpu_count(), commit=commit, date=time.strftime("%Y-%m-%d %H:%M"),
                onnxruntime=ort.__version__, load_before=load_before, load_after=load_after, goal_ratio=GOAL,
                reps=args.reps, inner=args.inner, command=" ".join(["python"] + sys.argv),
                weights="random (seeded): ResNet-50 light graph from the onnx wheel; EfficientNet-style and "
                "MobileNetV2-style (tests/models.py) built here", cpu_isa=trtcore.cpu_isa())
    with open(os.path.join(rdir, "results.json"), "w") as f:
        json.dump(dict(meta=meta, rows=rows, profiles=profiles), f, indent=1)
    with open(os.path.join(rdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = ["# trtcore cpu vs onnxruntime", "",
             "- CPU: %s (%d logical cores, shared with other processes)" % (cpu, os.cpu_count()),
             "- commit %s, %s, onnxruntime %s; trtcore cpu kernels: %s" % (commit, meta["date"], ort.__version__,
                                                                          meta["cpu_isa"]),
             "- load average (1/5/15 min) before %s, after %s" % (load_before, load_after),
             "- same process, same thread count (onnxruntime: intra_op_num_threads, sequential execution); %d "
             "interleaved repetitions of %d calls per engine (each turn after a 50 ms pause and one untimed call); "
             "medians of `infer()` / `run()` wall time" %
             (args.reps, args.inner),
             "- weights: " + meta["weights"], "- command: `%s`" % meta["command"], "",
             "| model | batch | threads | trtcore ms | onnxruntime ms | ratio | goal (<= %.1fx) | rel. L2 |" % GOAL,
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d | %d | %.2f | %.2f | %.2f | %s | %.1e |" % (
            r["model"], r["batch"], r["threads"], r["trtcore_ms"], r["onnxruntime_ms"], r["ratio"],
            "met" if r["goal_met"] else "**missed**", r["rel_l2"]))
    lines += ["", "## Where the time goes (per op type, ms per run)", "",
              "trtcore: `Engine.profile()` (fused layers carry labels such as Conv+Add+Relu; it runs on zero "
              "inputs); onnxruntime: its own profiler on a separate session (its fused nodes carry its op names, "
              "e.g. FusedConv).", ""]
    for k, pr in profiles.items():
        ops = ", ".join("%s %.1f" % (o, v) for o, v in list(pr["by_op_ms"].items())[:6])
        lines.append("- **%s** (sum of layers %.1f ms): %s" % (k, pr["total_ms"], ops))
        lines.append("  - slowest layers: " + ", ".join("%s %.2f" % (d["name"], d["ms"]) for d in pr["top"][:5]))
        ort_ops = pr["onnxruntime_by_op_ms"]
        lines.append("  - onnxruntime's profiler, per op type (sum %.1f ms): %s" % (
            sum(ort_ops.values()), ", ".join("%s %.1f" % kv for kv in list(ort_ops.items())[:6])))
    common.write_readme(rdir, lines)


if __name__ == "__main__":
    main()
