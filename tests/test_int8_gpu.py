"""INT8 on the cuda backend: QuantizeLinear/DequantizeLinear kernels agree with onnxruntime bit for bit on integer
outputs, Q/DQ models quantized by onnxruntime run and agree with onnxruntime (and with the cpu backend's int8 plan),
a calibrated --int8 build on cuda agrees with the cpu INT8 plan built from the same calibration cache, and INT8 plans
round-trip through a file. Convolutions run in float on cuda (weights dequantized at build time); the cpu backend runs
them in int32, so model outputs are compared with a tolerance. Skipped without a GPU."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import trtcore
from trtcore import _core
from conftest import FP32_TOL, assert_close, build_engine, ort_run, rel_l2, seed_of
from models import mobilenet_v2, resnet_block
from op_cases import CASES
from test_int8 import _images, ort_quantize, quantized_mobilenet

pytestmark = pytest.mark.gpu

QDQ_CASES = [c for c in CASES if c.id.split("-")[0] in ("QuantizeLinear", "DequantizeLinear", "QDQ")]


def _layer_ops(engine):
    return [layer.op for layer in engine.layers]


def test_qdq_cases_found():
    assert len(QDQ_CASES) >= 8, [c.id for c in QDQ_CASES]


@pytest.mark.parametrize("make", QDQ_CASES)
def test_qdq_op_cuda_matches_onnxruntime(make, request, tmp_path):
    """Integer outputs exactly (round half to even, saturation, zero points); float outputs to float32 accuracy
    (TF32 where a convolution takes part), under strict FP32 and TF32 math."""
    model, feeds = make(np.random.default_rng(seed_of(request.node.callspec.id)))
    ref = ort_run(model, feeds)
    for strict, tol in ((True, FP32_TOL), (False, 1e-3)):
        engine = build_engine(model, tmp_path, name=f"cuda{int(strict)}", backend="cuda", strict_fp32=strict)
        got = engine.infer(dict(feeds))
        for name, expected in ref.items():
            assert got[name].dtype == expected.dtype, (name, got[name].dtype, expected.dtype)
            assert_close(got[name], expected, tol=tol, what=f"cuda (strict={strict}) vs onnxruntime, '{name}'")


def _single(op, x_info, out_info, inits, attrs=None, opset=19):
    ins = ["x"] + [i.name for i in inits]
    node = helper.make_node(op, ins, ["y"], **(attrs or {}))
    g = helper.make_graph([node], op.lower(), [x_info], [out_info], inits)
    return helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", opset)])


def _quantize_ref(x, scale, zp, axis, lo, hi):
    """ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point), computed in float32."""
    shape = [1] * x.ndim
    if scale.size > 1:
        shape[axis] = scale.size
    s = scale.astype(np.float32).reshape(shape)
    z = zp.astype(np.float32).reshape(shape)
    return np.clip(np.rint(x.astype(np.float32) / s) + z, lo, hi)


@pytest.mark.parametrize("per_axis", [False, True], ids=["per_tensor", "per_axis"])
@pytest.mark.parametrize("dtype,scale_dtype", [(np.float32, np.float32), (np.float16, np.float16),
                                               (np.float16, np.float32)],
                         ids=["float32", "float16", "float16_data_float32_scale"])
def test_quantize_float16_and_float32_scales(dtype, scale_dtype, per_axis, tmp_path):
    """Opset 19 QuantizeLinear of float16 data with float16 scales (and float32 with float32), checked against the
    spec's formula in numpy; float16 data with a float32 scale (later opsets allow it; INT8 plans with FP16 regions
    quantize that way) divides in float32."""
    rng = np.random.default_rng(11)
    x = (np.round(rng.standard_normal((2, 4, 5, 3)) * 40) / 2 * 0.0625).astype(dtype)
    x.flat[::9] *= 30
    scale = (np.array([0.0625, 0.125, 0.25, 0.03125]) if per_axis else np.array(0.0625)).astype(scale_dtype)
    zp = (np.array([0, 3, -4, 100]) if per_axis else np.array(-7)).astype(np.int8)
    onnx_t = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = _single("QuantizeLinear", helper.make_tensor_value_info("x", onnx_t, list(x.shape)),
                    helper.make_tensor_value_info("y", TensorProto.INT8, None),
                    [onnx.numpy_helper.from_array(scale, "s"), onnx.numpy_helper.from_array(zp, "z")],
                    attrs=dict(axis=1))
    got = build_engine(model, tmp_path, backend="cuda").infer({"x": x})["y"]
    want = _quantize_ref(x, scale, zp, 1, -128, 127).astype(np.int8)
    assert got.dtype == np.int8
    assert_close(got, want, what="cuda QuantizeLinear vs the ONNX formula")


@pytest.mark.parametrize("scale", [0.0625, 0.1, 0.0173, 3.7e-3, 0.9, 1.3e-5])
def test_quantize_rounds_near_ties_as_a_division_would(scale, tmp_path):
    """A per-tensor QuantizeLinear multiplies by 1/scale and divides only near a tie: on values placed at, just
    below and just above half-integer multiples of the scale (and far beyond int8's range, where it saturates),
    every output equals numpy's saturate(round_half_even(x / scale) + zero_point) in float32."""
    rng = np.random.default_rng(int(scale * 1e6))
    k = rng.integers(-300, 300, 4096).astype(np.float64)
    offsets = np.array([0.0, 1e-7, -1e-7, 1e-5, -1e-5, 9e-4, -9e-4, 2e-3, -2e-3, 3e-3, -3e-3, 0.25, -0.5])
    q = k + 0.5 + rng.choice(offsets, k.size)
    x = np.concatenate([q * scale, rng.standard_normal(1024) * 200 * scale, [1e30, -1e30, 0.0, -0.0]])
    x = x[: x.size // 8 * 8].astype(np.float32).reshape(1, -1)
    s, zp = np.array(scale, np.float32), np.array(-5, np.int8)
    model = _single("QuantizeLinear", helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
                    helper.make_tensor_value_info("y", TensorProto.INT8, None),
                    [onnx.numpy_helper.from_array(s, "s"), onnx.numpy_helper.from_array(zp, "z")])
    got = build_engine(model, tmp_path, backend="cuda").infer({"x": x})["y"]
    want = _quantize_ref(x, s, zp, 1, -128, 127).astype(np.int8)
    assert np.array_equal(got, want), np.flatnonzero(got != want)[:10]


@pytest.mark.parametrize("per_axis", [False, True], ids=["per_tensor", "per_axis"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
def test_dequantize_writes_the_scale_type(dtype, per_axis, tmp_path):
    """Opset 19 DequantizeLinear with a float16 scale writes float16: (x - zero_point) * scale rounded once."""
    rng = np.random.default_rng(12)
    x = rng.integers(0, 256, (2, 4, 3, 5), dtype=np.uint8)
    scale = (np.array([0.01, 0.5, 0.02, 0.003]) if per_axis else np.array(0.0371)).astype(dtype)
    zp = (np.array([0, 128, 7, 255]) if per_axis else np.array(130)).astype(np.uint8)
    onnx_t = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = _single("DequantizeLinear", helper.make_tensor_value_info("x", TensorProto.UINT8, list(x.shape)),
                    helper.make_tensor_value_info("y", onnx_t, None),
                    [onnx.numpy_helper.from_array(scale, "s"), onnx.numpy_helper.from_array(zp, "z")],
                    attrs=dict(axis=1))
    got = build_engine(model, tmp_path, backend="cuda").infer({"x": x})["y"]
    shape = [1, 4, 1, 1] if per_axis else [1, 1, 1, 1]
    want = ((x.astype(np.int32) - zp.astype(np.int32).reshape(shape)).astype(np.float32) *
            scale.astype(np.float32).reshape(shape)).astype(dtype)
    assert got.dtype == np.dtype(dtype)
    assert np.array_equal(got, want), np.count_nonzero(got != want)


def test_qdq_between_convs_in_nhwc_regions(tmp_path):
    """Conv -> Q -> DQ -> Conv with TF32 (NHWC storage between the convs) and strict FP32 (NCHW) give the same
    quantized tensor as onnxruntime (up to a step where the float conv output lands on a rounding boundary)."""
    rng = np.random.default_rng(13)
    N = helper.make_node
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in [
        ("w1", (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)),
        ("w2", (rng.standard_normal((6, 8, 1, 1)) * 0.3).astype(np.float32)),
        ("s", np.array(0.02, np.float32)), ("z", np.array(0, np.int8))]]
    nodes = [N("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]), N("Relu", ["c1"], ["r1"]),
             N("QuantizeLinear", ["r1", "s", "z"], ["q"]), N("DequantizeLinear", ["q", "s", "z"], ["d"]),
             N("Conv", ["d", "w2"], ["y"])]
    g = helper.make_graph(nodes, "qdq_nhwc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 9, 9])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    ref = ort_run(model, {"x": x})["y"]
    # TF32 moves more conv outputs across a rounding boundary of the quantizer; a wrong layout gives O(1) errors
    for strict, tol in ((True, 1e-2), (False, 3e-2)):
        engine = build_engine(model, tmp_path, name=f"s{int(strict)}", backend="cuda", strict_fp32=strict)
        assert "QuantizeLinear" in _layer_ops(engine) and "DequantizeLinear" in _layer_ops(engine)
        got = engine.infer({"x": x})["y"]
        assert rel_l2(got, ref) < tol, (strict, rel_l2(got, ref))


@pytest.mark.parametrize("size", [8, 7], ids=["plane_by_4", "odd_plane"])
@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_input_quantizer_hands_nhwc_to_the_float_stem(tmp_path, channels, size):
    """The network input's QuantizeLinear writes NHWC int8 for the TF32 stem behind its DequantizeLinear (the
    image form for up to four channels and planes in fours, the element form otherwise), and the convolution's output
    is onnxruntime's: a channel or pixel put in the wrong place gives O(1) errors."""
    rng = np.random.default_rng(20 + channels + size)
    N = helper.make_node
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in [
        ("w", (rng.standard_normal((8, channels, 3, 3)) * 0.3).astype(np.float32)),
        ("s", np.array(0.02, np.float32)), ("z", np.array(3, np.int8))]]
    nodes = [N("QuantizeLinear", ["x", "s", "z"], ["q"]), N("DequantizeLinear", ["q", "s", "z"], ["d"]),
             N("Conv", ["d", "w"], ["c"], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["y"])]
    shape = [3, channels, size, size]
    g = helper.make_graph(nodes, "input_q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal(shape).astype(np.float32)
    ref = ort_run(model, {"x": x})["y"]
    engine = build_engine(model, tmp_path, backend="cuda", strict_fp32=False)
    assert "QuantizeLinear" in _layer_ops(engine)
    got = engine.infer({"x": x})["y"]
    assert rel_l2(got, ref) < 1e-2, rel_l2(got, ref)


@pytest.mark.parametrize("strict,tol", [(True, 2e-2), (False, 5e-2)], ids=["fp32", "tf32"])
@pytest.mark.parametrize("symmetric", [True, False], ids=["int8_symmetric", "uint8_asymmetric"])
def test_onnxruntime_quantized_block_on_cuda(tmp_path, symmetric, strict, tol):
    """Same bound as the cpu backend's int8 plan under strict FP32 (float convolutions of dequantized values are
    exact up to accumulation order); TF32 moves some values across a quantizer's rounding boundary."""
    rng = np.random.default_rng(1)
    model = resnet_block(batch=2, c=32, mid=16, size=12)
    qdq = ort_quantize(model, tmp_path, _images(rng, (2, 32, 12, 12), 4), symmetric=symmetric)
    x = rng.standard_normal((2, 32, 12, 12)).astype(np.float32)
    ref = ort_run(qdq, {"input": x})["output"]
    eng = build_engine(qdq, tmp_path, name="qdq_cuda", backend="cuda", strict_fp32=strict)
    assert eng.backend == "cuda"
    assert "QuantizeLinear" in _layer_ops(eng), _layer_ops(eng)
    got = eng.infer({"input": x})["output"]
    cpu = build_engine(qdq, tmp_path, name="qdq_cpu").infer({"input": x})["output"]
    assert rel_l2(got, ref) < tol, rel_l2(got, ref)
    assert rel_l2(got, cpu) < tol, rel_l2(got, cpu)


def test_onnxruntime_quantized_block_with_fp16_on_cuda(tmp_path):
    """A Q/DQ model built with precision fp16: convolutions in float16; DequantizeLinear writes float16 and
    QuantizeLinear reads it (the casts the FP16 rewrite puts beside them fold into them)."""
    rng = np.random.default_rng(2)
    model = resnet_block(batch=2, c=32, mid=16, size=12)
    qdq = ort_quantize(model, tmp_path, _images(rng, (2, 32, 12, 12), 4))
    x = rng.standard_normal((2, 32, 12, 12)).astype(np.float32)
    ref = ort_run(qdq, {"input": x})["output"]
    eng = build_engine(qdq, tmp_path, name="qdq_fp16", backend="cuda", precision="fp16")
    assert "fp16" in {layer.precision for layer in eng.layers}
    got = eng.infer({"input": x})["output"]
    assert got.dtype == np.float32
    assert rel_l2(got, ref) < 5e-2, rel_l2(got, ref)


def test_onnxruntime_quantized_mobilenet_on_cuda(tmp_path):
    qdq, name, x, ref = quantized_mobilenet(tmp_path)
    cuda = build_engine(qdq, tmp_path, name="mbv2_cuda", backend="cuda", strict_fp32=True)
    got = list(cuda.infer({name: x}).values())[0]
    cpu = list(build_engine(qdq, tmp_path, name="mbv2_cpu").infer({name: x}).values())[0]
    assert rel_l2(got, ref) < 5e-2, rel_l2(got, ref)
    assert rel_l2(got, cpu) < 5e-2, rel_l2(got, cpu)
    assert (got.argmax(1) == ref.argmax(1)).all()


# ---- calibrated --int8 builds ----
SAMPLES = 32
BATCH = 8


def _calibration(seed=5):
    """The samples as calibration_data: arrays with a batch axis."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, 3, 32, 32)).astype(np.float32)
    return [x[i:i + BATCH] for i in range(0, SAMPLES, BATCH)]


def _int8(model_path, backend, cache, data=None, **extra):
    options = dict(batch=BATCH, precision="int8", calibration_cache=str(cache), backend=backend, **extra)
    if data is not None:
        options["calibration_data"] = data
    return trtcore.build(model_path, **options)


def _top1_agreement(a, b):
    return float(np.mean(a.argmax(1) == b.argmax(1)))


def _samples_matching(got, ref, tol=1e-4):
    """How many samples of a batch agree with the reference to float32 accuracy. A quantizer's rounding tie resolved
    the other way changes one int8 step, and a deep random-weight net amplifies that step into percents of its
    sample's logits: INT8 results are compared sample by sample, not by one norm over the batch."""
    return sum(rel_l2(got[i], ref[i]) < tol for i in range(len(ref)))


def test_calibrated_int8_cuda_agrees_with_cpu_from_the_same_cache(tmp_path):
    """The cuda plan (float convolutions between Q/DQ, strict FP32) and the cpu plan (int8 QConv) from one cache are
    the network onnxruntime runs from the Q/DQ model `trtcore quantize` writes with that cache."""
    from test_cli import trtcore_cli
    model_path = str(tmp_path / "mbv2.onnx")
    onnx.save(mobilenet_v2(size=32), model_path)
    cache = tmp_path / "mbv2.cache"
    cpu = _int8(model_path, "cpu", cache, data=_calibration())
    assert cache.exists()
    # reads the cpu's cache: no samples needed
    cuda = _int8(model_path, "cuda", cache, strict_fp32=True, int8_fallback="fp32")
    assert cuda.backend == "cuda"
    # pointwise and depthwise convolutions between int8 tensors run as int8 QConv layers (the stem stays float)
    assert sum(op.startswith("QConv") for op in _layer_ops(cuda)) >= 10, _layer_ops(cuda)
    qdq = tmp_path / "mbv2.qdq.onnx"
    proc = trtcore_cli("quantize", "--onnx", model_path, "--backend", "cpu", "--batch", BATCH,
                       "--calibration-cache", cache, "-o", qdq)
    assert proc.returncode == 0, proc.output
    fp32 = trtcore.build(model_path, batch=BATCH, backend="cpu")
    x = np.random.default_rng(6).standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    got, want, ref = (e.infer({"input": x})["logits"] for e in (cuda, cpu, fp32))
    ort = ort_run(qdq, {"input": x})["logits"]
    assert _samples_matching(want, ort) >= BATCH - 1, [rel_l2(want[i], ort[i]) for i in range(BATCH)]
    assert _samples_matching(got, ort) >= BATCH - 2, [rel_l2(got[i], ort[i]) for i in range(BATCH)]
    assert _top1_agreement(got, ort) >= 6 / 8, (got.argmax(1), ort.argmax(1))
    # and INT8 is not float32 in disguise
    assert rel_l2(ort, ref) > 1e-2, rel_l2(ort, ref)


def test_calibration_runs_on_cuda(tmp_path):
    """Calibrating on cuda (float32 graph, strict math) gives a cache close to the cpu's, and a plan that agrees
    with the cpu INT8 plan built from the cpu's cache."""
    model_path = str(tmp_path / "mbv2.onnx")
    onnx.save(mobilenet_v2(size=32), model_path)
    data = _calibration()
    cuda = _int8(model_path, "cuda", tmp_path / "cuda.cache", data=data, calibrator="max", strict_fp32=True,
                 int8_fallback="fp32")
    cpu = _int8(model_path, "cpu", tmp_path / "cpu.cache", data=data, calibrator="max")
    scales = [_core.parse_calibration_cache((tmp_path / f"{b}.cache").read_text())["scales"] for b in ("cuda", "cpu")]
    assert scales[0].keys() == scales[1].keys() and scales[0]
    for k, v in scales[1].items():
        assert abs(scales[0][k] - v) <= 1e-3 * v, (k, scales[0][k], v)
    x = np.random.default_rng(7).standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    got, want = cuda.infer({"input": x})["logits"], cpu.infer({"input": x})["logits"]
    assert rel_l2(got, want) < 3e-2, rel_l2(got, want)


def test_int8_plan_round_trip_cuda(tmp_path):
    model_path = str(tmp_path / "mbv2.onnx")
    onnx.save(mobilenet_v2(size=32), model_path)
    engine = _int8(model_path, "cuda", tmp_path / "m.cache", data=_calibration(), strict_fp32=True)
    path = str(tmp_path / "m.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert loaded.backend == "cuda"
    assert _layer_ops(loaded) == _layer_ops(engine)
    for batch in (BATCH, 3):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 32, 32)).astype(np.float32)
        a, b = engine.infer({"input": x})["logits"], loaded.infer({"input": x})["logits"]
        assert rel_l2(b, a) < 1e-3 and (a.argmax(1) == b.argmax(1)).all(), rel_l2(b, a)


def test_qdq_model_plan_round_trip_cuda(tmp_path):
    rng = np.random.default_rng(4)
    model = resnet_block(batch=2, c=32, mid=16, size=12)
    qdq = ort_quantize(model, tmp_path, _images(rng, (2, 32, 12, 12), 4))
    engine = build_engine(qdq, tmp_path, name="qdq", backend="cuda")
    path = str(tmp_path / "qdq.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert loaded.backend == "cuda" and "QuantizeLinear" in _layer_ops(loaded)
    x = rng.standard_normal((2, 32, 12, 12)).astype(np.float32)
    a, b = engine.infer({"input": x})["output"], loaded.infer({"input": x})["output"]
    assert rel_l2(b, a) < 1e-3, rel_l2(b, a)


def test_int8_accuracy_options_on_cuda_agree_with_cpu(tmp_path):
    """The accuracy options (bias correction, equalization from activation ranges, the most sensitive layers kept
    float) read from a cache the cpu build wrote give the cuda plan the same network: the listed layers stay float
    and the outputs agree with the cpu INT8 plan's."""
    model_path = str(tmp_path / "mbv2.onnx")
    onnx.save(mobilenet_v2(size=32), model_path)
    cache = tmp_path / "opts.cache"
    opts = dict(int8_bias_correction="on", int8_equalization="activations", int8_float_layers=4)
    cpu = _int8(model_path, "cpu", cache, data=_calibration(), **opts)
    rows = [line.split(",", 3) for line in (tmp_path / "opts.cache.sensitivity").read_text().splitlines()[2:]]
    kept_float = {r[3] for r in rows[:4]}
    cuda = _int8(model_path, "cuda", cache, strict_fp32=True, int8_fallback="fp32", **opts)
    precisions = {la.name: la.precision for la in cuda.layers}
    assert all(precisions.get(name, "fp32") != "int8" for name in kept_float), (kept_float, precisions)
    assert any(p == "int8" for p in precisions.values()), precisions
    x = np.random.default_rng(9).standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    got, want = cuda.infer({"input": x})["logits"], cpu.infer({"input": x})["logits"]
    assert rel_l2(got, want) < 3e-2, rel_l2(got, want)
    assert _top1_agreement(got, want) >= 7 / 8, (got.argmax(1), want.argmax(1))
