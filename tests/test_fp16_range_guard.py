"""The FP16 range guard: with calibration samples, layers whose tensors leave float16's range stay float32. The
precision stage is inspected on any machine (`inspect --stop-after precision`); the GPU test checks the FP16 plan
against onnxruntime, which the unguarded plan cannot match (it overflows)."""
import numpy as np
import pytest

from conftest import build_engine, ort_run, rel_l2, save_model
from op_cases import N, chain
from test_cli import trtcore_cli


def overflowing_model(rng):
    """conv1 (small) -> relu -> conv2 whose large weights push its output to ~1e5 (beyond float16's 65504) -> a
    scaling conv3 that brings the values back to ~1: only conv2's output overflows in FP16."""
    c = 8
    w1 = (rng.standard_normal((c, 3, 3, 3)) * 0.3).astype(np.float32)
    w2 = (np.abs(rng.standard_normal((c, c, 1, 1))) * 3000).astype(np.float32)  # fits float16 itself
    w3 = (rng.standard_normal((4, c, 1, 1)) * 1e-4).astype(np.float32)
    return chain([N("Conv", ["x", "w1"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["a"], ["r"]),
                  N("Conv", ["r", "w2"], ["big"], kernel_shape=[1, 1]),
                  N("Conv", ["big", "w3"], ["y"], kernel_shape=[1, 1])],
                 {"x": (rng.standard_normal((1, 3, 16, 16)) * 4).astype(np.float32)},
                 {"w1": w1, "w2": w2, "w3": w3})


@pytest.fixture()
def model_and_samples(tmp_path):
    rng = np.random.default_rng(11)
    model, feeds = overflowing_model(rng)
    path = save_model(model, tmp_path / "overflow.onnx")
    samples = tmp_path / "samples"
    samples.mkdir()
    for i in range(6):
        (samples / f"{i}.raw").write_bytes((rng.standard_normal((3, 16, 16)) * 4).astype(np.float32).tobytes())
    return model, feeds, path, samples


def _precision_of(output, layer):
    for line in output[output.index("layers after precision"):].splitlines():
        if line.strip().startswith(layer + " "):
            return line.split()[2]
    raise AssertionError(f"layer {layer} not listed:\n{output}")


def test_inspect_shows_the_guard(model_and_samples):
    model, feeds, path, samples = model_and_samples
    plain = trtcore_cli("inspect", "--onnx", path, "--half", "--stop-after", "precision")
    assert plain.returncode == 0, plain.output
    guarded = trtcore_cli("inspect", "--onnx", path, "--half", "--stop-after", "precision", "--calibration-dir",
                          samples, "--backend", "cpu")
    assert guarded.returncode == 0, guarded.output
    # unnamed nodes are named "<op>_<index>" on import: conv2 writes ~1e5 and conv3 reads it
    conv2, conv3 = "Conv_2", "Conv_3"
    assert _precision_of(plain.output, conv2) == "float16"
    assert _precision_of(guarded.output, conv2) == "float32"
    assert _precision_of(guarded.output, conv3) == "float32"
    assert "stays float32: tensor 'big' reaches" in guarded.output


@pytest.mark.gpu
def test_guarded_fp16_plan_matches_onnxruntime(model_and_samples, tmp_path):
    model, feeds, path, samples = model_and_samples
    ref = ort_run(model, feeds)["y"]
    plain = build_engine(model, tmp_path, name="plain", backend="cuda", precision="fp16")
    guarded = build_engine(model, tmp_path, name="guarded", backend="cuda", precision="fp16",
                           calibration_dir=str(samples))
    assert not np.isfinite(plain.infer(feeds)["y"]).all() or rel_l2(plain.infer(feeds)["y"], ref) > 1e-2
    got = guarded.infer(feeds)["y"]
    assert np.isfinite(got).all() and rel_l2(got, ref) < 1e-2
