"""The standalone C++ executable (no Python at run time): the thesis script's flag form and the subcommand form,
checked against onnxruntime. TRTCORE_EXEC names the binary (scripts/test.sh builds it with -DTRTCORE_PYTHON=OFF);
otherwise the one installed with the Python package is used."""
import os
import subprocess

import numpy as np
import pytest

import models
from conftest import trtcore_executable, FP32_TOL, ort_run, rel_l2, save_model


def _run(*args):
    proc = subprocess.run([trtcore_executable(), *map(str, args)], capture_output=True, text=True, timeout=300)
    proc.output = proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def model_and_samples(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exec")
    model = models.mobilenet_v2(size=32, seed=5)
    onnx_path = save_model(model, tmp / "m.onnx")
    rng = np.random.default_rng(5)
    samples = {}
    os.makedirs(tmp / "samples")
    for i in range(5):
        x = rng.standard_normal((3, 32, 32)).astype(np.float32)
        (tmp / "samples" / ("s%d.bin" % i)).write_bytes(x.tobytes())
        samples["s%d.bin" % i] = x
    return model, onnx_path, samples, tmp


def test_thesis_flags_build_save_and_run(model_and_samples):
    model, onnx_path, samples, tmp = model_and_samples
    proc = _run("--file=%s" % onnx_path, "--plan=%s" % (tmp / "t.plan"), "--dir=%s" % (tmp / "samples"),
                "--output_dir=%s" % (tmp / "out"), "--batch=2", "--iter=2", "--backend=cpu")
    assert proc.returncode == 0, proc.output
    assert (tmp / "t.plan").exists()
    for name, x in samples.items():
        got = np.fromfile(tmp / "out" / name, dtype=np.float32)
        ref = ort_run(model, {"input": x[None]})["logits"].ravel()
        assert rel_l2(got, ref) <= FP32_TOL, name
    # --plan alone loads the saved plan (build options ignored), as the thesis script does.
    proc = _run("--plan=%s" % (tmp / "t.plan"), "--dir=%s" % (tmp / "samples"), "--batch=2")
    assert proc.returncode == 0, proc.output
    assert "samples: 5 files in 3 batches" in proc.output


def test_thesis_flags_run_a_model_with_several_inputs(tmp_path):
    """--dir with one sub-folder per input name, files paired by name, each output matching onnxruntime."""
    from test_cli import _check_two_input_outputs
    model = models.two_input_model(seed=6)
    onnx_path = save_model(model, tmp_path / "two.onnx")
    samples = models.write_two_input_samples(tmp_path / "s", 5, seed=7)
    proc = _run("--file=%s" % onnx_path, "--plan=%s" % (tmp_path / "two.plan"), "--dir=%s" % (tmp_path / "s"),
                "--output_dir=%s" % (tmp_path / "out"), "--batch=2", "--backend=cpu")
    assert proc.returncode == 0, proc.output
    _check_two_input_outputs(model, samples, tmp_path / "out")


def test_subcommands_and_json(model_and_samples):
    _, onnx_path, _, tmp = model_and_samples
    plan = tmp / "s.plan"
    assert _run("build", "--onnx", onnx_path, "--batch", 4, "--backend", "cpu", "--plan", plan).returncode == 0
    proc = _run("run", "--plan", plan, "--iter", 5, "--warmup", 1, "--json", tmp / "r.json")
    assert proc.returncode == 0, proc.output
    import json

    r = json.load(open(tmp / "r.json"))
    assert r["batch"] == 4 and r["iterations"] == 5 and len(r["trace"]) == 5
    assert r["compute_ms"]["min"] <= r["compute_ms"]["median"] <= r["compute_ms"]["max"]


def test_user_errors_exit_cleanly(model_and_samples, tmp_path):
    _, _, _, tmp = model_and_samples
    proc = _run("run", "--plan", tmp_path / "missing.plan")
    assert proc.returncode == 2 and "missing.plan" in proc.output
    proc = _run("build", "--onnx", tmp / "m.onnx", "--batch", "x")
    assert proc.returncode == 2 and "--batch" in proc.output
    proc = _run("--bogus")
    assert proc.returncode == 2 and "--bogus" in proc.output
