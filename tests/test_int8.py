"""INT8 on the cpu backend: Q/DQ models quantized by onnxruntime's own quantizer build on trtcore, their convolutions
run as int8 kernels (QConv), and the results match onnxruntime running the same Q/DQ model."""
import numpy as np
import onnx
import pytest

from conftest import build_engine, ort_run, rel_l2, save_model
from models import mobilenet_v2, resnet_block


class _Reader:
    """onnxruntime CalibrationDataReader over a list of feeds."""

    def __init__(self, name, arrays):
        self._it = iter([{name: a} for a in arrays])

    def get_next(self):
        return next(self._it, None)


def ort_quantize(model, tmp_path, arrays, per_channel=True, symmetric=True, name="q"):
    """The model quantized by onnxruntime.quantization.quantize_static in QDQ format (int8), TensorRT-style settings
    when symmetric: zero points 0, per-channel weights, no bias quantization."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    raw = save_model(model, tmp_path / f"{name}_raw.onnx")
    src = str(tmp_path / f"{name}_fp32.onnx")
    quant_pre_process(raw, src)  # onnxruntime's recommended first step: folds BatchNormalization into the convs
    dst = str(tmp_path / f"{name}_qdq.onnx")
    extra = {"ActivationSymmetric": symmetric, "WeightSymmetric": True, "QuantizeBias": False}
    quantize_static(src, dst, _Reader(model.graph.input[0].name, arrays), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8, weight_type=QuantType.QInt8,
                    per_channel=per_channel, calibrate_method=CalibrationMethod.MinMax, extra_options=extra)
    return onnx.load(dst)


def _images(rng, shape, n):
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]


def _layer_precisions(engine):
    return {l.name: (l.op, l.precision) for l in engine.layers}


@pytest.mark.parametrize("symmetric", [True, False], ids=["int8_symmetric", "uint8_asymmetric"])
def test_onnxruntime_quantized_block_runs_int8(tmp_path, symmetric):
    rng = np.random.default_rng(1)
    model = resnet_block(batch=2, c=32, mid=16, size=12)
    calib = _images(rng, (2, 32, 12, 12), 4)
    qdq = ort_quantize(model, tmp_path, calib, symmetric=symmetric)
    x = rng.standard_normal((2, 32, 12, 12)).astype(np.float32)
    ref = ort_run(qdq, {"input": x})["output"]
    eng = build_engine(qdq, tmp_path, name="qdq")
    kinds = [op for op, prec in _layer_precisions(eng).values() if prec == "int8" and op != "QuantizeLinear"]
    assert len(kinds) == 3 and all(k.startswith("QConv") for k in kinds), _layer_precisions(eng)
    # a QuantizeLinear writes int8 (onnxruntime's quantizer chose int8 or uint8 zero points), whatever runs it
    assert all(prec == "int8" for op, prec in _layer_precisions(eng).values() if op == "QuantizeLinear")
    got = eng.infer({"input": x})["output"]
    # the last Relu's output is quantized by onnxruntime's Q/DQ pair: compare in units of its scale
    assert rel_l2(got, ref) < 2e-2, rel_l2(got, ref)
    fp32 = ort_run(model, {"input": x})["output"]
    assert rel_l2(got, fp32) < 0.1


def test_quantized_layer_outputs_within_one_step(tmp_path):
    """One quantized conv whose int8 output is the graph output: every element within 1 LSB of onnxruntime."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(2)
    w = rng.integers(-127, 128, (8, 6, 3, 3)).astype(np.int8)
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in [
        ("sx", np.array(0.02, np.float32)), ("zx", np.array(0, np.int8)), ("wq", w),
        ("sw", rng.uniform(0.001, 0.004, 8).astype(np.float32)), ("zw", np.zeros(8, np.int8)),
        ("b", rng.standard_normal(8).astype(np.float32)), ("sy", np.array(0.05, np.float32)),
        ("zy", np.array(0, np.int8))]]
    N = helper.make_node
    nodes = [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
             N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0),
             N("Conv", ["xd", "wd", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
             N("Relu", ["c"], ["r"]), N("QuantizeLinear", ["r", "sy", "zy"], ["y"])]
    g = helper.make_graph(nodes, "qconv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 6, 11, 11])],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, None)], inits)
    model = helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])
    x = rng.standard_normal((3, 6, 11, 11)).astype(np.float32)
    ref = ort_run(model, {"x": x})["y"]
    eng = build_engine(model, tmp_path)
    assert [l.op for l in eng.layers] == ["QuantizeLinear", "QConv+Relu"]
    got = eng.infer({"x": x})["y"]
    assert got.dtype == ref.dtype == np.int8
    # both layers write int8 (the QuantizeLinear's int8 zero point sets its output type): the precision says so
    assert [l.precision for l in eng.layers] == ["int8", "int8"], [(l.op, l.precision) for l in eng.layers]
    diff = np.abs(got.astype(np.int32) - ref.astype(np.int32))
    assert diff.max() <= 1 and np.count_nonzero(diff) < diff.size * 0.01, (diff.max(), np.count_nonzero(diff))


