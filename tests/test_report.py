"""`trtcore report`, the timing statistics and the onnxruntime baseline: numbers on hand-checkable cases, tables,
and plots that exist and are not blank."""
import csv
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import common  # noqa: E402
import bench_models as models  # noqa: E402

report, timing, plots, baselines, compare, data = (common.py(m) for m in
                                                   ("report", "timing", "plots", "baselines", "compare", "data"))


def _cli(mod, argv):
    import argparse
    p = argparse.ArgumentParser()
    mod.add_cli(p.add_subparsers())
    args = p.parse_args(argv)
    return args.func(args)


def _assert_png(path):
    from PIL import Image
    assert os.path.getsize(path) > 5000, path
    im = np.asarray(Image.open(path).convert("L"))
    assert im.shape[0] > 200 and im.shape[1] > 300
    assert (im < 128).mean() > 0.002, "%s looks blank" % path  # lines, labels and text drawn


def test_summarize_matches_numpy():
    t = [5.0, 1.0, 2.0, 3.0, 4.0, 10.0]
    s = timing.summarize(t)
    assert s["mean"] == pytest.approx(25 / 6) and s["min"] == 1.0 and s["median"] == 3.5
    assert s["std"] == pytest.approx(np.std(t))
    for q in (90, 95, 99):
        assert s["p%d" % q] == pytest.approx(np.percentile(t, q))
    assert s["p90"] == pytest.approx(7.5)  # position 4.5 between 5 and 10
    r = timing.make_result("x", "fp32", 8, "cpu", [2.0, 2.0], [4.0, 4.0])
    assert r["throughput"] == pytest.approx(2000.0) and r["compute_throughput"] == pytest.approx(4000.0)
    timing.validate(r)
    with pytest.raises(ValueError, match="e2e_ms"):
        timing.validate({k: v for k, v in r.items() if k != "e2e_ms"})
    n = timing.normalize({"batch": 2, "iterations": 1, "compute_ms": s}, engine="e", precision="fp32", device="d")
    assert n["e2e_ms"] == s and n["throughput"] == pytest.approx(2000 / s["mean"])


def test_topk_agreement_and_iou_by_hand():
    logits = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.4, 0.35, 0.25]])
    labels = np.array([1, 1, 2, 2])
    assert report.topk_accuracy(logits, labels, 1) == 0.5
    assert report.topk_accuracy(logits, labels, 2) == 0.75
    assert report.topk_accuracy(logits, labels, 5) == 1.0
    ag = report.agreement(logits + np.array([0, 0, 0.6, 0])[:, None] * np.array([1, 0, 0]), logits)
    assert ag["top1_agreement"] == 0.75 and ag["max_abs"] == pytest.approx(0.6)
    pred = np.array([[[0, 0], [1, 1]]])
    tgt = np.array([[[0, 1], [1, 1]]])
    # class 0: |{(0,0),(0,1)} ∩ {(0,0)}| / |∪| = 1/2; class 1: 2/3; class 2 absent from both.
    r = report.mean_iou(pred, tgt, 3)
    assert r["per_class"] == {0: 0.5, 1: pytest.approx(2 / 3)} and r["mean_iou"] == pytest.approx(7 / 12)
    scores = np.stack([pred == c for c in range(3)], axis=1).astype(np.float32)
    assert report.mean_iou(scores, tgt, 3)["mean_iou"] == pytest.approx(7 / 12)


def test_tables():
    rows = [{"engine": "a", "batch": 1, "v": 0.5}, {"engine": "b", "batch": 2, "v": float("nan")}]
    cols = [("engine", "engine", "%s"), ("batch", "batch", "%d"), ("v", "value (ms)", "%.2f"), ("x", "x", "%s")]
    md = report.markdown_table(rows, cols)
    assert md.splitlines()[0] == "| engine | batch | value (ms) |"
    assert "| a | 1 | 0.50 |" in md and "| b | 2 | — |" in md
    assert list(csv.reader(report.csv_text(rows, cols).splitlines()))[1] == ["a", "1", "0.5"]


def _results():
    out = []
    for eng, prec, base in (("trtcore-cuda", "fp16", 0.3), ("pytorch-eager", "fp32", 2.0)):
        for b in (1, 4, 16, 64):
            t = [base * (1 + b / 8) * (1 + 0.01 * i) for i in range(20)]
            out.append(timing.make_result(eng, prec, b, "NVIDIA H100", t, [x + 0.1 * b for x in t], model="resnet50"))
    out.append(timing.failed_result("pytorch-eager", "fp32", 256, "NVIDIA H100", "OOM", "out of memory",
                                    model="resnet50"))
    return out


