"""The cpu backend's direct int8 convolution (QConv windows other than 1x1 stride 1 read each tap's operand from a
padded, channel-interleaved copy of the input instead of a gathered panel): Q/DQ models agree with onnxruntime
within one quantization step, and bit for bit with the panel path, which runs the same convolution when zero-weight
input channels are appended so that the channel count is no longer a multiple of four."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import build_engine, ort_run

N = helper.make_node


def out_shape(x_shape, w_shape, stride, pads, dilation):
    k, (n, _, h, w) = w_shape[2], x_shape
    return (n, w_shape[0], (h + pads[0] + pads[2] - dilation * (k - 1) - 1) // stride + 1,
            (w + pads[1] + pads[3] - dilation * (k - 1) - 1) // stride + 1)


def qdq_conv(w_int, w_scale, bias, dtype, x_zp, y_zp, x_shape, stride, pads, group, dilation, residual,
             x_scale=0.031, y_scale=0.047):
    """x -> Q -> DQ -> Conv(DQ(w_int), bias) [+ DQ(Q(r))] -> Relu -> Q: onnxruntime's Q/DQ form."""
    inits = [("sx", np.array(x_scale, np.float32)), ("zx", np.array(x_zp, dtype)), ("wq", w_int),
             ("sw", w_scale.astype(np.float32)), ("zw", np.zeros(w_int.shape[0], np.int8)),
             ("b", bias.astype(np.float32)), ("sy", np.array(y_scale, np.float32)), ("zy", np.array(y_zp, dtype))]
    k = list(w_int.shape[2:])
    nodes = [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
             N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0),
             N("Conv", ["xd", "wd", "b"], ["c"], kernel_shape=k, pads=list(pads), strides=[stride, stride],
               group=group, dilations=[dilation, dilation])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))]
    last = "c"
    if residual is not None:
        inits += [("sr", np.array(0.039, np.float32)), ("zr", np.array(residual, dtype))]
        nodes += [N("QuantizeLinear", ["r", "sr", "zr"], ["rq"]), N("DequantizeLinear", ["rq", "sr", "zr"], ["rd"]),
                  N("Add", ["c", "rd"], ["s"])]
        r_shape = out_shape(x_shape, w_int.shape, stride, pads, dilation)
        inputs.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, list(r_shape)))
        last = "s"
    nodes += [N("Relu", [last], ["a"]), N("QuantizeLinear", ["a", "sy", "zy"], ["y"])]
    out_type = TensorProto.INT8 if dtype == np.int8 else TensorProto.UINT8
    g = helper.make_graph(nodes, "direct", inputs, [helper.make_tensor_value_info("y", out_type, None)],
                          [onnx.numpy_helper.from_array(a, n) for n, a in inits])
    return helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])


def with_zero_channels(w_int, x, group, extra):
    """The same convolution with `extra` zero-weight input channels appended to each group (random inputs there)."""
    m, cg = w_int.shape[:2]
    w = np.zeros((m, cg + extra) + w_int.shape[2:], np.int8)
    w[:, :cg] = w_int
    parts = []
    for g in range(group):
        parts += [x[:, g * cg:(g + 1) * cg], np.random.default_rng(g).standard_normal(
            (x.shape[0], extra) + x.shape[2:]).astype(np.float32)]
    return w, np.concatenate(parts, axis=1)


