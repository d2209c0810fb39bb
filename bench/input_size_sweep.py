"""Experiment 2: latency against input size for a fully convolutional network (thesis §3.2).

A U-Net-style FCN (bench/bench_models.py, random weights) at 128×256, 256×512, 512×1024 and 1024×2048: PyTorch eager
FP32/FP16 and trtcore cuda FP32/FP16, one plan per size. A configuration that runs out of device memory is recorded
as a result with status "OOM", not a crash. --small: 32×64 and 64×128 with a narrow U-Net on the cpu backend and
onnxruntime.

    python bench/input_size_sweep.py [--batch 1]     # on the GPU machine
    python bench/input_size_sweep.py --small         # CI check on the CPU
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import bench_models as models  # noqa: E402

FULL_SIZES = [(128, 256), (256, 512), (512, 1024), (1024, 2048)]
SMALL_SIZES = [(32, 64), (64, 128)]


def main(argv=None):
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--base", type=int, help="U-Net width of the first level (default 32; --small 4)")
    args = p.parse_args(argv)
    rdir = common.result_dir(args, "input_size_sweep")
    work = common.work_dir(args, rdir)
    plots = common.py("plots")
    b = args.batch
    results = []
    if args.small:
        sizes, base, depth = SMALL_SIZES, args.base or 4, 2
        iters, warm = args.iterations or 3, args.warmup or 1
    else:
        sizes, base, depth = FULL_SIZES, args.base or 32, 4
        iters, warm = args.iterations or 20, args.warmup or 5
    have_torch = models.torch_available()
    if have_torch and not args.small:
        # One set of random weights for both sides: the ONNX file is exported from the PyTorch module.
        onnx_path = models.export_torch(models.torch_unet(base, depth), os.path.join(work, "unet.onnx"),
                                        [1, 3] + list(sizes[0]), dynamic_hw=True)
    else:
        onnx_path = models.unet(os.path.join(work, "unet.onnx"), base=base, depth=depth)
    in_name = "input"
    trt = common.trtcore_engine()
    if not args.small and not (trt is not None and trt.cuda_available()) and not (have_torch and common.torch_cuda()):
        common.log("no usable GPU (neither trtcore's cuda backend nor PyTorch's CUDA): nothing of the full sweep can "
                   "run here; --small runs the CPU check")
    for h, w in common.py("progress").track(sizes, "input sizes"):
        shape = [b, 3, h, w]
        if args.small:
            results += common.run_trtcore(onnx_path, "cpu", "fp32", [b], iters, warm, "unet",
                                          shapes={in_name: shape}, input_shape=shape)
            results += _with_shape(common.run_onnxruntime(onnx_path, [b], iters, warm, "unet",
                                                          shapes_for=lambda _b, s=shape: {in_name: s}), shape)
            continue
        if have_torch and common.torch_cuda():
            make = lambda: models.torch_unet(base, depth)  # noqa: E731
            results.append(common.run_torch(make, shape, "eager", "fp32", "contiguous", iters, warm, "unet"))
            results.append(common.run_torch(make, shape, "eager", "fp16", "channels_last", iters, warm, "unet"))
        if trt is not None and trt.cuda_available():
            for prec in ("fp32", "fp16"):
                results += common.run_trtcore(onnx_path, "cuda", prec, [b], iters, warm, "unet",
                                              shapes={in_name: shape}, input_shape=shape)
    weights = "random (U-Net-style FCN, base width %d, depth %d%s)" % (
        base, depth, ", PyTorch module exported to ONNX" if have_torch and not args.small else
        ", built with onnx.helper in bench/bench_models.py")
    figures = [plots.latency_vs_input_size(results, os.path.join(rdir, "latency_vs_input_size.png"),
                                           title="U-Net: latency vs input size (batch %d, median)" % b,
                                           device=common.device_description(args.small))]
    oom = [r for r in results if r.get("status") == "OOM"]
    notes = common.header_notes(args, "input_size_sweep.py", weights)
    notes.append("- Runs out of device memory: %s" % (", ".join("%s %s %s" % (r["engine"], r["precision"],
                 "x".join(map(str, r["input_shape"][-2:]))) for r in oom) if oom else "none"))
    common.write_results(rdir, "Input-size sweep%s" % (" (small CPU check)" if args.small else ""), results, notes,
                         figures=figures)
    return 0


def _with_shape(results, shape):
    for r in results:
        r["input_shape"] = list(shape)
    return results


if __name__ == "__main__":
    sys.exit(main())
