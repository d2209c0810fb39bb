"""`trtcore quantize`: the Q/DQ ONNX model we write is valid ONNX with TensorRT's placement, onnxruntime runs it, and
trtcore builds it back as INT8; onnxruntime's run of it is the reference for trtcore's INT8 plan of the same model."""
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models
import trtcore
from conftest import build_engine, ort_run, rel_l2, save_model
from test_cli import assert_clean_failure, trtcore_cli
from test_int8_calibration import setup  # noqa: F401  (the shared model and calibration samples)


@pytest.fixture(scope="module")
def quantized(setup):  # noqa: F811
    tmp, onnx_path, model, samples, arrays = setup
    out = tmp / "mbv2.qdq.onnx"
    cache = tmp / "quantize.cache"
    proc = trtcore_cli("quantize", "--onnx", onnx_path, "--backend", "cpu", "--batch", 4, "--calibration-dir", samples,
                       "--calibrator", "max", "--calibration-cache", cache, "-o", out)
    assert proc.returncode == 0, proc.output
    assert "quantized model written" in proc.output
    return onnx.load(str(out)), out, cache


def test_qdq_model_is_valid_with_tensorrt_placement(quantized):
    qdq, path, _ = quantized
    onnx.checker.check_model(qdq, full_check=True)
    inits = {t.name: numpy_helper.to_array(t) for t in qdq.graph.initializer}
    producer = {o: n for n in qdq.graph.node for o in n.output}
    weighted = [n for n in qdq.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    assert weighted
    for n in weighted:
        x, w = producer.get(n.input[0]), producer.get(n.input[1])
        assert x is not None and x.op_type == "DequantizeLinear", n.name
        assert w is not None and w.op_type == "DequantizeLinear" and inits[w.input[0]].dtype == np.int8, n.name
        axis = {a.name: a.i for a in w.attribute}.get("axis", 1)
        expected_axis = 0 if n.op_type == "Conv" or {a.name: a.i for a in n.attribute}.get("transB", 0) else 1
        assert axis == expected_axis and inits[w.input[1]].size == inits[w.input[0]].shape[axis], n.name
    for n in qdq.graph.node:  # symmetric: every zero point is an int8 zero, every scale positive
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            assert inits[n.input[2]].dtype == np.int8 and not inits[n.input[2]].any(), n.name
            assert (inits[n.input[1]] > 0).all(), n.name
    # a residual Add reads its skip input through a Q/DQ pair
    adds = [n for n in qdq.graph.node if n.op_type == "Add"]
    assert adds and all(any(producer.get(i) is not None and producer[i].op_type == "DequantizeLinear"
                            for i in n.input) for n in adds)
    assert max(o.version for o in qdq.opset_import if o.domain in ("", "ai.onnx")) >= 13


def test_onnxruntime_runs_it_like_our_int8_plan(setup, quantized):  # noqa: F811
    tmp, onnx_path, model, samples, arrays = setup
    qdq, path, cache = quantized
    name = model.graph.input[0].name
    x = arrays[:4]
    ref = ort_run(qdq, {name: x})
    fp32 = ort_run(model, {name: x})
    # trtcore's INT8 plan from the same cache is the same quantized network
    eng = trtcore.build(onnx_path, backend="cpu", batch=4, precision="int8", calibration_cache=str(cache))
    got = eng.infer({name: x})
    for out, expected in ref.items():
        assert rel_l2(got[out], expected) < 2e-2, (out, rel_l2(got[out], expected))
        assert rel_l2(expected, fp32[out]) < 0.5


def test_trtcore_builds_the_qdq_model_as_int8(setup, quantized, tmp_path):  # noqa: F811
    tmp, onnx_path, model, samples, arrays = setup
    qdq, path, _ = quantized
    name = model.graph.input[0].name
    eng = trtcore.build(str(path), backend="cpu", batch=4)
    assert sum(l.precision == "int8" for l in eng.layers) >= 10
    ref = ort_run(qdq, {name: arrays[:4]})
    got = eng.infer({name: arrays[:4]})
    for out, expected in ref.items():
        assert rel_l2(got[out], expected) < 2e-2


def test_quantize_user_errors(setup, tmp_path):  # noqa: F811
    tmp, onnx_path, model, samples, arrays = setup
    assert_clean_failure(trtcore_cli("quantize", "--onnx", onnx_path, "--backend", "cpu", "-o", tmp_path / "q.onnx"),
                         "--calibration-dir")
    old = models.resnet_block(batch=1, c=8, mid=4, size=6, opset=11)
    old_path = save_model(old, tmp_path / "old.onnx")
    assert_clean_failure(trtcore_cli("quantize", "--onnx", old_path, "--backend", "cpu", "--calibration-dir", samples,
                                     "-o", tmp_path / "q.onnx"), "opset 11")