CASES = [  # kernel, stride, pads (top, left, bottom, right), input channels, outputs, input size, group, dilation
    (3, 1, (1, 1, 1, 1), 16, 24, (9, 11), 1, 1),
    (3, 2, (1, 1, 1, 1), 8, 16, (13, 10), 1, 1),
    (3, 1, (0, 0, 0, 0), 4, 8, (6, 7), 1, 1),       # no padding
    (3, 2, (0, 0, 1, 1), 8, 7, (8, 8), 1, 1),       # TF-style "same" padding at the far side only
    (3, 2, (1, 1, 1, 1), 3, 32, (20, 18), 1, 1),    # a stem: three channels, several blocks of pixels
    (1, 2, (0, 0, 0, 0), 8, 16, (9, 9), 1, 1),      # a strided projection shortcut
    (3, 1, (2, 2, 2, 2), 4, 6, (7, 5), 1, 2),       # dilated
    (3, 1, (1, 1, 1, 1), 16, 12, (10, 12), 2, 1),   # two groups
    (5, 3, (2, 1, 2, 1), 8, 9, (11, 13), 1, 1),     # stride 3, uneven padding
    (3, 1, (1, 1, 1, 1), 8, 8, (2, 2), 1, 1),       # a plane smaller than the kernel's reach
]


def _ids(case):
    k, s, pads, c, m, (h, w), group, d = case
    return "k%d_s%d_p%s_c%d_m%d_%dx%d_g%d_d%d" % (k, s, "".join(map(str, pads)), c, m, h, w, group, d)


