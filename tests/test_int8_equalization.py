"""INT8 cross-layer equalization (--int8-equalization on). References: onnxruntime running the original float32
model. The equalized float graph (written back as ONNX) must compute the same function, and on a model whose
channels differ 100x in range the equalized INT8 plan must be closer to onnxruntime's float32 output."""
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import models
import trtcore
from trtcore import _core
from conftest import ort_run, rel_l2, save_model


def unbalanced_model(seed=0, size=12):
    """Conv(8->16, 3x3) -> ReLU6 -> Conv(16->16, 1x1) -> Conv(16->8, 1x1), where the first Conv's output channels are
    scaled by factors spread over 100x and the second Conv's input channels by the inverse: float32 computes the
    same as with balanced channels, but a per-tensor INT8 scale on the ReLU6 output crushes the small channels."""
    rng = np.random.default_rng(seed)
    spread = np.logspace(-1, 1, 16).astype(np.float32)
    w1 = (rng.standard_normal((16, 8, 3, 3)) * 0.08).astype(np.float32) * spread[:, None, None, None]
    b1 = (rng.standard_normal(16) * 0.05).astype(np.float32) * spread
    w2 = (rng.standard_normal((16, 16, 1, 1)) * 0.25).astype(np.float32) / spread[None, :, None, None]
    w3 = (rng.standard_normal((8, 16, 1, 1)) * 0.25).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in [(w1, "w1"), (b1, "b1"), (w2, "w2"), (w3, "w3"),
                                                         (np.float32(0), "lo"), (np.float32(6), "hi")]]
    nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"], name="relu6"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu"),
             helper.make_node("Conv", ["r2", "w3"], ["output"], name="conv3")]
    graph = helper.make_graph(nodes, "unbalanced",
                              [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 8, size, size])],
                              [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _equalized(tmp_path, model, name):
    src = save_model(model, tmp_path / f"{name}.onnx")
    dst = str(tmp_path / f"{name}.eq.onnx")
    _core.export_onnx(src, dst, batch=4, int8_equalization="on")
    plain = str(tmp_path / f"{name}.plain.onnx")
    _core.export_onnx(src, plain, batch=4)
    return src, onnx.load(dst), onnx.load(plain)


def _weights(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}


@pytest.mark.parametrize("which", ["unbalanced", "mobilenet_v2"])
def test_equalized_float_model_equals_the_original_under_onnxruntime(tmp_path, which):
    model = unbalanced_model() if which == "unbalanced" else models.mobilenet_v2(batch=4, size=32, seed=3)
    src, eq, plain = _equalized(tmp_path, model, which)
    # it did change the model: per-channel clips replace the ReLU6 clips, and conv weights differ
    assert any(n.op_type == "Min" for n in eq.graph.node), [n.op_type for n in eq.graph.node]
    before, after = _weights(plain), _weights(eq)
    assert any(not any(a.shape == b.shape and np.array_equal(a, b) for b in before.values()) for a in after.values())
    x = np.random.default_rng(1).standard_normal((4,) + tuple(d.dim_value for d in
                                                              eq.graph.input[0].type.tensor_type.shape.dim[1:]))
    x = (x * 2).astype(np.float32)
    name = model.graph.input[0].name
    ref = list(ort_run(model, {name: x}).values())[0]
    got = list(ort_run(eq, {name: x}).values())[0]
    assert rel_l2(got, ref) < 1e-5, rel_l2(got, ref)


def _unbalanced_setup(tmp_path):
    """The unbalanced model saved under tmp_path, its calibration samples, inputs and onnxruntime's output."""
    model = unbalanced_model()
    src = save_model(model, tmp_path / "u.onnx")
    rng = np.random.default_rng(2)
    calib = rng.standard_normal((32, 8, 12, 12)).astype(np.float32)
    x = rng.standard_normal((16, 8, 12, 12)).astype(np.float32)
    return model, src, calib, x, ort_run(model, {"input": x})["output"]


def test_equalization_reduces_int8_error_on_unbalanced_channels(tmp_path):
    model, src, calib, x, ref = _unbalanced_setup(tmp_path)
    errors = {}
    for eq in ("off", "on"):
        e = trtcore.build(src, backend="cpu", batch=16, precision="int8", calibrator="max", calibration_data=[calib],
                          int8_equalization=eq)
        assert sum(l.op.startswith("QConv") and l.precision == "int8" for l in e.layers) == 3
        errors[eq] = rel_l2(e.infer({"input": x})["output"], ref)
    assert errors["on"] < errors["off"], errors


def test_a_cache_made_without_equalization_is_refused_with_it(tmp_path):
    model = unbalanced_model()
    src = save_model(model, tmp_path / "u.onnx")
    calib = np.random.default_rng(3).standard_normal((8, 8, 12, 12)).astype(np.float32)
    cache = str(tmp_path / "u.cache")
    trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], calibration_cache=cache)
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=cache, int8_equalization="on")
    assert cache in str(err.value) and "equalization" in str(err.value)


