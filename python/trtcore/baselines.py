"""Baselines timed the way trtcore times itself (`trtcore baseline`): onnxruntime on the CPU as the independent
reference, and PyTorch (eager FP32, FP16 channels_last, CUDA-graph replay) on the GPU.

Same statistics and JSON schema as `trtcore run --json` (trtcore.timing); warm-up excluded. On the GPU, compute
time comes from CUDA events around the model call with inputs already on the device, end-to-end time from a host
clock around copy-in + run + copy-out + synchronize. Outputs go to the `trtcore run --output-dir` layout: one raw
float32 file per input file, same name (one sub-folder per output name when a model has several outputs).
torch is optional and imported only when a PyTorch baseline is asked for.
"""
import os
import platform
import sys
import time

import numpy as np

from . import timing as _timing


class BaselineError(Exception):
    """A user error of `trtcore baseline`: a missing framework, model or sample folder."""


def cpu_name():
    """The CPU's model name and thread count, for result captions."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return "%s (%d threads)" % (line.split(":", 1)[1].strip(), os.cpu_count() or 1)
    except OSError:
        pass
    return platform.processor() or platform.machine()


def read_samples(input_dir, sample_shape):
    """(sorted file names, N×sample_shape float32 array) of a raw sample folder, read by trtcore's own sample reader
    (wrong sizes and non-finite values are errors naming the file)."""
    names, arrays = read_sample_inputs(input_dir, [("input", sample_shape)])
    return names, arrays["input"]


def read_sample_inputs(input_dir, inputs):
    """(sorted file names, {input name: N×shape float32 array}) of a raw sample folder for `inputs`, a list of (name,
    sample shape): several inputs read one sub-folder per input name, files paired by name, as `trtcore run --dir`."""
    from trtcore import _core

    try:
        return _core.read_sample_folder(str(input_dir), [(n, [int(d) for d in s]) for n, s in inputs])
    except _core.Error as e:
        raise BaselineError(str(e)) from None


def write_outputs(output_dir, names, outputs):
    """outputs: {output name: N×... array}; files named after the inputs."""
    os.makedirs(output_dir, exist_ok=True)
    multi = len(outputs) > 1
    for oname, arr in outputs.items():
        d = os.path.join(output_dir, _safe(oname)) if multi else output_dir
        os.makedirs(d, exist_ok=True)
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        for i, n in enumerate(names):
            tmp = os.path.join(d, "." + n + ".tmp")
            with open(tmp, "wb") as f:
                f.write(arr[i].tobytes())
            os.replace(tmp, os.path.join(d, n))


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


# ----------------------------------------------------------------------------------------------- onnxruntime

def _ort_shape(inp, batch, shapes):
    if shapes and inp.name in shapes:
        return [int(v) for v in shapes[inp.name]]
    dims = []
    for i, d in enumerate(inp.shape):
        if isinstance(d, int) and d > 0:
            dims.append(d)
        elif i == 0:
            dims.append(batch)
        else:
            raise BaselineError("input '%s' has a dynamic axis %d (%s); give its shape with --shapes" % (inp.name, i, d))
    return dims


def onnxruntime_run(onnx_path, batch=1, iterations=20, warmup=3, threads=0, input_dir=None, output_dir=None,
                    shapes=None, seed=0, model=None):
    """Times onnxruntime (CPUExecutionProvider) on random inputs, or over the batches of `input_dir`; returns a
    result dict (trtcore.timing schema)."""
    import onnxruntime as ort

    if not os.path.isfile(onnx_path):
        raise BaselineError("%s does not exist" % onnx_path)
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
    so.log_severity_level = 3
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    inputs = sess.get_inputs()
    out_names = [o.name for o in sess.get_outputs()]
    shape0 = _ort_shape(inputs[0], batch, shapes)
    fixed_batch = isinstance(inputs[0].shape[0], int) and inputs[0].shape[0] > 0 and not (shapes and inputs[0].name in shapes)
    rng = np.random.default_rng(seed)
    extra_feeds = {i.name: rng.standard_normal(_ort_shape(i, shape0[0], shapes)).astype(np.float32)
                   for i in inputs[1:]}
    device = "%s, onnxruntime %s" % (cpu_name(), ort.__version__)
    common = dict(model=model or os.path.splitext(os.path.basename(onnx_path))[0], input_shape=shape0,
                  timing="host steady clock around session.run; compute and e2e are the same on the CPU",
                  threads=int(threads) or None)

    if input_dir is None:
        x = rng.standard_normal(shape0).astype(np.float32)
        feeds = dict(extra_feeds, **{inputs[0].name: x})
        times = _timing.time_host(lambda: sess.run(out_names, feeds), iterations, warmup)
        return _timing.make_result("onnxruntime-cpu", "fp32", shape0[0], device, times, **common)

    # every input from the folder (one sub-folder per input when there are several), none random
    names, data = read_sample_inputs(input_dir, [(i.name, _ort_shape(i, shape0[0], shapes)[1:]) for i in inputs])
    step = shape0[0]
    outs = {n: [] for n in out_names}
    times = []
    for _ in range(max(0, warmup)):
        sess.run(out_names, {k: _pad(v[:step], step, fixed_batch) for k, v in data.items()})
    for rep in range(max(1, iterations)):
        for s in range(0, len(names), step):
            n = min(step, len(names) - s)
            feeds = {k: _pad(v[s:s + step], step, fixed_batch) for k, v in data.items()}
            t0 = time.perf_counter()
            res = sess.run(out_names, feeds)
            times.append((time.perf_counter() - t0) * 1000.0)
            if rep == 0:
                for on, r in zip(out_names, res):
                    outs[on].append(r[:n])
    if output_dir:
        write_outputs(output_dir, names, {k: np.concatenate(v) for k, v in outs.items()})
    return _timing.make_result("onnxruntime-cpu", "fp32", step, device, times, samples=len(names), **common)


def _pad(xb, step, fixed_batch):
    if not fixed_batch or len(xb) == step:
        return np.ascontiguousarray(xb)
    pad = np.zeros((step - len(xb),) + xb.shape[1:], dtype=xb.dtype)
    return np.concatenate([xb, pad])


# ----------------------------------------------------------------------------------------------- PyTorch

def import_torch():
    """The torch module, or a BaselineError saying how to install it."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise BaselineError("PyTorch is not installed: the PyTorch baselines need it (pip install torch "
                            "torchvision); onnxruntime and trtcore runs do not") from None
    return torch