def test_requantization_divides_by_the_output_scale(tmp_path):
    """Exact conv outputs (powers of two times integers) requantized with scale 0.15: QuantizeLinear's x / scale and
    x * (1 / scale) round some of them differently; the int8 conv's output equals onnxruntime's bit for bit."""
    from onnx import TensorProto, helper
    xs, ys = np.float32(1 / 32), np.float32(0.15)
    xq = np.arange(-127, 128, dtype=np.int8).reshape(1, 1, 15, 17)
    w = np.arange(1, 32, dtype=np.int8).reshape(31, 1, 1, 1)  # every product x * w: y = x * w / 32 exactly
    acc = (xq.astype(np.int32) * w.reshape(1, 31, 1, 1)).astype(np.float32) * xs
    spec = np.clip(np.rint(acc / ys), -128, 127)
    assert np.count_nonzero(spec != np.clip(np.rint(acc * (np.float32(1) / ys)), -128, 127)) >= 3
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in [
        ("sx", np.array(xs)), ("zx", np.array(0, np.int8)), ("wq", w), ("sw", np.ones(31, np.float32)),
        ("zw", np.zeros(31, np.int8)), ("sy", np.array(ys)), ("zy", np.array(0, np.int8))]]
    N = helper.make_node
    nodes = [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
             N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0), N("Conv", ["xd", "wd"], ["c"]),
             N("QuantizeLinear", ["c", "sy", "zy"], ["y"])]
    g = helper.make_graph(nodes, "qconv_ties", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 15, 17])],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, None)], inits)
    model = helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])
    x = xq.astype(np.float32) * xs
    ref = ort_run(model, {"x": x})["y"]
    assert np.array_equal(ref, spec.astype(np.int8))
    eng = build_engine(model, tmp_path)
    assert [l.op for l in eng.layers] == ["QuantizeLinear", "QConv"]
    got = eng.infer({"x": x})["y"]
    assert np.array_equal(got, ref), np.argwhere(got != ref)[:5]


def quantized_mobilenet(tmp_path):
    """(Q/DQ model, input name, input, onnxruntime's output) of a MobileNetV2-style net quantized by onnxruntime."""
    rng = np.random.default_rng(3)
    model = mobilenet_v2(batch=2, size=32)
    name = model.graph.input[0].name
    qdq = ort_quantize(model, tmp_path, _images(rng, (2, 3, 32, 32), 4), name="mbv2")
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    return qdq, name, x, list(ort_run(qdq, {name: x}).values())[0]


def test_onnxruntime_quantized_mobilenet(tmp_path):
    """Grouped and depthwise convolutions, ReLU6 (Clip), residual adds and a classifier head, quantized by
    onnxruntime: trtcore's output agrees with onnxruntime's on the same Q/DQ model."""
    qdq, name, x, ref = quantized_mobilenet(tmp_path)
    eng = build_engine(qdq, tmp_path, name="mbv2_qdq")
    got = list(eng.infer({name: x}).values())[0]
    assert sum(p == "int8" for _, p in _layer_precisions(eng).values()) >= 10
    assert rel_l2(got, ref) < 5e-2, rel_l2(got, ref)
    assert (got.argmax(1) == ref.argmax(1)).all()


def test_int8_residual_conv_is_labelled_with_its_add(tmp_path):
    """The bottleneck's last Conv carries the identity Add and the Relu in the INT8 plan: its label names both, like
    the FP32 plan's Conv+Add+Relu (the graph has one Add, so exactly one layer shows it)."""
    model = resnet_block(batch=2, c=32, mid=16, size=12)
    calib = np.random.default_rng(3).standard_normal((8, 32, 12, 12)).astype(np.float32)
    fp32 = build_engine(model, tmp_path, name="f")
    eng = build_engine(model, tmp_path, name="q", precision="int8", calibration_data=[calib])
    assert [l.op for l in fp32.layers].count("Conv+Add+Relu") == 1, [l.op for l in fp32.layers]
    ops = [l.op for l in eng.layers]
    assert "Add" not in ops and sum("+Add" in op for op in ops) == 1, ops
    assert any(op.startswith("QConv+Add") for op in ops), ops