# --int8-equalization activations: the scales come from the calibration samples' per-channel ranges.

def _with_outputs(model, names):
    """The model with extra graph outputs (intermediate tensors onnxruntime then returns)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for n in names:
        m.graph.output.append(helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None))
    return m


def _read_ranges(path):
    out = {}
    for line in open(path).read().splitlines():
        name, values = line.rsplit(": ", 1)
        out[name] = np.array([float(v) for v in values.split()])
    return out


def test_activation_ranges_kept_beside_the_cache_are_onnxruntimes_channel_maxima(tmp_path):
    model = unbalanced_model()
    src = save_model(model, tmp_path / "u.onnx")
    calib = np.random.default_rng(4).standard_normal((24, 8, 12, 12)).astype(np.float32)
    cache = str(tmp_path / "u.cache")
    trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], calibration_cache=cache,
                  int8_equalization="activations")
    ranges = _read_ranges(cache + ".ranges")
    # the two Conv -> activation -> Conv pairs: the ReLU6 and Relu outputs, measured before equalization
    assert set(ranges) == {"r1", "r2"}, sorted(ranges)
    ref = ort_run(_with_outputs(model, ["r1", "r2"]), {"input": calib})
    for name in ("r1", "r2"):
        want = np.abs(ref[name]).max(axis=(0, 2, 3))
        np.testing.assert_allclose(ranges[name], want, rtol=1e-5, atol=1e-6)
    assert '"equalization": "activations"' in open(cache + ".json").read()


@pytest.mark.parametrize("which", ["unbalanced", "mobilenet_v2"])
def test_activation_equalized_float_function_equals_the_original_under_onnxruntime(tmp_path, which):
    """Every layer kept float: the plan runs the equalized float graph, which must still compute the original."""
    model = unbalanced_model() if which == "unbalanced" else models.mobilenet_v2(batch=4, size=32, seed=3)
    src = save_model(model, tmp_path / f"{which}.onnx")
    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:])
    rng = np.random.default_rng(5)
    calib = (rng.standard_normal((8,) + shape) * 2).astype(np.float32)
    x = (rng.standard_normal((4,) + shape) * 2).astype(np.float32)
    convs = [n.name for n in model.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    e = trtcore.build(src, backend="cpu", batch=4, precision="int8", calibration_data=[calib],
                      int8_equalization="activations", exclude_layers=convs)
    assert not any(l.precision == "int8" for l in e.layers)
    ops = [n.op for n in e.graph().nodes]
    assert any("Min" in op for op in ops), ops  # the per-channel clips of the equalized ReLU6 pairs
    name = model.graph.input[0].name
    ref = list(ort_run(model, {name: x}).values())[0]
    got = list(e.infer({name: x}).values())[0]
    assert rel_l2(got, ref) < 1e-5, rel_l2(got, ref)


def test_activation_equalization_reduces_int8_error_and_builds_again_from_the_cache(tmp_path):
    model, src, calib, x, ref = _unbalanced_setup(tmp_path)
    errors, cache = {}, str(tmp_path / "a.cache")
    for eq in ("off", "activations"):
        e = trtcore.build(src, backend="cpu", batch=16, precision="int8", calibrator="max", calibration_data=[calib],
                          int8_equalization=eq, calibration_cache=cache if eq != "off" else "")
        assert sum(l.op.startswith("QConv") and l.precision == "int8" for l in e.layers) == 3
        errors[eq] = rel_l2(e.infer({"input": x})["output"], ref)
    assert errors["activations"] < errors["off"], errors
    # from the cache alone (no samples): the ranges are read back, the plan computes the same
    again = trtcore.build(src, backend="cpu", batch=16, precision="int8", calibration_cache=cache,
                          int8_equalization="activations")
    assert rel_l2(again.infer({"input": x})["output"], ref) == pytest.approx(errors["activations"], rel=1e-6)
    with pytest.raises(trtcore.Error) as err:  # scales calibrated on the activation-equalized model
        trtcore.build(src, backend="cpu", batch=16, precision="int8", calibration_cache=cache, int8_equalization="on")
    assert cache in str(err.value) and "activations" in str(err.value)


def test_activation_equalization_without_its_ranges_is_refused(tmp_path):
    model = unbalanced_model()
    src = save_model(model, tmp_path / "u.onnx")
    calib = np.random.default_rng(6).standard_normal((8, 8, 12, 12)).astype(np.float32)
    cache = str(tmp_path / "r.cache")
    trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], calibration_cache=cache,
                  int8_equalization="activations")
    import os
    os.remove(cache + ".ranges")
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=cache,
                      int8_equalization="activations")
    assert cache + ".ranges" in str(err.value)
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", int8_equalization="activations")
    assert "activations" in str(err.value)