def torchvision_model(name, num_classes=1000):
    """A torchvision architecture with random weights (weights=None): for speed, not accuracy."""
    import_torch()
    try:
        import torchvision
    except ImportError:
        raise BaselineError("torchvision is not installed (pip install torchvision)") from None
    ctor = getattr(torchvision.models, name, None)
    if ctor is None:
        raise BaselineError("torchvision has no model '%s'" % name)
    return ctor(weights=None, num_classes=num_classes).eval()


MODES = ("eager", "graph", "compile")
PRECISIONS = ("fp32", "fp16")
# torch.compile modes: reduce-overhead replays CUDA graphs of inductor's kernels; max-autotune also times GEMM/conv
# templates (minutes of compilation per shape).
COMPILE_MODES = ("reduce-overhead", "max-autotune")


def torch_engine_name(mode, compile_mode="reduce-overhead"):
    """The result's engine name: pytorch-eager, pytorch-graph, pytorch-compile or pytorch-compile-max-autotune."""
    return "pytorch-" + mode + ("-max-autotune" if mode == "compile" and compile_mode == "max-autotune" else "")


def torch_run(module, input_shape, mode="eager", precision="fp32", memory_format="contiguous", iterations=50,
              warmup=10, device=None, input_dir=None, output_dir=None, model=None, seed=0,
              compile_mode="reduce-overhead"):
    """Times a torch.nn.Module. input_shape includes the batch axis. mode: eager | graph (CUDA-graph replay) |
    compile (torch.compile with compile_mode, compiled during warm-up; the compile time is reported as compile_s);
    precision: fp32 | fp16; memory_format: contiguous | channels_last. Returns a result dict."""
    torch = import_torch()
    if mode not in MODES or precision not in PRECISIONS or memory_format not in ("contiguous", "channels_last") \
            or compile_mode not in COMPILE_MODES:
        raise BaselineError("mode must be one of %s, precision one of %s, memory_format contiguous|channels_last, "
                            "compile_mode one of %s" % (MODES, PRECISIONS, COMPILE_MODES))
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if mode == "graph" and dev.type != "cuda":
        raise BaselineError("CUDA-graph replay needs a CUDA device")
    dtype = torch.float16 if precision == "fp16" else torch.float32
    mf = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    if dev.type == "cuda":
        # Device memory the run needs: the peak of PyTorch's allocator (weights, activations, cuDNN/cuBLAS
        # workspaces, the graph's pool) above what was allocated before, not counting weights already there.
        torch.cuda.synchronize(dev)
        resident = sum(t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers())
                       if t.device == dev)
        mem_base = torch.cuda.memory_allocated(dev) - resident
        torch.cuda.reset_peak_memory_stats(dev)
    m = module.eval().to(dev, dtype=dtype)
    if memory_format == "channels_last":
        m = m.to(memory_format=mf)
    shape = [int(v) for v in input_shape]
    batch = shape[0]
    if input_dir is not None:
        names, data = read_samples(input_dir, shape[1:])
    else:
        names, data = None, np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    static_in = torch.empty(shape, device=dev, dtype=dtype).contiguous(memory_format=mf)
    pinned = torch.empty(shape, dtype=torch.float32, pin_memory=dev.type == "cuda")

    call = torch.compile(m, mode=compile_mode) if mode == "compile" else m

    def forward():
        return call(static_in)

    graph, static_out, compile_s = None, None, None
    # inference_mode tensors cannot enter a torch.compile'd graph's autograd bookkeeping; no_grad is enough there.
    with (torch.no_grad() if mode == "compile" else torch.inference_mode()):
        static_in.copy_(torch.from_numpy(data[:batch] if len(data) >= batch else _pad(data, batch, True)))
        if mode == "compile":
            # Compiled (and for reduce-overhead, graph-recorded) by the first calls, on the stream that times them.
            t0 = time.perf_counter()
            for _ in range(3):
                forward()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            compile_s = time.perf_counter() - t0
        elif dev.type == "cuda":
            # Side-stream warm-up before capture, as CUDA-graph capture requires.
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(max(3, warmup)):
                    forward()
            torch.cuda.current_stream().wait_stream(s)
            torch.cuda.synchronize()
        if mode == "graph":
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = forward()

        def run():
            if graph is not None:
                graph.replay()
                return static_out
            return forward()

        def one_batch(xb):
            """(compute ms, e2e ms, host output) of one batch."""
            t0 = time.perf_counter()
            pinned.copy_(torch.from_numpy(xb))
            if dev.type == "cuda":
                static_in.copy_(pinned, non_blocking=True)
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                out = run()
                end.record()
                host = out.float().to("cpu", non_blocking=False)
                torch.cuda.synchronize()
                e2e = (time.perf_counter() - t0) * 1000.0
                return start.elapsed_time(end), e2e, host
            static_in.copy_(pinned)
            t1 = time.perf_counter()
            out = run()
            t2 = time.perf_counter()
            host = out.float().clone()  # a compiled graph's output buffer is reused by the next replay
            return (t2 - t1) * 1000.0, (time.perf_counter() - t0) * 1000.0, host

        compute, e2e = [], []
        batches = [data[s:s + batch] for s in range(0, len(data), batch)] if names else [data]
        for _ in range(max(0, warmup)):
            one_batch(_pad(batches[0], batch, True))
        outs = []
        reps = iterations if names is None else max(1, iterations)
        for rep in range(reps):
            for xb in batches:
                n = len(xb)
                c, e, host = one_batch(_pad(xb, batch, True))
                compute.append(c)
                e2e.append(e)
                if names is not None and rep == 0:
                    outs.append(host.numpy()[:n].reshape(n, -1))
    if names is not None and output_dir:
        write_outputs(output_dir, names, {"output": np.concatenate(outs)})
    if dev.type == "cuda":
        devname = "%s, torch %s" % (torch.cuda.get_device_name(dev), torch.__version__)
        how = "CUDA events around the model call (inputs on the device); e2e from a host clock with copies"
        tf32 = bool(torch.backends.cudnn.allow_tf32) if precision == "fp32" else None
        extra = {"device_memory_bytes": int(torch.cuda.max_memory_allocated(dev) - mem_base)}
    else:
        devname = "%s, torch %s" % (cpu_name(), torch.__version__)
        how = "host steady clock"
        tf32 = None
        extra = {}
    if compile_s is not None:
        extra.update(compile_mode=compile_mode, compile_s=round(compile_s, 2))
    return _timing.make_result(torch_engine_name(mode, compile_mode), precision + ("-cl" if memory_format == "channels_last" else ""),
                               batch, devname, compute, e2e, model=model or type(module).__name__,
                               input_shape=shape, timing=how, cudnn_tf32=tf32,
                               samples=len(names) if names else None, **extra)


