"""Experiment 4: throughput of 1, 2, 3 and 5 processes sharing one GPU (Southwest Petroleum, Table 4).

Each process loads the same model (ResNet-50 by default, torchvision weights=None, i.e. random) and classifies
batches for a fixed time; the table gives total images per minute, per-process images per minute and the GPU
utilisation sampled with nvidia-smi during the window (where nvidia-smi exists). Engines: trtcore cuda (FP16 and
FP32 plans loaded from one plan file) and PyTorch eager FP16 channels_last. trtcore also runs as threads of one
process, each with its own execution context of one engine (Engine.create_context: shared weights, own stream and
memory). --small: a MobileNetV2-style ONNX net at
32×32 with 1 and 2 processes on the cpu backend and onnxruntime.

    python bench/concurrent_throughput.py [--model resnet50] [--batch 8] [--seconds 20]   # on the GPU machine
    python bench/concurrent_throughput.py --small                                         # CI check on the CPU
"""
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import bench_models as models  # noqa: E402


def _worker(kind, spec, batch, seconds, barrier, queue):
    """Runs in a child process: load, wait for the others, classify for `seconds`, report the image count."""
    try:
        shape = [batch] + list(spec["sample_shape"])
        x = np.random.default_rng(os.getpid()).standard_normal(shape).astype(np.float32)
        if kind == "trtcore":
            import trtcore
            eng = trtcore.Engine(spec["plan"])
            step = lambda: eng.infer(x)  # noqa: E731
        elif kind == "onnxruntime":
            import onnxruntime as ort
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            sess = ort.InferenceSession(spec["onnx"], so, providers=["CPUExecutionProvider"])
            name = sess.get_inputs()[0].name
            step = lambda: sess.run(None, {name: x})  # noqa: E731
        else:
            import torch
            m = models.torchvision_model(spec["model"]).cuda().half().to(memory_format=torch.channels_last)

            def step():
                with torch.inference_mode():
                    xt = torch.from_numpy(x).cuda().half().contiguous(memory_format=torch.channels_last)
                    m(xt).float().cpu()
        step()
        step()  # warm-up, not counted
        barrier.wait(timeout=600)
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < seconds:
            step()
            n += batch
        queue.put(("ok", n, time.perf_counter() - t0))
    except Exception as e:
        try:
            barrier.abort()
        except Exception:
            pass
        queue.put(("error", "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""), 0))


class GpuSampler(threading.Thread):
    """GPU utilisation (%) from nvidia-smi every half second, while running."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5)
                vals = [float(v) for v in out.stdout.split() if v.strip()]
                if vals:
                    self.samples.append(vals[0])
            except (OSError, ValueError, subprocess.SubprocessError):
                return
            self.stop.wait(0.5)


def run_threads(spec, n, batch, seconds):
    """n threads of this process, each with its own execution context of one trtcore engine."""
    import trtcore
    eng = trtcore.Engine(spec["plan"])
    contexts = [eng.create_context() for _ in range(n)]
    shape = [batch] + list(spec["sample_shape"])
    barrier, got, lock = threading.Barrier(n), [], threading.Lock()

    def work(i):
        try:
            x = np.random.default_rng(i).standard_normal(shape).astype(np.float32)
            contexts[i].infer(x)
            contexts[i].infer(x)  # warm-up (CUDA graph capture), not counted
            barrier.wait(timeout=600)
            t0, k = time.perf_counter(), 0
            while time.perf_counter() - t0 < seconds:
                contexts[i].infer(x)
                k += batch
            r = ("ok", k, time.perf_counter() - t0)
        except Exception as e:
            try:
                barrier.abort()
            except Exception:
                pass
            r = ("error", "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""), 0)
        with lock:
            got.append(r)

    sampler = GpuSampler() if common.gpu_name() else None
    if sampler:
        sampler.start()
    ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=900)
    if sampler:
        sampler.stop.set()
    return _summary(got, n, sampler)


def _summary(got, n, sampler):
    errors = [g[1] for g in got if g[0] != "ok"]
    if errors or len(got) != n:
        errors = errors or ["a worker did not finish"]
        status = "OOM" if any("memory" in e.lower() for e in errors) else "error"
        return {"processes": n, "status": status, "error": errors[0][:160], "images_per_minute": float("nan")}
    per_proc = [60.0 * k / t for _, k, t in got]
    util = float(np.mean(sampler.samples)) if sampler and sampler.samples else None
    return {"processes": n, "status": "ok", "images_per_minute": float(sum(per_proc)),
            "per_process_images_per_minute": float(np.mean(per_proc)), "gpu_util_percent": util}


def run_config(kind, spec, procs, batch, seconds):
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(procs), ctx.Queue()
    ps = [ctx.Process(target=_worker, args=(kind, spec, batch, seconds, barrier, queue)) for _ in range(procs)]
    for p in ps:
        p.start()
    sampler = GpuSampler() if common.gpu_name() else None
    if sampler:
        sampler.start()
    got = [queue.get(timeout=900) for _ in ps]
    if sampler:
        sampler.stop.set()
    for p in ps:
        p.join(timeout=60)
    return _summary(got, procs, sampler)


def main(argv=None):
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="resnet50")
    p.add_argument("--batch", type=int, help="images per call (default 8; --small 2)")
    p.add_argument("--seconds", type=float, help="measured window per configuration (default 20; --small 1)")
    p.add_argument("--processes", nargs="+", type=int, help="process counts (default 1 2 3 5; --small 1 2)")
    args = p.parse_args(argv)
    rdir = common.result_dir(args, "concurrent")
    work = common.work_dir(args, rdir)
    plots, report = common.py("plots"), common.py("report")
    batch = args.batch or (2 if args.small else 8)
    seconds = args.seconds or (1.0 if args.small else 20.0)
    counts = args.processes or ([1, 2] if args.small else [1, 2, 3, 5])
    trt = common.trtcore_engine()
    configs, skipped = [], []  # (engine label, worker kind, spec)
    if args.small:
        sample_shape = [3, 32, 32]
        onnx_path = models.mobilenet_v2_style(os.path.join(work, "mobilenet_v2_small.onnx"), resolution=32,
                                              width=0.25, num_classes=10,
                                              blocks=[(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2)])
        model, weights = "mobilenet_v2_small", "random (seeded, MobileNetV2-style net from bench/bench_models.py)"
        backends = [("cpu", "fp32")]
        configs.append(("onnxruntime-cpu fp32", "onnxruntime", {"onnx": onnx_path, "sample_shape": sample_shape}))
    else:
        if not models.torch_available():
            sys.stderr.write("concurrent_throughput.py: the full run needs torch and torchvision; use --small on the CPU\n")
            return 2
        sample_shape = [3, 224, 224]
        onnx_path = models.export_torch(models.torchvision_model(args.model),
                                        os.path.join(work, args.model + ".onnx"), [1] + sample_shape)
        model, weights = args.model, "random (torchvision %s, weights=None): speed only" % args.model
        backends = [("cuda", "fp16"), ("cuda", "fp32")] if trt is not None and trt.cuda_available() else []
        if common.torch_cuda():
            configs.append(("pytorch-eager fp16-cl", "torch", {"model": args.model, "sample_shape": sample_shape}))
    if trt is None:
        skipped.append("trtcore: not importable (%s)" % common.trtcore_missing)
    else:
        for backend, prec in backends:
            plan = os.path.join(work, "%s-%s-%s-b%d.plan" % (model, backend, prec, batch))
            try:
                trt.build(onnx_path, batch=batch, backend=backend, precision=prec).save(plan)
                spec = {"plan": plan, "sample_shape": sample_shape}
                configs.insert(0, ("trtcore-%s %s" % (backend, prec), "trtcore", spec))
                configs.insert(1, ("trtcore-%s %s, threads+contexts" % (backend, prec), "threads", spec))
            except Exception as e:
                skipped.append("trtcore-%s %s: %s" % (backend, prec, str(e).splitlines()[0][:160]))
    rows = []
    for label, kind, spec in configs:
        for n in counts:
            r = run_threads(spec, n, batch, seconds) if kind == "threads" else run_config(kind, spec, n, batch, seconds)
            r.update(engine=label, model=model, batch=batch, seconds=seconds)
            common.log("%s x%d: %s images/min" % (label, n, "%.0f" % r["images_per_minute"] if r["status"] == "ok"
                                                  else r["status"]))
            rows.append(r)
    device = common.device_description(args.small)
    figures = [plots.throughput_vs_processes([r for r in rows if r["status"] == "ok"],
                                             os.path.join(rdir, "throughput_vs_processes.png"),
                                             title="%s: concurrent throughput (batch %d)" % (model, batch),
                                             device=device)]
    cols = [("engine", "engine", "%s"), ("processes", "processes (or threads)", "%d"), ("batch", "batch", "%d"),
            ("images_per_minute", "total images/min", "%.0f"),
            ("per_process_images_per_minute", "per process images/min", "%.0f"),
            ("gpu_util_percent", "GPU util (%)", "%.0f"), ("status", "status", "%s"), ("error", "error", "%s")]
    with open(os.path.join(rdir, "concurrent.csv"), "w") as f:
        f.write(report.csv_text(rows, cols))
    notes = common.header_notes(args, "concurrent_throughput.py", weights)
    notes.append("- Each process runs its own engine on the shared device for %.0f s after all are loaded; "
                 "images/min counts completed batches. Rows marked threads+contexts: that many threads of one "
                 "process, each with its own execution context of one engine" % seconds)
    if skipped:
        notes.append("- Not run: " + "; ".join(skipped))
    common.write_results(rdir, "Concurrent throughput%s" % (" (small CPU check)" if args.small else ""), [], notes,
                         extra_sections=[("Throughput (Table 4)", report.markdown_table(rows, cols))],
                         figures=figures)
    common.py("timing").save_results(rows, os.path.join(rdir, "concurrent.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
