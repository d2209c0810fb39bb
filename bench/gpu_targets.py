"""The GPU speed and memory targets, judged from a batch sweep's results.json (trtcore and PyTorch measured in the
same run): ResNet-50 batch 256 FP16 >= 5x PyTorch eager FP32 and >= 2x PyTorch FP16 channels_last CUDA graph,
FP32 >= 1.9x eager FP32; ResNet-50 batch 1 FP16 <= 0.45 ms and >= 2x PyTorch's CUDA-graph FP16; MobileNetV2 batch 1
FP16 <= 0.30 ms; a batch-256 plan needs no more device memory than PyTorch at the same batch. The fast-INT8 targets:
ResNet-50 b256 INT8 <= 3.6 ms and >= 9x eager FP32, b1 INT8 <= our b1 FP16; MobileNetV2 b256 INT8 faster than its
FP16; FP16 ResNet-50 b256 <= 5.0 ms, >= 3x PyTorch's FP16 CUDA graph and >= 1.85x torch.compile; MobileNetV2 b256
FP16 <= 3.5 ms and >= 1.6x torch.compile, b1 <= 0.2 ms. Ratios use GPU compute medians (trtexec's "GPU compute
time"); end-to-end ratios (host copies included) are listed beside them.

    python bench/gpu_targets.py RESULTS_DIR     # e.g. bench/results/batch_sweep: writes RESULTS_DIR/targets.md
"""
import json
import os
import sys


def _row(rows, model, engine, precision, batch):
    for r in rows:
        if (r.get("model"), r["engine"], r["precision"], r["batch"]) == (model, engine, precision, batch) \
                and r.get("status", "ok") == "ok":
            return r
    return None


def _ms(r, key="compute_ms"):
    return r[key]["median"]


def evaluate(rows):
    """(target, measured text, met: bool or None when a row is missing) for each target."""
    out = []

    def ratio(name, model, batch, fast, slow, goal):
        a, b = _row(rows, model, *fast, batch), _row(rows, model, *slow, batch)
        if not a or not b:
            out.append((name, "not measured", None))
            return
        rc, re = _ms(b) / _ms(a), _ms(b, "e2e_ms") / _ms(a, "e2e_ms")
        out.append((name, "%.2fx (GPU compute %.3f vs %.3f ms); end to end %.2fx" % (rc, _ms(a), _ms(b), re),
                    rc >= goal))

    def absolute(name, model, batch, engine, limit):
        a = _row(rows, model, *engine, batch)
        if not a:
            out.append((name, "not measured", None))
            return
        out.append((name, "%.3f ms GPU compute (limit %.2f ms)" % (_ms(a), limit), _ms(a) <= limit))

    def memory(name, model, batch, ours, theirs):
        a = _row(rows, model, *ours, batch)
        bs = [r for r in (_row(rows, model, *t, batch) for t in theirs) if r and r.get("device_memory_bytes")]
        if not a or not a.get("device_memory_bytes") or not bs:
            out.append((name, "not measured", None))
            return
        least = min(b["device_memory_bytes"] for b in bs)
        out.append((name, "%.0f MiB vs PyTorch %.0f MiB" % (a["device_memory_bytes"] / 2**20, least / 2**20),
                    a["device_memory_bytes"] <= least))

    trt16, trt32 = ("trtcore-cuda", "fp16"), ("trtcore-cuda", "fp32")
    eager32, graph16 = ("pytorch-eager", "fp32"), ("pytorch-graph", "fp16-cl")
    ratio("ResNet-50 b256 FP16 >= 5x PyTorch eager FP32", "resnet50", 256, trt16, eager32, 5.0)
    ratio("ResNet-50 b256 FP16 >= 2x PyTorch FP16 channels_last CUDA graph", "resnet50", 256, trt16, graph16, 2.0)
    ratio("ResNet-50 b256 FP32 >= 1.9x PyTorch eager FP32", "resnet50", 256, trt32, eager32, 1.9)
    absolute("ResNet-50 b1 FP16 <= 0.45 ms", "resnet50", 1, trt16, 0.45)
    ratio("ResNet-50 b1 FP16 >= 2x PyTorch CUDA-graph FP16", "resnet50", 1, trt16, graph16, 2.0)
    absolute("MobileNetV2 b1 FP16 <= 0.30 ms", "mobilenet_v2", 1, trt16, 0.30)
    trt8, compile16 = ("trtcore-cuda", "int8"), ("pytorch-compile", "fp16-cl")
    absolute("ResNet-50 b256 INT8 <= 3.6 ms", "resnet50", 256, trt8, 3.6)
    ratio("ResNet-50 b256 INT8 >= 9x PyTorch eager FP32", "resnet50", 256, trt8, eager32, 9.0)
    ratio("ResNet-50 b1 INT8 no slower than our FP16", "resnet50", 1, trt8, trt16, 1.0)
    ratio("MobileNetV2 b256 INT8 faster than our FP16", "mobilenet_v2", 256, trt8, trt16, 1.0)
    absolute("ResNet-50 b256 FP16 <= 5.0 ms", "resnet50", 256, trt16, 5.0)
    ratio("ResNet-50 b256 FP16 >= 3x PyTorch FP16 CUDA graph", "resnet50", 256, trt16, graph16, 3.0)
    ratio("ResNet-50 b256 FP16 >= 1.85x torch.compile", "resnet50", 256, trt16, compile16, 1.85)
    absolute("MobileNetV2 b256 FP16 <= 3.5 ms", "mobilenet_v2", 256, trt16, 3.5)
    ratio("MobileNetV2 b256 FP16 >= 1.6x torch.compile", "mobilenet_v2", 256, trt16, compile16, 1.6)
    absolute("MobileNetV2 b1 FP16 <= 0.2 ms", "mobilenet_v2", 1, trt16, 0.2)
    for prec, torch_precs in (("fp16", ["fp16-cl"]), ("fp32", ["fp32"])):
        memory("ResNet-50 b256 %s device memory <= PyTorch's" % prec.upper(), "resnet50", 256,
               ("trtcore-cuda", prec), [(e, p) for e in ("pytorch-eager", "pytorch-graph") for p in torch_precs])
    return out


def _run_name(rdir):
    """The run's name from its run.json (a latest-run folder is named after its experiment only), else the folder's."""
    try:
        with open(os.path.join(rdir, "run.json")) as f:
            return json.load(f)["run"]
    except (OSError, ValueError, KeyError):
        return os.path.basename(os.path.normpath(rdir))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    rdir = argv[0]
    path = os.path.join(rdir, "results.json")
    try:
        with open(path) as f:
            rows = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("gpu_targets.py: cannot read %s: %s\n" % (path, e))
        return 2
    device = next((r.get("device", "") for r in rows if r["engine"].startswith("trtcore")), "")
    lines = ["# GPU targets", "", "From `%s` (%s); GPU compute medians, PyTorch measured in the same run." % (
        _run_name(rdir), device), "", "| target | measured | met |", "|---|---|---|"]
    for name, text, met in evaluate(rows):
        lines.append("| %s | %s | %s |" % (name, text, {True: "yes", False: "**no**", None: "—"}[met]))
    text = "\n".join(lines) + "\n"
    tmp = os.path.join(rdir, ".targets.md.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(rdir, "targets.md"))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