# ----------------------------------------------------------------------------------------------- CLI

def _shape(text):
    try:
        return [int(v) for v in text.lower().replace(",", "x").split("x") if v]
    except ValueError:
        raise BaselineError("bad shape %r (expected e.g. 8x3x224x224)" % text) from None


def add_cli(subparsers):
    """Adds `trtcore baseline` to the `trtcore` command's subparsers."""
    p = subparsers.add_parser("baseline", help="time onnxruntime (CPU) or PyTorch the way trtcore run does",
                              description="onnxruntime: --onnx model.onnx. PyTorch: --torchvision NAME (random "
                              "weights) --input-shape BxCxHxW [--mode eager|graph|compile] [--precision fp32|fp16] "
                              "[--channels-last]. Same JSON schema and output layout as trtcore run.")
    p.add_argument("--framework", choices=("onnxruntime", "torch"), default="onnxruntime")
    p.add_argument("--onnx", help="model for onnxruntime")
    p.add_argument("--torchvision", metavar="NAME", help="torchvision architecture for PyTorch (weights=None)")
    p.add_argument("--input-shape", help="PyTorch input shape with batch, e.g. 8x3x224x224")
    p.add_argument("--shapes", nargs="*", default=[], metavar="NAME:SHAPE", help="onnxruntime: input shapes")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--iter", type=int, default=20, help="timed iterations (over the directory: passes)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: its default)")
    p.add_argument("--mode", choices=MODES, default="eager",
                   help="eager, graph (CUDA-graph replay) or compile (torch.compile)")
    p.add_argument("--compile-mode", choices=COMPILE_MODES, default="reduce-overhead",
                   help="torch.compile mode for --mode compile")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", help="PyTorch device (default cuda if available)")
    p.add_argument("--dir", help="folder of raw float32 samples (thesis format)")
    p.add_argument("--output-dir", help="write outputs, one file per input, same name")
    p.add_argument("--json", help="write the result JSON here")
    p.set_defaults(func=_cli)
    return p