def test_report_from_result_files(tmp_path, capsys):
    res = _results()
    timing.save_results(res[:5], str(tmp_path / "a.json"))
    with open(tmp_path / "b.json", "w") as f:
        json.dump(res[5:], f)
    out = str(tmp_path / "rep")
    assert _cli(report, ["report", "--results", str(tmp_path), "-o", out, "--title", "ResNet-50"]) == 0
    md = open(os.path.join(out, "report.md")).read()
    assert "NVIDIA H100" in md and "OOM" in md and "trtcore-cuda" in md
    rows = list(csv.DictReader(open(os.path.join(out, "speed.csv"))))
    assert len(rows) == 9
    r0 = rows[0]
    assert float(r0["per_image_ms"]) == pytest.approx(float(r0["e2e_median_ms"]) / int(r0["batch"]))
    _assert_png(os.path.join(out, "latency_vs_batch.png"))
    capsys.readouterr()
    assert _cli(report, ["report", "--results", str(tmp_path / "missing.json"), "-o", out]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with open(tmp_path / "bad.json", "w") as f:
        json.dump({"engine": "x"}, f)
    assert _cli(report, ["report", "--results", str(tmp_path / "bad.json"), "-o", out]) == 2
    assert "missing key" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{bad")
    assert _cli(report, ["report", "--results", str(tmp_path / "broken.json"), "-o", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.json is not valid JSON" in err, err


def test_all_plots(tmp_path):
    res = _results()
    _assert_png(plots.latency_vs_batch(res, str(tmp_path / "b.png"), device="NVIDIA H100"))
    sized = [timing.make_result("trtcore-cuda", "fp32", 1, "H100", [0.5 * 4 ** i], input_shape=[1, 3, h, w])
             for i, (h, w) in enumerate([(128, 256), (256, 512), (512, 1024)])]
    sized.append(timing.failed_result("trtcore-cuda", "fp32", 1, "H100", "OOM", input_shape=[1, 3, 1024, 2048]))
    _assert_png(plots.latency_vs_input_size(sized, str(tmp_path / "s.png")))
    acc = [{"engine": "trtcore-cuda", "precision": p, "top1": a} for p, a in (("fp32", 0.91), ("fp16", 0.909),
                                                                            ("int8", 0.9))]
    _assert_png(plots.accuracy_per_precision(acc, str(tmp_path / "a.png"), device="H100"))
    conc = [{"engine": e, "processes": n, "images_per_minute": k * n ** 0.5} for e, k in (("trtcore", 9e4),
                                                                                        ("pytorch", 3e4))
            for n in (1, 2, 3, 5)]
    _assert_png(plots.throughput_vs_processes(conc, str(tmp_path / "c.png"), device="H100"))


def test_onnxruntime_baseline_outputs_and_accuracy_report(tmp_path, capsys):
    """The baseline writes the run --output-dir layout; report scores it against prepared labels and a reference."""
    from sklearn.datasets import load_digits
    d = load_digits()
    np.save(tmp_path / "x.npy", d.images[:30].astype(np.float32))
    np.save(tmp_path / "y.npy", d.target[:30])
    prep = str(tmp_path / "set")
    data.prepare(str(tmp_path / "x.npy"), prep, labels=str(tmp_path / "y.npy"), scale=1 / 16.0, progress=False)
    # A fixed linear classifier: class scores = mean pixel value per class template.
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    tmpl = np.stack([d.images[d.target == c].mean(0).ravel() / 16.0 for c in range(10)]).astype(np.float32)
    g = helper.make_graph([helper.make_node("Flatten", ["input"], ["f"], axis=1),
                           helper.make_node("Gemm", ["f", "W"], ["scores"], transB=1)], "t",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 10])],
                          [numpy_helper.from_array(tmpl, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "t.onnx"))
    out = str(tmp_path / "ort")
    r = baselines.onnxruntime_run(str(tmp_path / "t.onnx"), batch=8, iterations=2, warmup=1,
                                  input_dir=os.path.join(prep, "data"), output_dir=out)
    timing.validate(r)
    assert r["engine"] == "onnxruntime-cpu" and r["iterations"] == 8 and r["samples"] == 30  # 4 batches × 2 passes
    assert sorted(os.listdir(out)) == sorted(os.listdir(os.path.join(prep, "data")))
    x, y, _ = data.load_prepared(prep)
    want = x.reshape(30, -1) @ tmpl.T
    got = np.stack([np.fromfile(os.path.join(out, f), np.float32) for f in sorted(os.listdir(out))])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    expected_top1 = float(np.mean(np.argmax(want, 1) == y))
    row = report.accuracy_row("onnxruntime:fp32", out, os.path.join(prep, "labels.csv"), reference=out)
    assert row["top1"] == pytest.approx(expected_top1) and row["vs_ref_top1_agreement"] == 1.0
    assert row["vs_ref_max_abs"] == 0.0 and row["precision"] == "fp32"
    rep_dir = str(tmp_path / "rep")
    assert _cli(report, ["report", "--outputs", "ort:fp32=" + out, "--labels", os.path.join(prep, "labels.csv"),
                         "--reference", out, "-o", rep_dir]) == 0
    acc = list(csv.DictReader(open(os.path.join(rep_dir, "accuracy.csv"))))
    assert float(acc[0]["top1"]) == pytest.approx(expected_top1)
    _assert_png(os.path.join(rep_dir, "accuracy.png"))
    assert compare.compare_runs(out, out)["passed"]
    (tmp_path / "bad_labels.txt").write_text("1 2 3\n")  # a malformed labels file is named in one line
    assert _cli(report, ["report", "--outputs", "ort:fp32=" + out, "--labels", str(tmp_path / "bad_labels.txt"),
                         "-o", str(tmp_path / "rep2")]) == 2
    assert "bad_labels.txt" in capsys.readouterr().err


def test_onnxruntime_random_inputs_and_cli(tmp_path, capsys):
    p = models.mobilenet_v2_style(str(tmp_path / "m.onnx"), resolution=32, width=0.25, num_classes=10,
                                  blocks=[(1, 16, 1, 1), (6, 24, 1, 2)])
    assert _cli(baselines, ["baseline", "--onnx", p, "--batch", "2", "--iter", "3", "--json",
                            str(tmp_path / "r.json")]) == 0
    (r,) = timing.load_results(str(tmp_path / "r.json"))
    assert r["batch"] == 2 and r["iterations"] == 3 and r["input_shape"] == [2, 3, 32, 32]
    capsys.readouterr()
    assert _cli(baselines, ["baseline", "--onnx", str(tmp_path / "none.onnx")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    try:
        import torch  # noqa: F401
    except ImportError:
        assert _cli(baselines, ["baseline", "--framework", "torch", "--torchvision", "resnet18",
                                "--input-shape", "1x3x32x32"]) == 2
        assert "PyTorch is not installed" in capsys.readouterr().err


def _batch_results(model, engine, times):
    return [timing.make_result(engine, "fp32", b, "cpu", [t, t], [t, t], model=model) for b, t in times]


def test_model_names_from_files_and_plain_names_are_one_model(tmp_path, monkeypatch):
    """A result naming its model "mbv2.onnx" and one naming it "mbv2" share one plot: both lines are drawn."""
    drawn = []
    real = plots.latency_vs_batch
    monkeypatch.setattr(plots, "latency_vs_batch", lambda rs, *a, **k: drawn.append(rs) or real(rs, *a, **k))
    results = (_batch_results("models/mbv2.onnx", "trtcore-cpu", [(1, 1.0), (2, 1.5), (4, 2.5)])
               + _batch_results("mbv2", "onnxruntime-cpu", [(1, 1.2), (2, 2.0), (4, 3.5)]))
    written = report.write_report(str(tmp_path), results)
    pngs = sorted(os.path.basename(p) for p in written if p.endswith(".png"))
    assert pngs == ["latency_vs_batch.png"]
    assert len(drawn) == 1 and {r["engine"] for r in drawn[0]} == {"trtcore-cpu", "onnxruntime-cpu"}
    assert {r["model"] for r in drawn[0]} == {"mbv2"}
    assert report.model_name("a/b/resnet50.plan") == "resnet50" and report.model_name("x.onnx") == "x"


def test_long_captions_stay_inside_the_figure(tmp_path, monkeypatch):
    """A long device list under the title is wrapped, not cut off at the figure's edges."""
    plt = plots._plt()
    figs = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: figs.append(fig))
    device = "Intel(R) Xeon(R) Platinum 8480+ (2 sockets, 112 cores); NVIDIA H200 141GB HBM3e (driver 580.65)"
    rows = [{"engine": "trtcore-cpu", "precision": "fp32", "top1": 0.71},
            {"engine": "onnxruntime-cpu", "precision": "fp32", "top1": 0.71}]
    plots.accuracy_per_precision(rows, str(tmp_path / "a.png"), device=device, date="2026-01-01")
    (fig,) = figs
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert "Platinum" in fig._suptitle.get_text() and "2026-01-01" in fig._suptitle.get_text()
    real_close(fig)
