"""Experiment 1: latency and throughput against batch size (thesis §3.3, Southwest Petroleum Table 3).

ResNet-50, ResNet-18, MobileNetV2, ShuffleNetV2 and SqueezeNet (torchvision, weights=None) at batch 1…256:
PyTorch eager FP32, eager FP16 channels_last, CUDA-graph replay FP32/FP16, torch.compile FP16 (reduce-overhead, at
--compile-batches), trtcore cuda FP32/FP16 (and INT8 with --int8, calibrated on seeded noise: speed only), and at
small batches trtcore cpu and onnxruntime. --small: a MobileNetV2-style ONNX net built here, batch 1–4, cpu backend and
onnxruntime only.

    python bench/batch_sweep.py                 # on the GPU machine (needs torch + torchvision for the models)
    python bench/batch_sweep.py --small         # CI: checks the script end to end on the CPU
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import bench_models as models  # noqa: E402

FULL_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
CPU_BATCHES = [1, 8]


def main(argv=None):
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(models.TORCHVISION), help="subset of %s" % list(models.TORCHVISION))
    p.add_argument("--batches", nargs="+", type=int, help="batch sizes (default 1..256; --small: 1 2 4)")
    p.add_argument("--no-cpu", action="store_true", help="skip trtcore cpu and onnxruntime rows")
    p.add_argument("--plan-per-batch", action="store_true",
                   help="cuda: build one plan per batch size (tactics timed at that batch) instead of one plan for "
                        "the largest batch run at every size")
    p.add_argument("--compile-batches", nargs="*", type=int,
                   help="batches timed with torch.compile FP16 channels_last (default: the smallest and largest; "
                        "none to skip; each compiles for about a minute)")
    p.add_argument("--max-autotune", action="store_true",
                   help="also torch.compile mode max-autotune at --compile-batches (minutes per shape)")
    p.add_argument("--int8", action="store_true",
                   help="also trtcore cuda INT8 (calibrated on 32 seeded noise samples) at --int8-batches")
    p.add_argument("--int8-batches", nargs="*", type=int,
                   help="batches timed in INT8 (default: the smallest and largest)")
    args = p.parse_args(argv)
    rdir = common.result_dir(args, "batch_sweep")
    work = common.work_dir(args, rdir)
    plots = common.py("plots")
    results = []
    if args.small:
        iters, warm = args.iterations or 3, args.warmup or 1
        batches = args.batches or [1, 2, 4]
        onnx_path = models.mobilenet_v2_style(os.path.join(work, "mobilenet_v2_small.onnx"), resolution=32,
                                              width=0.25, num_classes=10,
                                              blocks=[(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2)])
        shape = [1, 3, 32, 32]
        results += common.run_trtcore(onnx_path, "cpu", "fp32", batches, iters, warm, "mobilenet_v2_small",
                                      input_shape=shape)
        results += common.run_onnxruntime(onnx_path, batches, iters, warm, "mobilenet_v2_small")
        weights = "random (seeded, MobileNetV2-style net built with onnx.helper in bench/bench_models.py)"
    else:
        if not models.torch_available():
            sys.stderr.write("batch_sweep.py: the full sweep needs torch and torchvision (the models are torchvision "
                             "architectures); use --small for the CPU check\n")
            return 2
        iters, warm = args.iterations or 50, args.warmup or 10
        batches = args.batches or FULL_BATCHES
        ends = sorted({min(batches), max(batches)})  # where torch.compile and INT8 run by default
        compile_at = ends if args.compile_batches is None else args.compile_batches
        int8_at = ends if args.int8_batches is None else args.int8_batches
        trt = common.trtcore_engine()
        cuda = trt is not None and trt.cuda_available()
        for name in args.models:
            shape = [1, 3, 224, 224]
            onnx_path = models.export_torch(models.torchvision_model(name), os.path.join(work, name + ".onnx"),
                                            shape)
            make = lambda n=name: models.torchvision_model(n)  # noqa: E731
            for b in batches:
                s = [b] + shape[1:]
                results.append(common.run_torch(make, s, "eager", "fp32", "contiguous", iters, warm, name))
                results.append(common.run_torch(make, s, "eager", "fp16", "channels_last", iters, warm, name))
                results.append(common.run_torch(make, s, "graph", "fp32", "contiguous", iters, warm, name))
                results.append(common.run_torch(make, s, "graph", "fp16", "channels_last", iters, warm, name))
                if b in compile_at:
                    for mode in ["reduce-overhead"] + (["max-autotune"] if args.max_autotune else []):
                        results.append(common.run_torch(make, s, "compile", "fp16", "channels_last", iters, warm,
                                                        name, compile_mode=mode))
            if cuda:
                for prec in ("fp32", "fp16") + (("int8",) if args.int8 else ()):
                    todo = [b for b in batches if prec != "int8" or b in int8_at]
                    for group in ([[b] for b in todo] if args.plan_per_batch else [todo] if todo else []):
                        results += common.run_trtcore(onnx_path, "cuda", prec, group, iters, warm, name,
                                                      input_shape=shape)
            if not args.no_cpu:
                cpu_b = [b for b in CPU_BATCHES if b <= max(batches)]
                results += common.run_trtcore(onnx_path, "cpu", "fp32", cpu_b, max(3, iters // 10), 1, name,
                                              input_shape=shape)
                results += common.run_onnxruntime(onnx_path, cpu_b, max(3, iters // 10), 1, name)
        weights = "random (torchvision architectures with weights=None): speed only, not accuracy"
    figures = []
    by_model = {}
    for r in results:
        by_model.setdefault(r.get("model"), []).append(r)
    device = common.device_description(args.small)
    for model, rs in by_model.items():
        if len({r["batch"] for r in rs}) > 1:
            figures.append(plots.latency_vs_batch(rs, os.path.join(rdir, "latency_vs_batch_%s.png" % model),
                                                  title="%s: latency vs batch size (median)" % model,
                                                  device=device))
    common.write_results(rdir, "Batch sweep%s" % (" (small CPU check)" if args.small else ""), results,
                         common.header_notes(args, "batch_sweep.py", weights), figures=figures)
    if not args.small and "resnet50" in by_model:
        import gpu_targets
        gpu_targets.main([rdir])  # targets.md beside the results
    return 0


if __name__ == "__main__":
    sys.exit(main())
