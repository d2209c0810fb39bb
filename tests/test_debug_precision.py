"""`trtcore debug precision` on the cpu backend: the files it writes, its rankings checked against plans built here
with trtcore.build, a planted culprit found first, the suggested build command reaching its target, labels, and the
user errors. Reference: onnxruntime's float32 run of the same model (errors and agreement computed here in numpy)."""
import csv
import json
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models
import trtcore
from conftest import ort_run, rel_l2, save_model
from test_cli import assert_clean_failure, trtcore_cli

SIZE = 32
N_SAMPLES = 24


def _write_samples(folder, seed, n):
    """Seeded smooth images with a little noise, one raw float32 file each (the calibration tests' recipe)."""
    folder.mkdir()
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    arrays = []
    for i in range(n):
        a = np.stack([np.sin(xx * rng.uniform(1, 6) + rng.uniform(0, 3)) * np.cos(yy * rng.uniform(1, 6))
                      for _ in range(3)]).astype(np.float32)
        a += rng.normal(0, 0.1, a.shape).astype(np.float32)
        (folder / f"s{i:03d}.raw").write_bytes(a.tobytes())
        arrays.append(a)
    return np.stack(arrays)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("debug_precision")
    model = models.mobilenet_v2(size=SIZE, seed=7)
    onnx_path = save_model(model, tmp / "mbv2.onnx")
    arrays = _write_samples(tmp / "calib", 0, N_SAMPLES)
    reference = ort_run(model, {"input": arrays})["logits"]
    return tmp, onnx_path, model, tmp / "calib", arrays, reference


@pytest.fixture(scope="module")
def run(setup):
    """One run of the command (max calibrator), its output and its JSON."""
    tmp, onnx_path, _, calib, _, _ = setup
    out = tmp / "out"
    proc = trtcore_cli("debug", "precision", "--onnx", onnx_path, "--calibration-dir", calib, "--calibrator", "max",
                       "--batch", 8, "--output-dir", out)
    assert proc.returncode == 0, proc.output
    return proc, out, json.load(open(out / "precision_debug.json"))


def _build(setup, out, exclude):
    tmp, onnx_path = setup[:2]
    return trtcore.build(onnx_path, backend="cpu", batch=8, precision="int8", calibrator="max",
                         calibration_cache=str(out / "calibration.cache"), exclude_layers=list(exclude))


def _logits(engine, arrays):
    return np.concatenate([engine.infer({"input": arrays[i:i + 8]})["logits"] for i in range(0, len(arrays), 8)])


def _agreement(a, b):
    return float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1)))