def _cli(args):
    try:
        if args.framework == "onnxruntime":
            if not args.onnx:
                raise BaselineError("--framework onnxruntime needs --onnx model.onnx")
            shapes = {}
            for s in args.shapes:
                name, _, sh = s.rpartition(":")
                if not name:
                    raise BaselineError("--shapes takes NAME:SHAPE, got %r" % s)
                shapes[name] = _shape(sh)
            r = onnxruntime_run(args.onnx, batch=args.batch, iterations=args.iter, warmup=args.warmup,
                                threads=args.threads, input_dir=args.dir, output_dir=args.output_dir, shapes=shapes)
        else:
            if not args.torchvision or not args.input_shape:
                raise BaselineError("--framework torch needs --torchvision NAME and --input-shape BxCxHxW")
            r = torch_run(torchvision_model(args.torchvision), _shape(args.input_shape), mode=args.mode,
                          precision=args.precision, memory_format="channels_last" if args.channels_last
                          else "contiguous", iterations=args.iter, warmup=args.warmup, device=args.device,
                          input_dir=args.dir, output_dir=args.output_dir, model=args.torchvision,
                          compile_mode=args.compile_mode)
    except (BaselineError, OSError) as e:
        sys.stderr.write("trtcore baseline: error: %s\n" % e)
        return 2
    except Exception as e:  # onnxruntime/torch failures on a user's model: one line, not a traceback
        sys.stderr.write("trtcore baseline: error: %s: %s\n" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        return 2
    if args.json:
        _timing.save_results(r, args.json)
    c, e = r["compute_ms"], r["e2e_ms"]
    print("%s %s batch %d on %s: compute median %.3f ms (p99 %.3f), e2e median %.3f ms, %.1f samples/s"
          % (r["engine"], r["precision"], r["batch"], r["device"], c["median"], c["p99"], e["median"],
             r["throughput"]))
    return 0
