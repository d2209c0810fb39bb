"""Small convolutions with a fused Clip (Relu6) on the cpu backend against onnxruntime, at every instruction-set
level this machine runs: shapes chosen to reach each kernel path (1x1 GEMM tiles full and ragged, few input
channels, depthwise at stride 1 and 2, Winograd 3x3, one output position), the clamp bounds of Clip, a residual
before the clamp, and NaN passing through the clamp as in onnxruntime."""
import os
import re

import numpy as np
import pytest
from onnx import helper

import trtcore
from conftest import FP32_TOL, check_against_ort
from models import make_model


def _levels():
    """Compiled levels this cpu runs (asking for one it cannot run is an error)."""
    compiled = re.search(r"compiled: ([a-z0-9, ]+)", trtcore.cpu_isa()).group(1).split(", ")
    old = os.environ.get("TRTCORE_CPU_ISA")
    usable = []
    for level in compiled:
        os.environ["TRTCORE_CPU_ISA"] = level
        try:
            trtcore.cpu_isa()
            usable.append(level)
        except trtcore.Error:
            pass
    if old is None:
        os.environ.pop("TRTCORE_CPU_ISA", None)
    else:
        os.environ["TRTCORE_CPU_ISA"] = old
    return usable


LEVELS = _levels()


def conv_clip(cin, cout, k, size, stride=1, group=1, lo=0.0, hi=6.0, residual=False, batch=1, seed=0):
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k))).astype(np.float32)
    b = (rng.standard_normal(cout) * 0.5).astype(np.float32)
    inits = {"w": w, "b": b, "lo": np.array(lo, np.float32), "hi": np.array(hi, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k, k], strides=[stride, stride],
                              pads=[k // 2] * 4, group=group)]
    pre = "c"
    inputs = [("x", np.float32, [batch, cin, size, size])]
    if residual:
        nodes.append(helper.make_node("Add", ["c", "r"], ["s"]))
        out = (size + 2 * (k // 2) - k) // stride + 1
        inputs.append(("r", np.float32, [batch, cout, out, out]))
        pre = "s"
    nodes.append(helper.make_node("Clip", [pre, "lo", "hi"], ["y"]))
    model = make_model(nodes, inputs, [("y", np.float32, None)], inits)
    feeds = {"x": (rng.standard_normal((batch, cin, size, size)) * 2).astype(np.float32)}
    if residual:
        feeds["r"] = rng.standard_normal(inputs[1][2]).astype(np.float32)
    return model, feeds


# (name, cin, cout, kernel, size, stride, group): each reaches one path of cpu/conv.cpp
SHAPES = [
    ("pointwise_full_tiles", 32, 64, 1, 16, 1, 1),
    ("pointwise_ragged", 24, 37, 1, 7, 1, 1),
    ("pointwise_tiny_spatial", 96, 160, 1, 2, 1, 1),
    ("pointwise_few_inputs", 3, 16, 1, 9, 1, 1),
    ("stem_3x3_few_inputs", 3, 16, 3, 17, 2, 1),
    ("depthwise_s1", 48, 48, 3, 8, 1, 48),
    ("depthwise_s2_odd", 40, 40, 3, 9, 2, 40),
    ("depthwise_odd_channels", 19, 19, 3, 6, 1, 19),
    ("winograd_3x3", 32, 32, 3, 12, 1, 1),
    ("one_output_position", 64, 24, 1, 1, 1, 1),
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_conv_clip_matches_onnxruntime(shape, batch, level, tmp_path, monkeypatch):
    monkeypatch.setenv("TRTCORE_CPU_ISA", level)
    _, cin, cout, k, size, stride, group = shape
    model, feeds = conv_clip(cin, cout, k, size, stride, group, batch=batch, seed=cin * 7 + cout)
    eng, got, ref = check_against_ort(model, feeds, tmp_path, tol=FP32_TOL, backend="cpu", batch=batch)
    assert [layer.op for layer in eng.layers] == ["Conv+Clip"]  # the clamp runs inside the conv kernel
    # the clamp is active: outputs reach both bounds
    assert ref["y"].min() == 0.0 and ref["y"].max() == 6.0


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("bounds", [(-1.5, 0.25), (2.0, 1.0)], ids=["narrow", "min_above_max"])
def test_clip_bounds_and_residual(bounds, level, tmp_path, monkeypatch):
    monkeypatch.setenv("TRTCORE_CPU_ISA", level)
    for cin, cout, k, group in [(16, 40, 1, 1), (32, 32, 3, 32), (16, 16, 3, 1)]:
        model, feeds = conv_clip(cin, cout, k, 10, 1, group, lo=bounds[0], hi=bounds[1], residual=True, batch=2)
        check_against_ort(model, feeds, tmp_path, tol=FP32_TOL, backend="cpu", batch=2)


@pytest.mark.parametrize("level", LEVELS)
def test_nan_passes_through_the_fused_clamp(level, tmp_path, monkeypatch):
    monkeypatch.setenv("TRTCORE_CPU_ISA", level)
    for cin, cout, k, group in [(16, 32, 1, 1), (32, 32, 3, 32)]:
        model, feeds = conv_clip(cin, cout, k, 8, 1, group, batch=1)
        feeds["x"][0, :, 3, 4] = np.nan
        eng, got, ref = check_against_ort(model, feeds, tmp_path, tol=FP32_TOL, backend="cpu", batch=1)
        assert np.isnan(ref["y"]).any()
        np.testing.assert_array_equal(np.isnan(got["y"]), np.isnan(ref["y"]))
