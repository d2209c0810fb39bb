"""Whole models against onnxruntime, FP32 relative L2 <= 1e-4 on the cpu backend: the onnx wheel's light graphs
(ResNet-50, SqueezeNet, ShuffleNet, DenseNet-121, Inception v1) with seeded random weights, and our MobileNetV2-style
net and U-Net. The light models' logits (the Softmax input) are compared too, so a saturated softmax hides nothing."""
import numpy as np
import pytest

import trtcore
import models
from conftest import FP32_TOL, assert_close, check_against_ort, ort_run, save_model

LIGHT = [pytest.param(name, id=name, marks=[pytest.mark.slow] if name in models.SLOW_LIGHT_MODELS else [])
         for name in models.LIGHT_MODELS]


def _input(model, rng, batch=None):
    name, shape = models.model_input(model)
    if batch is not None:
        shape[0] = batch
    return {name: rng.standard_normal(shape).astype(np.float32)}


@pytest.mark.parametrize("name", LIGHT)
def test_light_model(name, rng, tmp_path):
    model = models.light_model(name, seed=1)
    check_against_ort(model, _input(model, rng), tmp_path, tol=FP32_TOL, backend="cpu")


@pytest.mark.parametrize("batch", [1, 3])
def test_mobilenet_v2(batch, rng, tmp_path):
    model = models.mobilenet_v2(seed=2)
    check_against_ort(model, _input(model, rng, batch), tmp_path, batch=batch, backend="cpu")


@pytest.mark.parametrize("opset", [9, 13])
def test_mobilenet_v2_opsets(opset, rng, tmp_path):
    """Clip bounds as attributes (opset < 11) and as inputs."""
    model = models.mobilenet_v2(seed=3, opset=opset, size=32)
    check_against_ort(model, _input(model, rng, 2), tmp_path, batch=2, backend="cpu")


@pytest.mark.parametrize("batch", [1, 2])
def test_unet(batch, rng, tmp_path):
    model = models.unet(seed=4)
    check_against_ort(model, _input(model, rng, batch), tmp_path, batch=batch, backend="cpu")


def test_unet_upsample_opset9(rng, tmp_path):
    model = models.unet(seed=5, opset=9, size=32)
    check_against_ort(model, _input(model, rng, 1), tmp_path, backend="cpu")


def test_resnet_block(rng, tmp_path):
    model = models.resnet_block(seed=6)
    check_against_ort(model, _input(model, rng), tmp_path, backend="cpu")


def test_raw_light_squeezenet_folds_constant_of_shape_weights(rng, tmp_path):
    """The unmodified light graph: weights come from ConstantOfShape nodes over initializer shapes and every
    initializer is also listed as a graph input (IR 3). The importer must fold them and take only the image."""
    import onnx

    model = onnx.load(models.light_path("squeezenet"))
    path = save_model(model, tmp_path / "raw.onnx")
    assert all(r.supported for r in trtcore.check_onnx(path))
    engine = trtcore.build(path, backend="cpu")
    assert [i.name for i in engine.inputs] == ["data_0"]
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    ref = ort_run(model, {"data_0": x})
    got = engine.infer({"data_0": x})
    for name, expected in ref.items():
        assert_close(got[name], expected, what=name)


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_models_fully_supported(name):
    report = trtcore.check_onnx(models.light_path(name))
    bad = [(r.node, r.op, r.reason) for r in report if not r.supported]
    assert report and not bad, bad


def test_nan_and_inf_inputs_flow_through_infer(rng, tmp_path):
    """The engine computes on whatever it is given: NaN/Inf propagate exactly where onnxruntime's do."""
    model = models.mobilenet_v2(size=32, seed=7)
    x = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    x[1, 0, 5, 5] = np.nan
    x[2, 2, 0, 0] = np.inf
    from conftest import build_engine
    got = build_engine(model, tmp_path, batch=3).infer({"input": x})["logits"]
    ref = ort_run(model, {"input": x})["logits"]
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert_close(got[0], ref[0], what="finite sample")
