"""Experiment 3: Fashion-MNIST accuracy and time per engine and precision (Louisville paper, Tables 2 and 3).

Trains a small CNN with PyTorch (CPU is fine) on the real 60,000 training images, exports it to ONNX, then for each
engine/precision classifies the real 10,000 test images in batches of 100: accuracy against the labels, and the
total time for the 10,000 images (host clock, copies included), averaged over ten runs.
Data: `apt-get install dataset-fashion-mnist` (idx files in /usr/share/datasets/fashion-mnist/).
Weights are trained here, not random. --small: 6,000 training images, 1,000 test images, two runs, cpu backend;
without torch it trains a softmax regression in numpy instead (said so in the results).

    python bench/fashion_mnist.py               # on the GPU machine
    python bench/fashion_mnist.py --small       # CI check on the CPU
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import bench_models as models  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # the training set's pixel mean and std (on the 0..1 scale)
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
BATCH = 100


def load_train(folder, limit):
    data = common.py("data")
    x = data.read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))[:limit].astype(np.float32)
    y = data.read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))[:limit].astype(np.int64)
    return ((x / 255.0 - MEAN) / STD)[:, None], y


def load_test(folder, limit):
    """The first `limit` test images, normalized as load_train does, and their labels."""
    data = common.py("data")
    x = data.read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"))[:limit].astype(np.float32)
    y = data.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))[:limit].astype(np.int64)
    return ((x / 255.0 - MEAN) / STD)[:, None], y


def train_and_export(x, y, epochs, onnx_path):
    """Trains the CNN with PyTorch (softmax regression in numpy where torch is missing) and exports it to
    onnx_path; returns (the torch module or None, a description of the trainer, training seconds)."""
    t0 = time.perf_counter()
    if models.torch_available() or _torch_only():
        net = train_torch(x, y, epochs)
        models.export_torch(net, onnx_path, [1, 1, 28, 28])
        trainer = "a small CNN (2 conv + 2 linear layers) trained with PyTorch on the CPU"
    else:
        w, b = train_numpy_softmax(x, y)
        softmax_onnx(w, b, onnx_path)
        net = None
        trainer = "softmax regression trained in numpy (torch not installed here)"
    return net, trainer, time.perf_counter() - t0


def train_torch(x, y, epochs, seed=0):
    import torch

    torch.manual_seed(seed)
    net = models.torch_fashion_cnn()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    net.train()
    for ep in range(epochs):
        perm = torch.randperm(len(xt))
        total = 0.0
        for s in range(0, len(xt), 128):
            idx = perm[s:s + 128]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        common.log("epoch %d: training loss %.4f" % (ep + 1, total / len(xt)))
    return net.eval()


def train_numpy_softmax(x, y, steps=60, lr=0.5):
    """Softmax regression by full-batch gradient descent: the fallback trainer where torch is missing."""
    xf = x.reshape(len(x), -1).astype(np.float32)
    w = np.zeros((xf.shape[1], 10))
    b = np.zeros(10)
    onehot = np.eye(10)[y]
    for _ in range(steps):
        z = xf @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / len(xf)
        w -= lr * (xf.T @ g)
        b -= lr * g.sum(axis=0)
    return w.astype(np.float32), b.astype(np.float32)


def softmax_onnx(w, b, path):
    from onnx import TensorProto, helper, numpy_helper
    import onnx

    nodes = [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "W", "B"], ["output"])]
    g = helper.make_graph(nodes, "fashion_softmax",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 10])],
                          [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


def time_engine(name, precision, predict, x, runs):
    """Runs the test set in batches of BATCH `runs` times; returns (scores of the first run, per-run totals in
    seconds, per-batch times in ms)."""
    scores, totals, per_batch = None, [], []
    predict(x[:BATCH])  # warm-up, not timed
    for r in range(runs):
        outs = []
        t_run = time.perf_counter()
        for s in range(0, len(x), BATCH):
            t0 = time.perf_counter()
            outs.append(predict(x[s:s + BATCH]))
            per_batch.append((time.perf_counter() - t0) * 1000.0)
        totals.append(time.perf_counter() - t_run)
        if scores is None:
            scores = np.concatenate(outs)
    common.log("%s %s: %.3f s per %d images" % (name, precision, float(np.mean(totals)), len(x)))
    return scores, totals, per_batch


def main(argv=None):
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, help="training epochs (default 3; --small 1)")
    p.add_argument("--runs", type=int, help="timed passes over the test set (default 10; --small 2)")
    p.add_argument("--data", default=DATA, help="folder of the four Fashion-MNIST idx .gz files (default %s)" % DATA)
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")):
        sys.stderr.write("fashion_mnist.py: %s has no t10k-images-idx3-ubyte.gz; install the data with apt-get "
                         "install dataset-fashion-mnist or pass --data FOLDER\n" % args.data)
        return 2
    data, timing, report, plots = (common.py(m) for m in ("data", "timing", "report", "plots"))
    rdir = common.result_dir(args, "fashion_mnist")
    work = common.work_dir(args, rdir)
    n_train, n_test = (6000, 1000) if args.small else (60000, 10000)
    runs = args.runs or (2 if args.small else 10)

    # The test set goes through `trtcore prepare`, as a user's data would.
    test_dir = os.path.join(work, "fashion-mnist-test-%d" % n_test)
    data.prepare(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"), test_dir, scale=1 / 255.0, mean=[MEAN], std=[STD],
                 limit=n_test, progress=False)
    x_test, y_test, _ = data.load_prepared(test_dir)
    x_train, y_train = load_train(args.data, n_train)
    onnx_path = os.path.join(work, "fashion_cnn.onnx")
    net, trainer, train_s = train_and_export(x_train, y_train, args.epochs or (1 if args.small else 3), onnx_path)

    engines = []  # (engine, precision, device, predict)
    if net is not None:
        import torch
        devices = ["cuda"] if torch.cuda.is_available() and not args.small else ["cpu"]
        for dev in devices:
            for prec in (("fp32", "fp16") if dev == "cuda" else ("fp32",)):
                m = models.torch_fashion_cnn()
                m.load_state_dict(net.state_dict())
                dtype = torch.float16 if prec == "fp16" else torch.float32
                m = m.eval().to(dev, dtype=dtype)

                def predict(xb, m=m, dev=dev, dtype=dtype):
                    with torch.inference_mode():
                        return m(torch.from_numpy(xb).to(dev, dtype=dtype)).float().cpu().numpy()
                engines.append(("pytorch-eager-" + dev, prec, dev, predict))
    trt = common.trtcore_engine()
    skipped = []
    if trt is not None:
        backends = ["cpu"] if args.small else (["cuda"] if trt.cuda_available() else []) + ["cpu"]
        for backend in backends:
            for prec in (("fp32", "fp16") if backend == "cuda" else ("fp32",)):
                try:
                    eng = trt.build(onnx_path, batch=BATCH, backend=backend, precision=prec)
                except Exception as e:
                    skipped.append("trtcore-%s %s: %s" % (backend, prec, str(e).splitlines()[0][:160]))
                    continue
                engines.append(("trtcore-" + backend, prec, eng.device,
                                lambda xb, eng=eng: next(iter(eng.infer(np.ascontiguousarray(xb)).values()))))
    else:
        skipped.append("trtcore: not importable (%s)" % common.trtcore_missing)
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    engines.append(("onnxruntime-cpu", "fp32", "cpu",
                    lambda xb: sess.run(None, {sess.get_inputs()[0].name: xb})[0]))

    acc_rows, results, time_rows = [], [], []
    reference = None
    for name, prec, dev, predict in engines:
        try:
            scores, totals, per_batch = time_engine(name, prec, predict, x_test, runs)
        except Exception as e:
            skipped.append("%s %s: %s" % (name, prec, str(e).splitlines()[0][:160]))
            continue
        if reference is None:
            reference = scores
        row = {"engine": name, "precision": prec, "samples": len(x_test),
               "top1": report.topk_accuracy(scores, y_test, 1), "top5": report.topk_accuracy(scores, y_test, 5)}
        row.update({"vs_ref_" + k: v for k, v in report.agreement(scores, reference).items()})
        acc_rows.append(row)
        time_rows.append({"engine": name, "precision": prec, "total_s_mean": float(np.mean(totals)),
                          "total_s_std": float(np.std(totals)), "total_s_min": float(np.min(totals)),
                          "runs": runs, "images_per_s": len(x_test) / float(np.mean(totals))})
        results.append(timing.make_result(name, prec, BATCH, dev, per_batch, model="fashion_cnn",
                                          input_shape=[BATCH, 1, 28, 28],
                                          timing="host clock per batch of 100, copies included"))
    device = common.device_description(args.small)
    figures = [plots.accuracy_per_precision(acc_rows, os.path.join(rdir, "accuracy.png"),
                                            title="Fashion-MNIST test accuracy (%d images)" % len(x_test),
                                            device=device)]
    tcols = [("engine", "engine", "%s"), ("precision", "precision", "%s"), ("runs", "runs", "%d"),
             ("total_s_mean", "mean total time (s)", "%.4f"), ("total_s_std", "std (s)", "%.4f"),
             ("total_s_min", "min (s)", "%.4f"), ("images_per_s", "images/s", "%.0f")]
    with open(os.path.join(rdir, "accuracy.csv"), "w") as f:
        f.write(report.csv_text(acc_rows, report.ACCURACY_COLUMNS))
    with open(os.path.join(rdir, "time.csv"), "w") as f:
        f.write(report.csv_text(time_rows, tcols))
    notes = common.header_notes(args, "fashion_mnist.py", "trained here: %s, on %d real training images in %.1f s "
                                "(not random)" % (trainer, n_train, train_s))
    notes += ["- Test set: the first %d real Fashion-MNIST test images, prepared with `trtcore prepare` "
              "(scale 1/255, mean %.4f, std %.4f)" % (len(x_test), MEAN, STD),
              "- Agreement columns compare each engine's scores with the first engine's (%s)" %
              (engines[0][0] + " " + engines[0][1] if engines else "none")]
    if skipped:
        notes += ["- Not run: " + "; ".join(skipped)]
    common.write_results(rdir, "Fashion-MNIST%s" % (" (small CPU check)" if args.small else ""), results, notes,
                         extra_sections=[
                             ("Accuracy (Table 2)", report.markdown_table(acc_rows, report.ACCURACY_COLUMNS)),
                             ("Time for the test set in batches of %d (Table 3)" % BATCH,
                              report.markdown_table(time_rows, tcols))],
                         figures=figures)
    return 0


def _torch_only():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