def test_runs_end_to_end_and_writes_every_file(setup, run):
    tmp, onnx_path, model, calib, arrays, reference = setup
    proc, out, result = run
    for ext in ("json", "csv", "md", "png"):
        assert (out / f"precision_debug.{ext}").stat().st_size > 0, ext
    assert (out / "precision_debug.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "calibration.cache").exists()
    # the layers analyzed are exactly those an independent full INT8 build quantizes
    full = _build(setup, out, [])
    int8 = [l.name for l in full.layers if l.precision == "int8" and l.op != "QuantizeLinear"]
    assert sorted(p["layer"] for p in result["layers"]) == sorted(int8) and len(int8) >= 10
    # the full INT8 row's numbers match a measurement made here against onnxruntime's float32 output
    got = _logits(full, arrays)
    row = result["reference"]["int8"]
    assert row["rel_l2"] == pytest.approx(rel_l2(got, reference), rel=1e-3, abs=1e-4)
    assert row["top1_agreement"] == pytest.approx(_agreement(got, reference), abs=1.5 / N_SAMPLES)
    assert result["reference"]["fp32"]["rel_l2"] == 0 and result["reference"]["fp32"]["int8_layers"] == 0
    # (a) builds quantize exactly one layer, (b) builds all but one
    for p in result["layers"]:
        assert p["only_int8"]["int8_layers"] == 1 and p["all_but"]["int8_layers"] == len(int8) - 1, p["layer"]
    rows = list(csv.DictReader(open(out / "precision_debug.csv")))
    assert len(rows) == 2 + 2 * len(int8)
    assert {"variant", "layer", "rel_l2", "cosine", "top1_agreement"} <= set(rows[0])
    md = (out / "precision_debug.md").read_text()
    assert all(f"`{n}`" in md for n in int8) and "--exclude-layers" in md
    # stdout: the culprits and the command; stderr: progress
    worst = result["ranking_damage"][0]
    assert worst in proc.stdout and "trtcore build --onnx" in proc.stdout and "--int8" in proc.stdout
    assert "debug precision:" in proc.stderr


def test_ranking_agrees_with_independent_builds(setup, run):
    tmp, onnx_path, model, calib, arrays, reference = setup
    _, out, result = run
    layers = [p["layer"] for p in result["layers"]]
    # (a): only the layer ranked worst INT8 hurts more than only the one ranked most harmless
    worst, harmless = result["ranking_damage"][0], result["ranking_damage"][-1]
    err = {n: rel_l2(_logits(_build(setup, out, [m for m in layers if m != n]), arrays), reference)
           for n in (worst, harmless)}
    assert err[worst] > err[harmless], err
    # (b): leaving the layer ranked most helpful float gives a lower error than leaving the least helpful float
    best, useless = result["ranking_recovery"][0], result["ranking_recovery"][-1]
    err = {n: rel_l2(_logits(_build(setup, out, [n]), arrays), reference) for n in (best, useless)}
    assert err[best] < err[useless], err


def test_suggested_command_reaches_the_target(setup, run):
    tmp, onnx_path, model, calib, arrays, reference = setup
    _, out, result = run
    s = result["suggestion"]
    assert s["reached"] and s["command"][:2] == ["trtcore", "build"], s
    proc = trtcore_cli(*s["command"][2:])
    assert proc.returncode == 0, proc.output
    plan = s["command"][s["command"].index("--plan") + 1]
    engine = trtcore.Engine(plan)
    precisions = {l.name: l.precision for l in engine.layers}
    assert all(precisions[n] == "fp32" for n in s["exclude"])
    assert _agreement(_logits(engine, arrays), reference) >= result["target"]
    if s["exclude"]:  # greedy: one layer fewer left float falls short of the target
        short = _logits(_build(setup, out, s["exclude"][:-1]), arrays)
        assert _agreement(short, reference) < result["target"]


def _planted(model):
    """The model with 2 channels of the last projection's output at 1000 (BN shift) that the last 1x1 conv ignores
    (zero weights): float32 is unchanged, but that conv's INT8 input range is dominated by the outliers."""
    planted = onnx.ModelProto()
    planted.CopyFrom(model)
    g = planted.graph
    inits = {i.name: i for i in g.initializer}
    last = [n for n in g.node if n.op_type == "Conv"][-1]
    bn = next(n for n in g.node if n.op_type == "BatchNormalization" and n.output[0] == last.input[0])

    def edit(name, fn):
        a = numpy_helper.to_array(inits[name]).copy()
        fn(a)
        inits[name].CopyFrom(numpy_helper.from_array(a, name))

    edit(bn.input[2], lambda a: a.__setitem__(slice(0, 2), 1000.0))
    edit(last.input[1], lambda a: a.__setitem__((slice(None), slice(0, 2)), 0.0))
    return planted, last.name


def test_planted_culprit_ranks_first(setup, tmp_path):
    _, _, model, calib, arrays, reference = setup
    planted, culprit = _planted(model)
    onnx_path = save_model(planted, tmp_path / "planted.onnx")
    expected = ort_run(planted, {"input": arrays})["logits"]
    result = trtcore.debug_precision(onnx_path, calib, tmp_path / "out", calibrator="max", batch=8, progress=False)
    assert result["ranking_damage"][0] == culprit, result["ranking_damage"][:3]
    assert result["ranking_recovery"][0] == culprit, result["ranking_recovery"][:3]
    # leaving the culprit alone in float, measured here, removes most of the full INT8 error
    cache = str(tmp_path / "out" / "calibration.cache")

    def error(exclude):
        engine = trtcore.build(onnx_path, backend="cpu", batch=8, precision="int8", calibrator="max",
                               calibration_cache=cache, exclude_layers=exclude)
        return rel_l2(_logits(engine, arrays), expected)

    full, fixed = error([]), error([culprit])
    assert fixed < 0.5 * full, (fixed, full)


def test_labels_eval_dir_and_max_layers(setup, tmp_path):
    tmp, onnx_path, model, calib, _, _ = setup
    evals = _write_samples(tmp_path / "eval", 1, 12)
    labels = np.random.default_rng(3).integers(0, 10, len(evals))
    np.save(tmp_path / "labels.npy", labels)
    (tmp_path / "labels.txt").write_text("".join(f"{v}\n" for v in labels))
    fp32_top1 = float(np.mean(np.argmax(ort_run(model, {"input": evals})["logits"], axis=1) == labels))
    for name in ("labels.npy", "labels.txt"):
        out = tmp_path / name.replace(".", "_")
        proc = trtcore_cli("debug", "precision", "--onnx", onnx_path, "--calibration-dir", calib, "--eval-dir",
                           tmp_path / "eval", "--labels", tmp_path / name, "--max-layers", 4, "--batch", 5,
                           "--output-dir", out, "--quiet")
        assert proc.returncode == 0, proc.output
        result = json.load(open(out / "precision_debug.json"))
        assert result["metric"] == "accuracy" and result["eval_samples"] == 12
        assert result["reference"]["fp32"]["accuracy"] == pytest.approx(fp32_top1)
        assert result["goal"] == pytest.approx(0.99 * fp32_top1)
        assert result["analyzed_layers"] == 4 and len(result["skipped_layers"]) == result["quantizable_layers"] - 4
        assert "accuracy" in next(csv.DictReader(open(out / "precision_debug.csv")))
        assert proc.stderr == ""


@pytest.mark.parametrize("case", ["missing_dir", "wrong_size_eval", "wrong_size_calib", "bad_calibrator",
                                  "label_count"])
def test_user_errors(setup, tmp_path, case):
    tmp, onnx_path, model, calib, _, _ = setup
    args = ["debug", "precision", "--onnx", onnx_path, "--output-dir", tmp_path / "out", "--quiet"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "short.raw").write_bytes(b"\0" * 100)
    if case == "missing_dir":
        proc, mention = trtcore_cli(*args, "--calibration-dir", tmp_path / "nowhere"), ["nowhere"]
    elif case == "wrong_size_eval":
        proc = trtcore_cli(*args, "--calibration-dir", calib, "--eval-dir", bad)
        mention = ["short.raw", 3 * SIZE * SIZE * 4]
    elif case == "wrong_size_calib":
        proc, mention = trtcore_cli(*args, "--calibration-dir", bad), ["short.raw", 3 * SIZE * SIZE * 4]
    elif case == "bad_calibrator":
        proc, mention = trtcore_cli(*args, "--calibration-dir", calib, "--calibrator", "kl"), ["kl", "entropy"]
    else:
        (tmp_path / "labels.txt").write_text("1\n2\n")
        proc = trtcore_cli(*args, "--calibration-dir", calib, "--labels", tmp_path / "labels.txt")
        mention = ["labels.txt", "2 labels", f"{N_SAMPLES} evaluation samples"]
    assert_clean_failure(proc, "trtcore: error:", *mention)
    assert proc.returncode == 2
    assert not (tmp_path / "out").exists(), os.listdir(tmp_path / "out")  # nothing partial left behind


def test_help():
    proc = trtcore_cli("debug", "precision", "--help")
    assert proc.returncode == 0
    for opt in ("--onnx", "--calibration-dir", "--eval-dir", "--labels", "--calibrator", "--batch", "--backend",
                "--max-layers", "--target", "--output-dir"):
        assert opt in proc.stdout, opt
    assert "trtcore debug" in trtcore_cli("--help").stdout
