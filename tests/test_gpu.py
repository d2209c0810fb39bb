"""The cuda backend against the cpu backend and onnxruntime, for every op case and model of the suite.
Strict FP32 (no TF32) must agree to relative L2 <= 1e-4; the default TF32 math to <= 1e-3. Skipped without a GPU."""
import numpy as np
import pytest

import trtcore
import models
from conftest import FP32_TOL, assert_close, build_engine, ort_run, seed_of
from op_cases import CASES

pytestmark = pytest.mark.gpu
TF32_TOL = 1e-3


def _compare_backends(model, feeds, tmp_path, tol=FP32_TOL, batch=0, strict=True):
    ref = ort_run(model, feeds)
    cpu = build_engine(model, tmp_path, name="cpu", batch=batch, backend="cpu").infer(dict(feeds))
    cuda_engine = build_engine(model, tmp_path, name="cuda", batch=batch, backend="cuda", strict_fp32=strict)
    assert cuda_engine.backend == "cuda"
    got = cuda_engine.infer(dict(feeds))
    for name, expected in ref.items():
        assert_close(got[name], expected, tol=tol, what=f"cuda vs onnxruntime, '{name}'")
        assert_close(got[name], cpu[name], tol=tol, what=f"cuda vs cpu, '{name}'")
    return cuda_engine


@pytest.mark.parametrize("make", CASES)
def test_op_cuda(make, request, tmp_path):
    model, feeds = make(np.random.default_rng(seed_of(request.node.callspec.id)))
    _compare_backends(model, feeds, tmp_path)


def _input(model, rng, batch=None):
    name, shape = models.model_input(model)
    if batch is not None:
        shape[0] = batch
    return {name: rng.standard_normal(shape).astype(np.float32)}


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_model_cuda(name, rng, tmp_path):
    model = models.light_model(name, seed=1)
    _compare_backends(model, _input(model, rng), tmp_path)


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_model_cuda_tf32(name, rng, tmp_path):
    model = models.light_model(name, seed=1)
    _compare_backends(model, _input(model, rng), tmp_path, tol=TF32_TOL, strict=False)


@pytest.mark.parametrize("builder,batch", [(models.mobilenet_v2, 1), (models.mobilenet_v2, 8), (models.unet, 1),
                                           (models.unet, 4), (models.resnet_block, 1)])
def test_own_models_cuda(builder, batch, rng, tmp_path):
    model = builder()
    _compare_backends(model, _input(model, rng, batch), tmp_path, batch=batch)


def test_dynamic_batch_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=8, backend="cuda", strict_fp32=True)
    for batch in (1, 3, 8):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        assert_close(engine.infer({"input": x})["logits"], ort_run(model, {"input": x})["logits"])
    with pytest.raises(trtcore.Error):
        engine.infer({"input": rng.standard_normal((9, 3, 32, 32)).astype(np.float32)})


def test_plan_round_trip_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=2, backend="cuda", strict_fp32=True)
    path = str(tmp_path / "m.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert loaded.backend == "cuda"
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    assert_close(loaded.infer({"input": x})["logits"], ort_run(model, {"input": x})["logits"])


def test_cuda_plan_reports_device_memory(tmp_path):
    engine = build_engine(models.mobilenet_v2(size=32), tmp_path, batch=2, backend="cuda")
    assert engine.device_memory_bytes > 0
    mem = engine.memory
    assert mem["weights"] > 0 and mem["total"] >= mem["weights"] + mem["activations"]


def test_cuda_benchmark_stats(tmp_path):
    engine = build_engine(models.mobilenet_v2(size=32), tmp_path, batch=4, backend="cuda")
    stats = engine.benchmark(batch=4, iterations=20, warmup=3)
    text = str(stats)
    assert "throughput" in text


def test_nan_flows_through_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=2, backend="cuda", strict_fp32=True)
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    x[1, 0, 0, 0] = np.nan
    got = engine.infer({"input": x})["logits"]
    ref = ort_run(model, {"input": x})["logits"]
    assert np.isnan(got[1]).all() == np.isnan(ref[1]).all()
    assert_close(got[0], ref[0])
