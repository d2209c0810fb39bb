"""The cpu backend's int8 depthwise convolution (QConv with one input channel per group runs its own kernel, not the
int8 GEMM): Q/DQ depthwise models agree with onnxruntime within one quantization step, and bit for bit with the
same convolution written as a dense conv whose weights are zero off the diagonal, which the GEMM path runs."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import build_engine, ort_run

N = helper.make_node


def qdq_conv(w_int, w_scale, x_scale, x_zp, y_scale, y_zp, shape, group, stride, pads, bias=None, act=None,
             dtype=np.int8, float_out=False):
    """x -> Q -> DQ -> Conv(DQ(w_int), bias) [-> act] -> Q (-> DQ when float_out): onnxruntime's Q/DQ form."""
    inits = [("sx", np.array(x_scale, np.float32)), ("zx", np.array(x_zp, dtype)), ("wq", w_int),
             ("sw", w_scale.astype(np.float32)), ("zw", np.zeros(w_int.shape[0], np.int8)),
             ("sy", np.array(y_scale, np.float32)), ("zy", np.array(y_zp, dtype))]
    conv_in = ["xd", "wd"]
    if bias is not None:
        inits.append(("b", bias.astype(np.float32)))
        conv_in.append("b")
    k = w_int.shape[2:]
    nodes = [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
             N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0),
             N("Conv", conv_in, ["c"], kernel_shape=list(k), pads=list(pads), strides=[stride, stride], group=group)]
    last = "c"
    if act == "relu6":
        inits += [("lo", np.array(0, np.float32)), ("hi", np.array(6, np.float32))]
        nodes.append(N("Clip", ["c", "lo", "hi"], ["a"]))
        last = "a"
    out_type = TensorProto.INT8 if dtype == np.int8 else TensorProto.UINT8
    nodes.append(N("QuantizeLinear", [last, "sy", "zy"], ["yq" if float_out else "y"]))
    if float_out:
        nodes.append(N("DequantizeLinear", ["yq", "sy", "zy"], ["y"]))
        out_type = TensorProto.FLOAT
    g = helper.make_graph(nodes, "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                          [helper.make_tensor_value_info("y", out_type, None)],
                          [onnx.numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])


def dense_equivalent(w_int, c):
    """Depthwise weights [c * mult, 1, kh, kw] as a group-1 conv's [c * mult, c, kh, kw], zero off the diagonal."""
    m, mult = w_int.shape[0], w_int.shape[0] // c
    dense = np.zeros((m, c) + w_int.shape[2:], np.int8)
    for oc in range(m):
        dense[oc, oc // mult] = w_int[oc, 0]
    return dense


CASES = [  # kernel, stride, pads (top, left, bottom, right), channels, multiplier, input size
    (3, 1, (1, 1, 1, 1), 24, 1, (9, 11)),
    (3, 2, (1, 1, 1, 1), 40, 1, (13, 10)),
    (5, 1, (2, 2, 2, 2), 17, 1, (7, 7)),
    (5, 2, (2, 2, 2, 2), 32, 1, (16, 16)),
    (3, 2, (0, 0, 1, 1), 16, 1, (8, 8)),     # TF-style "same" padding at the far side only
    (3, 1, (0, 0, 0, 0), 8, 2, (6, 9)),      # two outputs per channel, no padding
    (3, 1, (1, 1, 1, 1), 96, 1, (2, 2)),     # a plane smaller than the kernel's reach
]


def _case(rng, case, dtype, act):
    k, stride, pads, c, mult, (h, w) = case
    w_int = rng.integers(-127, 128, (c * mult, 1, k, k)).astype(np.int8)
    w_scale = rng.uniform(0.002, 0.01, c * mult)
    bias = (rng.standard_normal(c * mult) * 0.2).astype(np.float32)
    if dtype == np.int8:
        x_zp, y_zp = int(rng.integers(-20, 21)), int(rng.integers(-30, 31))
    else:
        x_zp, y_zp = int(rng.integers(100, 156)), int(rng.integers(90, 140))
    params = dict(w_scale=w_scale, x_scale=0.031, x_zp=x_zp, y_scale=0.047, y_zp=y_zp, stride=stride, pads=pads,
                  bias=bias, act=act, dtype=dtype)
    x = (rng.standard_normal((3, c, h, w)) * 1.5).astype(np.float32)
    return w_int, params, x, c


def _ids(case):
    k, stride, pads, c, mult, (h, w) = case
    return "k%d_s%d_p%s_c%dx%d_%dx%d" % (k, stride, "".join(map(str, pads)), c, mult, h, w)


@pytest.mark.parametrize("act", [None, "relu6"], ids=["linear", "relu6"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_depthwise_qconv_matches_onnxruntime_and_the_gemm_path(tmp_path, rng, case, dtype, act):
    w_int, p, x, c = _case(rng, case, dtype, act)
    model = qdq_conv(w_int, shape=x.shape, group=c, **p)
    eng = build_engine(model, tmp_path, name="dw")
    layers = [(l.op, l.tactic) for l in eng.layers if l.op.startswith("QConv")]
    assert len(layers) == 1 and layers[0][1].startswith("depthwise"), layers
    got = eng.infer({"x": x})["y"]
    ref = ort_run(model, {"x": x})["y"]
    assert got.dtype == ref.dtype and got.shape == ref.shape
    diff = np.abs(got.astype(np.int32) - ref.astype(np.int32))
    # onnxruntime sums the dequantized products in float: a sum within rounding of a half step may land one apart
    assert diff.max() <= 1 and np.count_nonzero(diff) <= max(2, diff.size // 200), (diff.max(), np.count_nonzero(diff))

    dense = qdq_conv(dense_equivalent(w_int, c), shape=x.shape, group=1, **p)
    eng_dense = build_engine(dense, tmp_path, name="dense")
    dense_layers = [l.tactic for l in eng_dense.layers if l.op.startswith("QConv")]
    assert len(dense_layers) == 1 and not dense_layers[0].startswith("depthwise"), dense_layers
    gemm = eng_dense.infer({"x": x})["y"]
    assert np.array_equal(got, gemm), np.argwhere(got != gemm)[:5]


@pytest.mark.parametrize("threads", [1, 2])
def test_depthwise_qconv_float_output_and_threads(tmp_path, rng, threads):
    """A float (dequantized) output and several threads give the GEMM path's values exactly."""
    case = (3, 2, (1, 1, 1, 1), 48, 1, (20, 20))
    w_int, p, x, c = _case(rng, case, np.int8, "relu6")
    model = qdq_conv(w_int, shape=x.shape, group=c, float_out=True, **p)
    got = build_engine(model, tmp_path, name="dw", threads=threads).infer({"x": x})["y"]
    dense = qdq_conv(dense_equivalent(w_int, c), shape=x.shape, group=1, float_out=True, **p)
    gemm = build_engine(dense, tmp_path, name="dense", threads=threads).infer({"x": x})["y"]
    assert got.dtype == np.float32 and np.array_equal(got, gemm)
    ref = ort_run(model, {"x": x})["y"]
    assert np.abs(got - ref).max() <= 0.047 * 1.001
