"""--int8-float-layers N: the N layers most sensitive to INT8 stay float. Reference: onnxruntime's float32 run of the
model; the sensitivity scores are kept beside the calibration cache and reused from it."""
import re

import numpy as np
import pytest

import models
import trtcore
from conftest import ort_run, rel_l2, save_model
from test_cli import assert_clean_failure, trtcore_cli


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("float_layers")
    model = models.mobilenet_v2(size=32, seed=7)
    src = save_model(model, tmp / "mbv2.onnx")
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((24, 3, 32, 32)).astype(np.float32)
    x = rng.standard_normal((16, 3, 32, 32)).astype(np.float32)
    ref = ort_run(model, {"input": x})["logits"]
    return tmp, src, calib, x, ref


def _int8_layers(engine):
    return {l.name for l in engine.layers if l.precision == "int8" and l.op != "QuantizeLinear"}


def _sensitivity_rows(path):
    lines = open(path).read().splitlines()
    assert lines[0].startswith("# trtcore int8 layer sensitivity") and lines[1] == "rank,score,op,layer"
    return [line.split(",", 3) for line in lines[2:]]


def test_float_layers_are_the_most_sensitive_and_reduce_the_error(setup):
    tmp, src, calib, x, ref = setup
    full = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibrator="max", calibration_data=[calib])
    cache = str(tmp / "max.cache")
    part = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibrator="max", calibration_data=[calib],
                         calibration_cache=cache, int8_float_layers=4)
    rows = _sensitivity_rows(cache + ".sensitivity")
    # every layer the policy quantizes is scored (the Gemm too, which the cpu plan runs in float between Q/DQ)
    assert {r[3] for r in rows} >= _int8_layers(full) and len(rows) <= len(_int8_layers(full)) + 1
    scores = [float(r[1]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    top = {r[3] for r in rows[:4]}
    assert _int8_layers(part) == _int8_layers(full) - top
    float_layers = {l.name: l.precision for l in part.layers if l.name in top}
    assert len(float_layers) == 4 and all(p != "int8" for p in float_layers.values()), float_layers

    def error(engine):
        y = np.concatenate([engine.infer({"input": x[i:i + 8]})["logits"] for i in (0, 8)])
        return rel_l2(y, ref)
    assert error(part) < error(full), (error(part), error(full))
    # from the cache alone: the scores are read back, the same layers stay float
    again = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=cache, int8_float_layers=4)
    assert _int8_layers(again) == _int8_layers(part)


def test_bad_float_layer_counts_are_refused(setup):
    tmp, src, calib, x, ref = setup
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], int8_float_layers=-1)
    assert "float" in str(err.value) and "-1" in str(err.value)
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], int8_float_layers=500)
    assert "500" in str(err.value) and "mbv2.onnx" in str(err.value) and "layers" in str(err.value)
    with pytest.raises(trtcore.Error):
        trtcore.build(src, backend="cpu", batch=8, int8_float_layers=2)


def test_float_layers_on_the_command_line(setup):
    tmp, src, calib, x, ref = setup
    samples = tmp / "calib"
    samples.mkdir(exist_ok=True)
    for i, a in enumerate(calib[:8]):
        (samples / f"s{i}.raw").write_bytes(a.tobytes())
    proc = trtcore_cli("build", "--onnx", src, "--backend", "cpu", "--batch", 8, "--int8", "--calibration-dir",
                       samples, "--int8-float-layers", 1, "--plan", tmp / "one.plan")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    assert "among the 1 layer most" in text and not re.search(r"\b1 layers", text), text
    assert_clean_failure(trtcore_cli("build", "--onnx", src, "--backend", "cpu", "--int8-float-layers", 2),
                         "--int8-float-layers", "--int8")


def test_accuracy_options_on_the_standalone_executable(setup):
    """trtcore-exec reads the same flags: the plan it writes keeps one layer float and the sensitivity file appears."""
    from test_executable import _run
    tmp, src, calib, x, ref = setup
    samples = tmp / "calib_exec"
    samples.mkdir(exist_ok=True)
    for i, a in enumerate(calib[:8]):
        (samples / f"s{i}.raw").write_bytes(a.tobytes())
    plan, cache = tmp / "exec.plan", tmp / "exec.cache"
    proc = _run(f"--file={src}", f"--plan={plan}", f"--calibration_dir={samples}", f"--calibration={cache}",
                "--batch=8", "--backend=cpu", "--int8-bias-correction=on", "--int8-equalization=on",
                "--int8-float-layers=1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _sensitivity_rows(str(cache) + ".sensitivity")
    layers = {l.name: l.precision for l in trtcore.Engine(str(plan)).layers}
    assert layers.get(rows[0][3]) not in (None, "int8"), (rows[0], layers)
    assert '"equalization": "on"' in open(str(cache) + ".json").read()


def test_auto_float_layers_reach_the_target_on_the_calibration_samples(setup):
    """auto keeps the fewest leading layers of the ranking float for which top-1 agrees with onnxruntime's float32
    output on the calibration samples at the target; the count is kept beside the cache and read back."""
    tmp, src, calib, x, ref = setup
    cache = str(tmp / "auto.cache")
    e = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibrator="max", calibration_data=[calib],
                      calibration_cache=cache, int8_float_layers="auto", int8_target_agreement=0.95)
    lines = open(cache + ".float_layers").read().splitlines()
    assert "0.95" in lines[0]
    n = int(lines[1])
    rows = _sensitivity_rows(cache + ".sensitivity")
    assert _int8_layers(e) == {r[3] for r in rows[n:]} & _int8_layers(e) and not (_int8_layers(e) & {r[3] for r in rows[:n]})
    want = ort_run(models.mobilenet_v2(size=32, seed=7), {"input": calib})["logits"].argmax(1)

    def agreement(engine):
        y = np.concatenate([engine.infer({"input": calib[i:i + 8]})["logits"] for i in range(0, len(calib), 8)])
        return float(np.mean(y.argmax(1) == want))
    assert agreement(e) >= 0.95 - 1e-9, agreement(e)
    if n > 0:  # one layer fewer misses the target (the bisection's lower bound)
        fewer = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibrator="max",
                              calibration_data=[calib], int8_float_layers=n - 1)
        assert agreement(fewer) < 0.95, (n, agreement(fewer))
    again = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=cache,
                          int8_float_layers="auto", int8_target_agreement=0.95)
    assert _int8_layers(again) == _int8_layers(e)


def test_auto_float_layers_options_are_checked(setup):
    tmp, src, calib, x, ref = setup
    for bad in ("most", "2.5"):
        with pytest.raises(trtcore.Error) as err:
            trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib],
                          int8_float_layers=bad)
        assert bad in str(err.value) and "auto" in str(err.value)
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib],
                      int8_float_layers="auto", int8_target_agreement=1.5)
    assert "1.5" in str(err.value) and "int8_target_agreement" in str(err.value)
    samples = tmp / "calib_auto"
    samples.mkdir(exist_ok=True)
    for i, a in enumerate(calib[:8]):
        (samples / f"s{i}.raw").write_bytes(a.tobytes())
    proc = trtcore_cli("build", "--onnx", src, "--backend", "cpu", "--batch", 8, "--int8", "--calibration-dir",
                       samples, "--int8-float-layers", "auto", "--int8-target-agreement", "0.9",
                       "--plan", tmp / "auto.plan")
    assert proc.returncode == 0, proc.stderr
    assert "int8 float layers (auto):" in proc.stdout + proc.stderr