def _run(tmp_path, rng, case, dtype, threads, residual, batch):
    k, stride, pads, c, m, (h, w), group, dilation = case
    w_int = rng.integers(-127, 128, (m, c // group, k, k)).astype(np.int8)
    w_scale, bias = rng.uniform(0.002, 0.01, m), rng.standard_normal(m) * 0.2
    if dtype == np.int8:
        x_zp, y_zp, r_zp = (int(v) for v in rng.integers(-30, 31, 3))
    else:
        x_zp, y_zp, r_zp = (int(v) for v in rng.integers(90, 160, 3))
    x = (rng.standard_normal((batch, c, h, w)) * 1.5).astype(np.float32)
    common = dict(w_scale=w_scale, bias=bias, dtype=dtype, x_zp=x_zp, y_zp=y_zp, stride=stride, pads=pads,
                  group=group, dilation=dilation, residual=r_zp if residual else None)
    model = qdq_conv(w_int, x_shape=x.shape, **common)
    eng = build_engine(model, tmp_path, name="direct", threads=threads)
    layers = [(l.op, l.tactic) for l in eng.layers if l.op.startswith("QConv")]
    assert len(layers) == 1 and "direct" in layers[0][1], layers
    assert layers[0][0] == ("QConv+Add+Relu" if residual else "QConv+Relu"), layers
    feeds = {"x": x}
    if residual:
        r_shape = out_shape(x.shape, w_int.shape, stride, pads, dilation)
        feeds["r"] = (rng.standard_normal(r_shape) * 2).astype(np.float32)
    got = eng.infer(feeds)["y"]
    ref = ort_run(model, feeds)["y"]
    assert got.dtype == ref.dtype and got.shape == ref.shape
    diff = np.abs(got.astype(np.int32) - ref.astype(np.int32))
    # onnxruntime sums the dequantized products in float: a sum within rounding of a half step may land one apart
    assert diff.max() <= 1 and np.count_nonzero(diff) <= max(2, diff.size // 200), (diff.max(), np.count_nonzero(diff))

    extra = 2 if (c // group) % 4 == 0 else 5 - (c // group)
    w_pad, x_pad = with_zero_channels(w_int, x, group, extra)
    panel_model = qdq_conv(w_pad, x_shape=x_pad.shape, **common)
    panel = build_engine(panel_model, tmp_path, name="panel", threads=threads)
    panel_tactics = [l.tactic for l in panel.layers if l.op.startswith("QConv")]
    assert len(panel_tactics) == 1 and "direct" not in panel_tactics[0], panel_tactics
    want = panel.infer(dict(feeds, x=x_pad))["y"]
    assert np.array_equal(got, want), np.argwhere(got != want)[:5]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_direct_qconv_matches_onnxruntime_and_the_panel_path(tmp_path, rng, case, dtype, threads):
    _run(tmp_path, rng, case, dtype, threads, residual=False, batch=3)


# large enough (over a million products) to be split over threads
LARGE = [(3, 1, (1, 1, 1, 1), 32, 32, (24, 24), 1, 1), (3, 2, (1, 1, 1, 1), 16, 32, (32, 32), 1, 1)]


@pytest.mark.parametrize("threads,batch", [(1, 1), (2, 1), (2, 5)])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[4]] + LARGE, ids=_ids)
def test_direct_qconv_with_residual(tmp_path, rng, case, dtype, threads, batch):
    """An 8-bit residual added before the Relu (fused into the QConv); one image (split into row chunks when there
    are threads to spare) or several per thread."""
    _run(tmp_path, rng, case, dtype, threads, residual=True, batch=batch)


# float32 nearbyint(h * s * (1 / s)) misses the half step h for many h at these s (7, 15, 61 over powers of two)
@pytest.mark.parametrize("w_scale,y_scale", [(1.0, 1.0), (1.0, 2.0), (7 / 128, 7 / 128), (15 / 64, 15 / 64),
                                             (61 / 256, 61 / 256)])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
def test_requantization_ties_round_to_even(tmp_path, rng, dtype, w_scale, y_scale):
    """Scales that make every sum exact in float and many outputs exact half steps (sum * 0.5 * w_scale / y_scale
    is a multiple of 1/2), most with a reciprocal of y_scale that rounds some of them to the wrong side: QuantizeLinear rounds those to even, and the
    epilogue (which divides only near a half step) must land on the same integers exactly; large sums saturate."""
    c, m = 8, 16
    w_int = rng.integers(-9, 10, (m, c, 3, 3)).astype(np.int8)
    x_zp, y_zp = (5, -3) if dtype == np.int8 else (128, 120)
    x = rng.integers(-20, 21, (2, c, 12, 12)).astype(np.float32) * 0.5  # exact multiples of the input scale
    model = qdq_conv(w_int, np.full(m, w_scale), np.zeros(m), dtype, x_zp, y_zp, x.shape, 1, (1, 1, 1, 1), 1, 1, None,
                     x_scale=0.5, y_scale=y_scale)
    for threads in (1, 2):
        got = build_engine(model, tmp_path, name="ties", threads=threads).infer({"x": x})["y"]
        ref = ort_run(model, {"x": x})["y"]
        assert np.array_equal(got, ref), np.argwhere(got != ref)[:5]
    sums = (ref.astype(np.int32) - y_zp)
    assert np.count_nonzero(sums == (127 if dtype == np.int8 else 255) - y_zp) > 0  # some outputs saturate


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
@pytest.mark.parametrize("size", [(4, 4), (2, 3), (1, 1), (5, 6)], ids=lambda s: "%dx%d" % s)
def test_small_pointwise_planes_share_a_panel(tmp_path, rng, size, dtype, threads):
    """1x1 convs on planes of at most 32 pixels put several images in one panel (the last one partly filled): each
    image's outputs are its own, as onnxruntime gives them, with an 8-bit residual."""
    c, m, batch = 64, 96, 12  # the larger planes' products are split over threads
    w_int = rng.integers(-127, 128, (m, c, 1, 1)).astype(np.int8)
    x_zp, y_zp, r_zp = (5, -3, 2) if dtype == np.int8 else (128, 120, 131)
    x = (rng.standard_normal((batch, c) + size) * 1.5).astype(np.float32)
    model = qdq_conv(w_int, rng.uniform(0.002, 0.01, m), rng.standard_normal(m) * 0.2, dtype, x_zp, y_zp, x.shape, 1,
                     (0, 0, 0, 0), 1, 1, r_zp)
    feeds = {"x": x, "r": (rng.standard_normal((batch, m) + size) * 2).astype(np.float32)}
    eng = build_engine(model, tmp_path, name="pw", threads=threads)
    got = eng.infer(feeds)["y"]
    ref = ort_run(model, feeds)["y"]
    diff = np.abs(got.astype(np.int32) - ref.astype(np.int32))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= max(2, diff.size // 200), (diff.max(), np.count_nonzero(diff))
