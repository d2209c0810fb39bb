"""Per-op test cases: each is a function rng -> (model, feeds), built with onnx.helper on seeded random inputs.
Shared by test_ops.py (cpu vs onnxruntime) and test_gpu.py (cuda vs cpu and onnxruntime)."""
import numpy as np
import pytest
from onnx import TensorProto, helper

from models import make_model

f32 = np.float32
I64_MAX = np.iinfo(np.int64).max

CASES = []


def add(name, fn, marks=()):
    CASES.append(pytest.param(fn, id=name, marks=marks))


def randn(rng, *shape, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, dtype=f32)


def positive(rng, *shape, low=0.1, high=3.0):
    return np.asarray(rng.uniform(low, high, shape), dtype=f32)


def away_from_zero(rng, *shape):
    return np.asarray(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape), dtype=f32)


def i64(*v):
    return np.array(v, dtype=np.int64)


def single(op, feeds, inits=None, attrs=None, opset=13, order=None, n_out=1, out_dtype=f32, out_names=None):
    """One `op` node. feeds: runtime inputs {name: array}; inits: initializers; order: the node's input names in
    position order ('' for an absent optional input), by default feeds then inits."""
    inits = dict(inits or {})
    order = list(order) if order is not None else list(feeds) + list(inits)
    outs = out_names or (["y"] if n_out == 1 else [f"y{i}" for i in range(n_out)])
    node = helper.make_node(op, order, outs, name=f"{op.lower()}_node", **(attrs or {}))
    inputs = [(k, v.dtype, list(v.shape)) for k, v in feeds.items()]
    dtypes = out_dtype if isinstance(out_dtype, (list, tuple)) else [out_dtype] * len(outs)
    outputs = [(o, d, None) for o, d in zip(outs, dtypes)]
    return make_model([node], inputs, outputs, inits, opset=opset, name=op), feeds


def chain(nodes, feeds, inits=None, outputs=("y",), opset=13, out_dtype=f32):
    inputs = [(k, v.dtype, list(v.shape)) for k, v in feeds.items()]
    return make_model(nodes, inputs, [(o, out_dtype, None) for o in outputs], inits or {}, opset=opset), feeds


N = helper.make_node

# ---------------------------------------------------------------------------------------------------------------
# Conv

CONV = {
    "3x3_pad1_bias": dict(c=4, m=6, hw=(9, 9), k=(3, 3), attrs=dict(pads=[1, 1, 1, 1]), bias=True),
    "3x3_nopad_nobias": dict(c=3, m=5, hw=(8, 7), k=(3, 3), attrs={}, bias=False),
    "stride2_asym_pads": dict(c=4, m=6, hw=(10, 11), k=(3, 3), attrs=dict(strides=[2, 2], pads=[0, 1, 1, 0]), bias=True),
    "1x1": dict(c=16, m=8, hw=(5, 5), k=(1, 1), attrs={}, bias=True),
    "1x1_stride2": dict(c=8, m=8, hw=(7, 7), k=(1, 1), attrs=dict(strides=[2, 2]), bias=False),
    "group2": dict(c=4, m=6, hw=(8, 8), k=(3, 3), attrs=dict(group=2, pads=[1, 1, 1, 1]), bias=True),
    "depthwise": dict(c=8, m=8, hw=(9, 9), k=(3, 3), attrs=dict(group=8, pads=[1, 1, 1, 1]), bias=True),
    "depthwise_stride2": dict(c=8, m=8, hw=(10, 10), k=(3, 3), attrs=dict(group=8, strides=[2, 2], pads=[1, 1, 1, 1]), bias=False),
    "depthwise_mult2": dict(c=4, m=8, hw=(7, 7), k=(3, 3), attrs=dict(group=4, pads=[1, 1, 1, 1]), bias=True),
    "dilation2": dict(c=3, m=4, hw=(11, 11), k=(3, 3), attrs=dict(dilations=[2, 2], pads=[2, 2, 2, 2]), bias=True),
    "dilation_2x1_k5x3": dict(c=2, m=3, hw=(12, 9), k=(5, 3), attrs=dict(dilations=[2, 1], pads=[1, 0, 2, 1]), bias=True),
    "auto_same_upper_s2": dict(c=3, m=4, hw=(9, 8), k=(4, 4), attrs=dict(auto_pad="SAME_UPPER", strides=[2, 2]), bias=True),
    "auto_same_lower_s2": dict(c=3, m=4, hw=(9, 8), k=(4, 4), attrs=dict(auto_pad="SAME_LOWER", strides=[2, 2]), bias=True),
    "auto_same_upper_k2": dict(c=3, m=4, hw=(6, 6), k=(2, 2), attrs=dict(auto_pad="SAME_UPPER"), bias=False),
    "auto_valid_s3": dict(c=3, m=4, hw=(11, 10), k=(3, 3), attrs=dict(auto_pad="VALID", strides=[3, 3]), bias=True),
    "k7_s2_p3": dict(c=3, m=8, hw=(20, 20), k=(7, 7), attrs=dict(strides=[2, 2], pads=[3, 3, 3, 3]), bias=True),
    "rect_k3x1": dict(c=4, m=4, hw=(6, 9), k=(3, 1), attrs=dict(pads=[1, 0, 1, 0]), bias=True),
    "no_kernel_shape_attr": dict(c=2, m=3, hw=(6, 6), k=(3, 3), attrs={}, bias=True, omit_kernel=True),
    "wide_64ch": dict(c=64, m=64, hw=(14, 14), k=(3, 3), attrs=dict(pads=[1, 1, 1, 1]), bias=True),
}


def _conv(spec, opset):
    def fn(rng):
        c, m, (h, w), k = spec["c"], spec["m"], spec["hw"], spec["k"]
        g = spec["attrs"].get("group", 1)
        attrs = dict(spec["attrs"])
        if not spec.get("omit_kernel"):
            attrs["kernel_shape"] = list(k)
        inits = {"w": randn(rng, m, c // g, *k, scale=0.5)}
        if spec["bias"]:
            inits["b"] = randn(rng, m)
        return single("Conv", {"x": randn(rng, 2, c, h, w)}, inits, attrs, opset=opset)
    return fn


for _name, _spec in CONV.items():
    add(f"Conv-{_name}", _conv(_spec, 13))
for _op in (8, 11, 21):
    add(f"Conv-3x3_pad1_bias-opset{_op}", _conv(CONV["3x3_pad1_bias"], _op))
add("Conv-weights_as_input", lambda rng: single("Conv", {"x": randn(rng, 1, 3, 6, 6), "w": randn(rng, 4, 3, 3, 3)},
                                                 {"b": randn(rng, 4)}, dict(kernel_shape=[3, 3])))

# ---------------------------------------------------------------------------------------------------------------
# ConvTranspose

CONVT = {
    "k3_s2_p1_outpad1": dict(c=4, m=3, hw=(5, 6), k=(3, 3), attrs=dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
    "k2_s2": dict(c=8, m=4, hw=(4, 4), k=(2, 2), attrs=dict(strides=[2, 2])),
    "k4_s2_p1": dict(c=3, m=5, hw=(5, 5), k=(4, 4), attrs=dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "k3_s1": dict(c=3, m=2, hw=(5, 5), k=(3, 3), attrs={}),
    "group2": dict(c=4, m=6, hw=(4, 5), k=(3, 3), attrs=dict(group=2, strides=[2, 2])),
    "dilation2": dict(c=2, m=3, hw=(4, 4), k=(3, 3), attrs=dict(dilations=[2, 2])),
    "output_shape": dict(c=2, m=3, hw=(3, 3), k=(3, 3), attrs=dict(strides=[3, 2], output_shape=[10, 8])),
    "auto_same_upper": dict(c=3, m=2, hw=(4, 5), k=(3, 3), attrs=dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    "asym_pads": dict(c=2, m=2, hw=(4, 4), k=(3, 3), attrs=dict(strides=[2, 2], pads=[0, 1, 1, 0])),
}


def _convt(spec, bias, opset=13):
    def fn(rng):
        c, m, (h, w), k = spec["c"], spec["m"], spec["hw"], spec["k"]
        g = spec["attrs"].get("group", 1)
        inits = {"w": randn(rng, c, m // g, *k, scale=0.5)}
        if bias:
            inits["b"] = randn(rng, m)
        return single("ConvTranspose", {"x": randn(rng, 2, c, h, w)}, inits,
                      dict(spec["attrs"], kernel_shape=list(k)), opset=opset)
    return fn


for _name, _spec in CONVT.items():
    add(f"ConvTranspose-{_name}", _convt(_spec, bias=True))
add("ConvTranspose-k2_s2-nobias", _convt(CONVT["k2_s2"], bias=False))
add("ConvTranspose-k2_s2-opset9", _convt(CONVT["k2_s2"], bias=True, opset=9))

# ---------------------------------------------------------------------------------------------------------------
# BatchNormalization


def _bn(shape, opset, eps=1e-5):
    def fn(rng):
        c = shape[1]
        inits = {"s": positive(rng, c, low=0.5, high=1.5), "b": randn(rng, c), "m": randn(rng, c),
                 "v": positive(rng, c, low=0.1, high=2.0)}
        return single("BatchNormalization", {"x": randn(rng, *shape)}, inits, dict(epsilon=eps), opset=opset)
    return fn


for _op in (9, 14, 15):
    add(f"BatchNormalization-4d-opset{_op}", _bn((2, 5, 6, 7), _op))
add("BatchNormalization-2d", _bn((4, 6), 15))
add("BatchNormalization-3d-eps1e-3", _bn((2, 3, 10), 15, eps=1e-3))

# ---------------------------------------------------------------------------------------------------------------
# activations and unary ops


def _unary(op, attrs=None, opset=13, gen=randn, shape=(2, 3, 5, 7)):
    return lambda rng: single(op, {"x": gen(rng, *shape)}, attrs=attrs, opset=opset)


for _op, _attrs, _opset in [
        ("Relu", None, 13), ("Relu", None, 14), ("Relu", None, 6),
        ("LeakyRelu", None, 6), ("LeakyRelu", dict(alpha=0.2), 16),
        ("Sigmoid", None, 13), ("Sigmoid", None, 6), ("HardSigmoid", None, 6),
        ("HardSigmoid", dict(alpha=0.3, beta=0.4), 6), ("HardSwish", None, 14), ("Tanh", None, 13),
        ("Exp", None, 13), ("Neg", None, 13), ("Abs", None, 13), ("Floor", None, 13), ("Ceil", None, 13),
        ("Erf", None, 13), ("Identity", None, 13), ("Identity", None, 16), ("Identity", None, 21)]:
    add(f"{_op}-opset{_opset}" + ("-attrs" if _attrs else ""), _unary(_op, _attrs, _opset,
                                                                        gen=lambda r, *s: randn(r, *s, scale=3.0)))
add("Sigmoid-large_magnitude", _unary("Sigmoid", gen=lambda r, *s: randn(r, *s, scale=40.0)))
add("Tanh-large_magnitude", _unary("Tanh", gen=lambda r, *s: randn(r, *s, scale=40.0)))
add("Log", _unary("Log", gen=positive))
add("Sqrt", _unary("Sqrt", gen=positive))
add("Reciprocal", _unary("Reciprocal", gen=away_from_zero))
add("Relu-rank1", _unary("Relu", shape=(37,)))
add("Relu-rank5", _unary("Relu", shape=(2, 2, 3, 2, 3)))

for _sname, _sshape in [("per_channel", (3, 1, 1)), ("scalar", (1,)), ("full", (3, 5, 7))]:
    add(f"PRelu-{_sname}", lambda rng, s=_sshape: single(
        "PRelu", {"x": randn(rng, 2, 3, 5, 7)}, {"slope": randn(rng, *s, scale=0.3)}, opset=16))
add("PRelu-opset9", lambda rng: single("PRelu", {"x": randn(rng, 2, 3, 5, 7)},
                                       {"slope": randn(rng, 3, 1, 1, scale=0.3)}, opset=9))

# Clip: attributes before opset 11, optional inputs after
add("Clip-opset6-attrs", lambda rng: single("Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)}, attrs=dict(min=-1.0, max=2.0), opset=6))
add("Clip-opset6-default", lambda rng: single("Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)}, opset=6))
for _opset in (11, 12, 13):
    add(f"Clip-opset{_opset}-min_max", lambda rng, o=_opset: single(
        "Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)}, {"lo": np.array(0.0, f32), "hi": np.array(6.0, f32)}, opset=o))
add("Clip-min_only", lambda rng: single("Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)},
                                        {"lo": np.array(-0.5, f32)}, order=["x", "lo"]))
add("Clip-max_only", lambda rng: single("Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)},
                                        {"hi": np.array(0.5, f32)}, order=["x", "", "hi"]))
add("Clip-no_bounds", lambda rng: single("Clip", {"x": randn(rng, 2, 3, 4, 5, scale=3)}))

# ---------------------------------------------------------------------------------------------------------------
# elementwise binary and variadic ops with broadcasting

BCAST = {
    "same": ((2, 3, 4, 5), (2, 3, 4, 5)),
    "last_axis": ((2, 3, 4, 5), (5,)),
    "channel": ((2, 3, 4, 5), (3, 1, 1)),
    "both_ways": ((2, 1, 4, 1), (1, 3, 1, 5)),
    "scalar": ((2, 3, 4, 5), ()),
    "lhs_smaller": ((4, 1), (2, 3, 4, 5)),
}


def _gen_for(op):
    if op == "Div":
        return randn, away_from_zero
    if op == "Pow":
        return positive, lambda r, *s: rng_uniform(r, s, -2.0, 2.0)
    return randn, randn


def rng_uniform(r, shape, lo, hi):
    return np.asarray(r.uniform(lo, hi, shape), dtype=f32)


def _binary(op, sa, sb, b_const, opset=13):
    def fn(rng):
        ga, gb = _gen_for(op)
        a, b = ga(rng, *sa), gb(rng, *sb)
        if b_const:
            return single(op, {"a": a}, {"b": b}, opset=opset)
        return single(op, {"a": a, "b": b}, opset=opset)
    return fn


for _op in ("Add", "Sub", "Mul", "Div", "Pow", "Min", "Max"):
    for _bname, (_sa, _sb) in BCAST.items():
        if _op in ("Min", "Max") and _bname == "scalar":
            _sb = (1,)
        add(f"{_op}-{_bname}-input", _binary(_op, _sa, _sb, b_const=False))
        add(f"{_op}-{_bname}-const", _binary(_op, _sa, _sb, b_const=True))
for _op in ("Add", "Mul", "Sub", "Div"):
    for _opset in (7, 14):
        add(f"{_op}-channel-opset{_opset}", _binary(_op, (2, 3, 4, 5), (3, 1, 1), b_const=True, opset=_opset))


def _variadic(op, shapes, opset=13):
    def fn(rng):
        feeds = {f"x{i}": randn(rng, *s) for i, s in enumerate(shapes)}
        return single(op, feeds, opset=opset)
    return fn


for _op in ("Sum", "Mean", "Min", "Max"):
    add(f"{_op}-three_bcast", _variadic(_op, [(2, 3, 4, 5), (3, 1, 1), (5,)]))
    add(f"{_op}-one_input", _variadic(_op, [(2, 3, 4)]))
add("Sum-two_same-opset8", _variadic("Sum", [(2, 3, 4), (2, 3, 4)], opset=8))
add("Sum-four", _variadic("Sum", [(2, 3, 4), (2, 3, 4), (1, 4), (2, 1, 1)]))


def _compare_where(cmp, shape_b, opset=13):
    def fn(rng):
        # integer-valued floats so Equal has true and false cases
        a = rng.integers(-2, 3, (2, 3, 4)).astype(f32)
        b = rng.integers(-2, 3, shape_b).astype(f32)
        x, y = randn(rng, 2, 3, 4), randn(rng, 2, 3, 4)
        nodes = [N(cmp, ["a", "b"], ["c"]), N("Where", ["c", "x", "y"], ["out"])]
        return chain(nodes, {"a": a, "b": b, "x": x, "y": y}, outputs=("out",), opset=opset)
    return fn


for _cmp in ("Equal", "Less", "Greater"):
    add(f"{_cmp}-Where", _compare_where(_cmp, (2, 3, 4)))
    add(f"{_cmp}-Where-bcast", _compare_where(_cmp, (4,)))
add("Not-Where", lambda rng: chain([N("Less", ["a", "b"], ["c"]), N("Not", ["c"], ["d"]),
                                    N("Where", ["d", "a", "b"], ["out"])],
                                   {"a": randn(rng, 3, 5), "b": randn(rng, 3, 5)}, outputs=("out",)))
add("Where-bcast_const", lambda rng: chain(
    [N("Greater", ["x", "zero"], ["c"]), N("Where", ["c", "x", "alt"], ["out"])],
    {"x": randn(rng, 2, 3, 4, 5)}, {"zero": np.array(0.0, f32), "alt": randn(rng, 3, 1, 5)}, outputs=("out",)))
add("Less-bool_output", lambda rng: single("Less", {"a": randn(rng, 3, 4), "b": randn(rng, 3, 4)}, out_dtype=np.bool_))

# ---------------------------------------------------------------------------------------------------------------
# pooling and normalisation

MAXPOOL = {
    "k3_s2_p1": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "k2_s2": dict(kernel_shape=[2, 2], strides=[2, 2]),
    "k3_s1": dict(kernel_shape=[3, 3]),
    "k3_s2_ceil": dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    "k2_s2_ceil_odd": dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    "auto_same_upper": dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    "auto_same_lower": dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_LOWER"),
    "dilation2": dict(kernel_shape=[2, 2], dilations=[2, 2]),
    "rect_asym_pads": dict(kernel_shape=[3, 2], strides=[1, 2], pads=[1, 0, 0, 1]),
}
for _name, _attrs in MAXPOOL.items():
    add(f"MaxPool-{_name}", lambda rng, a=_attrs: single("MaxPool", {"x": randn(rng, 2, 3, 9, 11)}, attrs=a, opset=12))
for _opset in (8, 10, 11):
    add(f"MaxPool-k3_s2_p1-opset{_opset}", lambda rng, o=_opset: single(
        "MaxPool", {"x": randn(rng, 2, 3, 9, 11)}, attrs=MAXPOOL["k3_s2_p1"], opset=o))
add("MaxPool-all_negative_padded", lambda rng: single(
    "MaxPool", {"x": -positive(rng, 1, 2, 5, 5)}, attrs=dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])))

AVGPOOL = {
    "k3_s2_p1_exclude": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "k3_s2_p1_include": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
    "k2_s2": dict(kernel_shape=[2, 2], strides=[2, 2]),
    "k3_s1_p1": dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    "k3_s2_ceil": dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    "auto_same_upper": dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    "k7_global_like": dict(kernel_shape=[7, 7]),
}
for _name, _attrs in AVGPOOL.items():
    add(f"AveragePool-{_name}", lambda rng, a=_attrs: single("AveragePool", {"x": randn(rng, 2, 3, 9, 11)}, attrs=a, opset=11))
add("AveragePool-k3_s2_p1-opset19", lambda rng: single("AveragePool", {"x": randn(rng, 2, 3, 9, 11)},
                                                       attrs=AVGPOOL["k3_s2_p1_exclude"], opset=19))
add("AveragePool-k3_s2_p1-opset8", lambda rng: single("AveragePool", {"x": randn(rng, 2, 3, 9, 11)},
                                                      attrs=AVGPOOL["k3_s2_p1_exclude"], opset=8))
for _op in ("GlobalAveragePool", "GlobalMaxPool"):
    add(f"{_op}", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 5, 7, 6)}))
    add(f"{_op}-1x1", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 5, 1, 1)}))
    add(f"{_op}-large", lambda rng, o=_op: single(o, {"x": randn(rng, 1, 64, 28, 28)}))
add("LRN-size5_default", lambda rng: single("LRN", {"x": randn(rng, 2, 7, 5, 5)}, attrs=dict(size=5)))
add("LRN-size3_custom", lambda rng: single("LRN", {"x": randn(rng, 2, 6, 4, 5, scale=3)},
                                           attrs=dict(size=3, alpha=1e-2, beta=0.6, bias=2.0)))

# ---------------------------------------------------------------------------------------------------------------
# Gemm and MatMul


def _gemm(m, k, n, trans_a=0, trans_b=0, alpha=1.0, beta=1.0, c_shape="n", b_input=False, opset=13):
    def fn(rng):
        a = randn(rng, *((k, m) if trans_a else (m, k)))
        b = randn(rng, *((n, k) if trans_b else (k, n)))
        attrs = dict(transA=trans_a, transB=trans_b, alpha=alpha, beta=beta)
        feeds = {"a": a}
        inits = {}
        (feeds if b_input else inits)["b"] = b
        cs = {"n": (n,), "mn": (m, n), "1n": (1, n), "m1": (m, 1), "1": (1,), None: None}[c_shape]
        if cs is not None:
            inits["c"] = randn(rng, *cs)
        return single("Gemm", feeds, inits, attrs, opset=opset, order=["a", "b"] + (["c"] if cs else []))
    return fn


add("Gemm-basic", _gemm(4, 8, 5))
add("Gemm-transB", _gemm(3, 16, 10, trans_b=1))
add("Gemm-transA", _gemm(3, 7, 5, trans_a=1))
add("Gemm-transA_transB", _gemm(3, 7, 5, trans_a=1, trans_b=1))
add("Gemm-alpha_beta", _gemm(4, 6, 5, trans_b=1, alpha=0.5, beta=2.0))
add("Gemm-C_mn", _gemm(4, 6, 5, c_shape="mn"))
add("Gemm-C_1n", _gemm(4, 6, 5, c_shape="1n"))
add("Gemm-C_m1", _gemm(4, 6, 5, c_shape="m1"))
add("Gemm-C_scalar", _gemm(4, 6, 5, c_shape="1"))
add("Gemm-no_C", _gemm(4, 6, 5, c_shape=None, trans_b=1))
add("Gemm-B_input", _gemm(4, 6, 5, b_input=True))
add("Gemm-large", _gemm(8, 512, 100, trans_b=1))
add("Gemm-opset9", _gemm(4, 8, 5, trans_b=1, opset=9))


def _matmul(sa, sb, b_const=True, opset=13):
    def fn(rng):
        a, b = randn(rng, *sa), randn(rng, *sb)
        if b_const:
            return single("MatMul", {"a": a}, {"b": b}, opset=opset)
        return single("MatMul", {"a": a, "b": b}, opset=opset)
    return fn


add("MatMul-2d", _matmul((3, 4), (4, 5)))
add("MatMul-4d_x_2d", _matmul((2, 3, 4, 5), (5, 6)))
add("MatMul-batched_inputs", _matmul((2, 3, 4, 5), (2, 3, 5, 6), b_const=False))
add("MatMul-bcast_batch", _matmul((2, 1, 4, 5), (3, 5, 6), b_const=False))
add("MatMul-vec_rhs", _matmul((2, 4, 5), (5,)))
add("MatMul-vec_lhs", _matmul((5,), (2, 5, 3)))
add("MatMul-large_k", _matmul((4, 1024), (1024, 64)))
add("MatMul-opset9", _matmul((3, 4), (4, 5), opset=9))

# ---------------------------------------------------------------------------------------------------------------
# shape manipulation

for _axis in (0, 1, 2, -1):
    add(f"Flatten-axis{_axis}", lambda rng, a=_axis: single("Flatten", {"x": randn(rng, 2, 3, 4, 5)}, attrs=dict(axis=a)))
add("Flatten-opset9", lambda rng: single("Flatten", {"x": randn(rng, 2, 3, 4, 5)}, opset=9))

for _sname, _shape in [("minus1", (2, -1)), ("zero_copy", (0, 0, -1)), ("expand_rank", (2, 3, 2, 2, 5)),
                       ("to_1d", (-1,))]:
    for _opset in (5, 14):
        add(f"Reshape-{_sname}-opset{_opset}", lambda rng, s=_shape, o=_opset: single(
            "Reshape", {"x": randn(rng, 2, 3, 4, 5)}, {"shape": i64(*s)}, opset=o))

for _perm in (None, [0, 2, 3, 1], [0, 3, 1, 2], [1, 0, 2, 3], [3, 2, 1, 0]):
    add(f"Transpose-{'default' if _perm is None else ''.join(map(str, _perm))}", lambda rng, p=_perm: single(
        "Transpose", {"x": randn(rng, 2, 3, 4, 5)}, attrs=None if p is None else dict(perm=p)))
add("Transpose-2d", lambda rng: single("Transpose", {"x": randn(rng, 17, 9)}, attrs=dict(perm=[1, 0])))

for _axis, _shapes in [(1, [(2, 3, 4), (2, 5, 4)]), (-1, [(2, 3, 4), (2, 3, 1), (2, 3, 2)]),
                       (0, [(1, 3, 4), (2, 3, 4)]), (2, [(2, 3, 4, 5), (2, 3, 1, 5)])]:
    add(f"Concat-axis{_axis}-{len(_shapes)}in", lambda rng, a=_axis, s=_shapes: single(
        "Concat", {f"x{i}": randn(rng, *sh) for i, sh in enumerate(s)}, attrs=dict(axis=a)))
add("Concat-with_const", lambda rng: single("Concat", {"x": randn(rng, 2, 3, 4)}, {"c": randn(rng, 2, 2, 4)},
                                            attrs=dict(axis=1)))
add("Concat-opset8", lambda rng: single("Concat", {"a": randn(rng, 2, 3), "b": randn(rng, 2, 4)},
                                        attrs=dict(axis=1), opset=8))


def _split(opset, axis, split, n_out, shape=(2, 6, 5), as_input=False, num_outputs=None):
    def fn(rng):
        attrs = dict(axis=axis)
        inits = {}
        if split is not None:
            if as_input:
                inits["split"] = i64(*split)
            else:
                attrs["split"] = list(split)
        if num_outputs is not None:
            attrs["num_outputs"] = num_outputs
        return single("Split", {"x": randn(rng, *shape)}, inits, attrs, opset=opset, n_out=n_out)
    return fn


add("Split-equal-opset11", _split(11, 1, None, 3))
add("Split-attr_sizes-opset11", _split(11, 1, [2, 4], 2))
add("Split-attr_sizes_neg_axis-opset11", _split(11, -1, [1, 3, 1], 3))
add("Split-input_sizes-opset13", _split(13, 1, [1, 2, 3], 3, as_input=True))
add("Split-equal-opset13", _split(13, 2, None, 5))
add("Split-num_outputs-opset18", _split(18, 1, None, 3, num_outputs=3))
add("Split-num_outputs_uneven-opset18", _split(18, 2, None, 3, num_outputs=3))
add("Split-equal-opset8", _split(8, 1, None, 2))


def _slice(opset, starts, ends, axes=None, steps=None, shape=(4, 6, 7)):
    def fn(rng):
        x = randn(rng, *shape)
        if opset < 10:
            attrs = dict(starts=starts, ends=ends)
            if axes is not None:
                attrs["axes"] = axes
            return single("Slice", {"x": x}, attrs=attrs, opset=opset)
        inits = {"starts": i64(*starts), "ends": i64(*ends)}
        order = ["x", "starts", "ends"]
        if axes is not None:
            inits["axes"] = i64(*axes)
            order.append("axes")
        if steps is not None:
            if axes is None:
                order.append("")
            inits["steps"] = i64(*steps)
            order.append("steps")
        return single("Slice", {"x": x}, inits, opset=opset, order=order)
    return fn


add("Slice-attrs-opset9", _slice(9, [1, 0], [3, 4], axes=[0, 2]))
add("Slice-attrs_noaxes-opset9", _slice(9, [1, 2, 0], [3, 5, -1]))
add("Slice-basic-opset13", _slice(13, [1, 2], [3, 5], axes=[0, 1]))
add("Slice-noaxes-opset10", _slice(10, [0, 1, 2], [4, 5, 6]))
add("Slice-negative_starts", _slice(13, [-3], [I64_MAX], axes=[2]))
add("Slice-step2", _slice(13, [0, 1], [6, 7], axes=[1, 2], steps=[2, 3]))
add("Slice-negative_step", _slice(13, [-1], [-I64_MAX], axes=[1], steps=[-1]))
add("Slice-negative_step2_clamped", _slice(13, [10, 5], [-100, 0], axes=[2, 1], steps=[-2, -2]))
add("Slice-negative_axes", _slice(13, [1], [-1], axes=[-1]))
add("Slice-opset11_steps_noaxes", _slice(11, [0, 0, 1], [4, 6, 7], steps=[1, 2, 2]))


def _pad(opset, pads, mode="constant", value=None, shape=(2, 3, 5, 6), axes=None):
    def fn(rng):
        x = randn(rng, *shape)
        if opset < 11:
            attrs = dict(pads=pads, mode=mode)
            if value is not None:
                attrs["value"] = value
            return single("Pad", {"x": x}, attrs=attrs, opset=opset)
        inits = {"pads": i64(*pads)}
        order = ["x", "pads"]
        if value is not None:
            inits["value"] = np.array(value, f32)
            order.append("value")
        if axes is not None:
            if value is None:
                order.append("")
            inits["axes"] = i64(*axes)
            order.append("axes")
        return single("Pad", {"x": x}, inits, dict(mode=mode), opset=opset, order=order)
    return fn


add("Pad-constant-opset8", _pad(8, [0, 0, 1, 2, 0, 0, 2, 1], value=1.5))
add("Pad-reflect-opset9", _pad(9, [0, 0, 1, 2, 0, 0, 2, 1], mode="reflect"))
add("Pad-constant_zero-opset11", _pad(11, [0, 0, 1, 1, 0, 0, 1, 1]))
add("Pad-constant_value-opset13", _pad(13, [0, 1, 2, 0, 0, 0, 1, 3], value=-2.0))
add("Pad-reflect-opset13", _pad(13, [0, 0, 2, 1, 0, 0, 1, 2], mode="reflect"))
add("Pad-edge-opset13", _pad(13, [0, 0, 2, 1, 0, 0, 1, 2], mode="edge"))
add("Pad-negative_crop-opset13", _pad(13, [0, 0, -1, 1, 0, 0, 1, -2]))
add("Pad-axes-opset18", _pad(18, [1, 2, 2, 1], axes=[2, 3]))
add("Pad-axes_neg-opset19", _pad(19, [1, 1], mode="edge", axes=[-1]))
add("Pad-opset21", _pad(21, [0, 0, 1, 1, 0, 0, 1, 1], value=0.5))

# ---------------------------------------------------------------------------------------------------------------
# Resize and Upsample


def _resize(opset, mode, scales=None, sizes=None, ctm=None, nearest_mode=None, shape=(2, 3, 5, 6), extra=None):
    def fn(rng):
        attrs = dict(mode=mode)
        if ctm:
            attrs["coordinate_transformation_mode"] = ctm
        if nearest_mode:
            attrs["nearest_mode"] = nearest_mode
        attrs.update(extra or {})
        x = randn(rng, *shape)
        if opset == 10:
            return single("Resize", {"x": x}, {"scales": np.array(scales, f32)}, attrs, opset=10)
        inits = {}
        order = ["x", ""]
        if opset < 13:
            inits["roi"] = np.array([], f32)
            order = ["x", "roi"]
        if scales is not None:
            inits["scales"] = np.array(scales, f32)
            order.append("scales")
        else:
            if opset < 13:
                inits["scales"] = np.array([], f32)
                order.append("scales")
            else:
                order.append("")
            inits["sizes"] = i64(*sizes)
            order.append("sizes")
        return single("Resize", {"x": x}, inits, attrs, opset=opset, order=order)
    return fn


add("Resize-nearest_x2-opset10", _resize(10, "nearest", scales=[1, 1, 2, 2]))
add("Resize-linear_x2-opset10", _resize(10, "linear", scales=[1, 1, 2, 2]))
for _opset in (11, 13, 19):
    add(f"Resize-nearest_x2_asym_floor-opset{_opset}", _resize(_opset, "nearest", scales=[1, 1, 2, 2],
                                                                 ctm="asymmetric", nearest_mode="floor"))
    add(f"Resize-linear_x2_half_pixel-opset{_opset}", _resize(_opset, "linear", scales=[1, 1, 2, 2], ctm="half_pixel"))
for _ctm in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"):
    add(f"Resize-linear_sizes-{_ctm}", _resize(13, "linear", sizes=[2, 3, 9, 13], ctm=_ctm))
    add(f"Resize-linear_down-{_ctm}", _resize(13, "linear", scales=[1, 1, 0.5, 0.5], ctm=_ctm, shape=(1, 2, 8, 10)))
for _nm in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"):
    add(f"Resize-nearest_x3-{_nm}", _resize(13, "nearest", scales=[1, 1, 3, 3], ctm="half_pixel", nearest_mode=_nm))
    add(f"Resize-nearest_sizes-{_nm}", _resize(13, "nearest", sizes=[2, 3, 7, 11], nearest_mode=_nm))
add("Resize-nearest_x2_default-opset13", _resize(13, "nearest", scales=[1, 1, 2, 2]))
add("Resize-nearest_x1.5_asym", _resize(13, "nearest", scales=[1, 1, 1.5, 1.5], ctm="asymmetric", nearest_mode="floor"))
add("Resize-linear_x2_align_corners-opset11", _resize(11, "linear", scales=[1, 1, 2, 2], ctm="align_corners"))
add("Resize-nearest_x2-opset18_keep_ratio", _resize(18, "nearest", sizes=[9, 13], ctm="asymmetric", nearest_mode="floor",
                                                    extra=dict(axes=[2, 3], keep_aspect_ratio_policy="stretch")))

for _mode in ("nearest", "linear"):
    add(f"Upsample-{_mode}-opset9", lambda rng, m=_mode: single(
        "Upsample", {"x": randn(rng, 2, 3, 4, 5)}, {"scales": np.array([1, 1, 2, 2], f32)}, dict(mode=m), opset=9))
add("Upsample-nearest_x3x2-opset9", lambda rng: single(
    "Upsample", {"x": randn(rng, 1, 2, 3, 4)}, {"scales": np.array([1, 1, 3, 2], f32)}, dict(mode="nearest"), opset=9))

for _mode in ("DCR", "CRD"):
    add(f"DepthToSpace-{_mode}", lambda rng, m=_mode: single(
        "DepthToSpace", {"x": randn(rng, 2, 8, 3, 4)}, attrs=dict(blocksize=2, mode=m)))
add("DepthToSpace-opset11_default", lambda rng: single("DepthToSpace", {"x": randn(rng, 1, 18, 2, 2)},
                                                       attrs=dict(blocksize=3), opset=11))

# ---------------------------------------------------------------------------------------------------------------
# Softmax, reductions

for _op in ("Softmax", "LogSoftmax"):
    add(f"{_op}-opset11_axis1_4d", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 3, 4, 5, scale=3)},
                                                           attrs=dict(axis=1), opset=11))
    add(f"{_op}-opset11_default_2d", lambda rng, o=_op: single(o, {"x": randn(rng, 4, 1000, scale=3)}, opset=11))
    add(f"{_op}-opset13_default", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 3, 4, 5, scale=3)}, opset=13))
    add(f"{_op}-opset13_axis1_4d", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 3, 4, 5, scale=3)},
                                                           attrs=dict(axis=1), opset=13))
    add(f"{_op}-opset13_axis0", lambda rng, o=_op: single(o, {"x": randn(rng, 3, 4, scale=3)}, attrs=dict(axis=0)))
    add(f"{_op}-large_values", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 10, scale=100)}, opset=13))
    add(f"{_op}-opset8", lambda rng, o=_op: single(o, {"x": randn(rng, 2, 10, scale=3)}, opset=8))


def _reduce(op, opset, axes, keepdims=1, shape=(2, 3, 4, 5), noop=None):
    def fn(rng):
        attrs = dict(keepdims=keepdims)
        if noop is not None:
            attrs["noop_with_empty_axes"] = noop
        inits = {}
        attr_axes_until = 13 if op == "ReduceSum" else 18
        if axes is not None:
            if opset < attr_axes_until:
                attrs["axes"] = axes
            else:
                inits["axes"] = i64(*axes)
        return single(op, {"x": randn(rng, *shape)}, inits, attrs, opset=opset)
    return fn


for _op in ("ReduceMean", "ReduceSum", "ReduceMax"):
    for _opset in (11, 13, 18):
        add(f"{_op}-hw_keep-opset{_opset}", _reduce(_op, _opset, [2, 3]))
    add(f"{_op}-axis1_nokeep", _reduce(_op, 13, [1], keepdims=0))
    add(f"{_op}-neg_axis", _reduce(_op, 13, [-1]))
    add(f"{_op}-all", _reduce(_op, 13, None))
    add(f"{_op}-all_nokeep-opset18", _reduce(_op, 18, None, keepdims=0))
add("ReduceMean-axes02_nokeep-opset18", _reduce("ReduceMean", 18, [0, 2], keepdims=0))
add("ReduceMean-large_hw", _reduce("ReduceMean", 13, [2, 3], shape=(1, 32, 56, 56)))

# ---------------------------------------------------------------------------------------------------------------
# squeeze/unsqueeze, shape computation, gather, constants, cast


def _squeeze(op, opset, axes, shape):
    def fn(rng):
        if axes is None:
            return single(op, {"x": randn(rng, *shape)}, opset=opset)
        if opset < 13:
            return single(op, {"x": randn(rng, *shape)}, attrs=dict(axes=axes), opset=opset)
        return single(op, {"x": randn(rng, *shape)}, {"axes": i64(*axes)}, opset=opset)
    return fn


for _opset in (11, 13, 21):
    add(f"Squeeze-axes-opset{_opset}", _squeeze("Squeeze", _opset, [1, 3], (2, 1, 4, 1)))
    add(f"Unsqueeze-axes-opset{_opset}", _squeeze("Unsqueeze", _opset, [0, 3], (2, 3, 4)))
add("Squeeze-no_axes", _squeeze("Squeeze", 13, None, (1, 3, 1, 5)))
add("Squeeze-neg_axis", _squeeze("Squeeze", 13, [-1], (2, 3, 1)))
add("Unsqueeze-neg_axes", _squeeze("Unsqueeze", 13, [-1, 1], (2, 3)))
add("Squeeze-opset9", _squeeze("Squeeze", 9, [2], (2, 3, 1, 4)))
add("Unsqueeze-opset9", _squeeze("Unsqueeze", 9, [1], (2, 3)))


def _flatten_by_shape(opset):
    """The exporter's flatten pattern: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))."""
    def fn(rng):
        unsq = (N("Unsqueeze", ["n"], ["n1"], axes=[0]) if opset < 13 else N("Unsqueeze", ["n", "ax0"], ["n1"]))
        nodes = [N("Shape", ["x"], ["s"]), N("Gather", ["s", "zero"], ["n"], axis=0), unsq,
                 N("Concat", ["n1", "minus1"], ["shape"], axis=0), N("Reshape", ["x", "shape"], ["y"])]
        inits = {"zero": np.array(0, np.int64), "minus1": i64(-1)}
        if opset >= 13:
            inits["ax0"] = i64(0)
        return chain(nodes, {"x": randn(rng, 2, 3, 4, 5)}, inits, opset=opset)
    return fn


add("Shape-Gather-Reshape-opset11", _flatten_by_shape(11))
add("Shape-Gather-Reshape-opset13", _flatten_by_shape(13))
add("Shape-start_end-opset15", lambda rng: chain(
    [N("Shape", ["x"], ["s"], start=2), N("ConstantOfShape", ["s"], ["c"],
                                          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
     N("Add", ["x", "c"], ["y"])], {"x": randn(rng, 2, 3, 4, 5)}, opset=15))
add("Shape-int64_output", lambda rng: single("Shape", {"x": randn(rng, 2, 3, 4)}, out_dtype=np.int64))
add("Size-Cast-Mul", lambda rng: chain(
    [N("Size", ["x"], ["n"]), N("Cast", ["n"], ["nf"], to=TensorProto.FLOAT), N("Mul", ["x", "nf"], ["y"])],
    {"x": randn(rng, 2, 3, 4)}))
add("ConstantOfShape-Mul", lambda rng: chain(
    [N("Shape", ["x"], ["s"]), N("ConstantOfShape", ["s"], ["c"],
                                 value=helper.make_tensor("v", TensorProto.FLOAT, [1], [2.5])),
     N("Mul", ["x", "c"], ["y"])], {"x": randn(rng, 2, 3, 4)}))
add("ConstantOfShape-default_zero-opset9", lambda rng: chain(
    [N("ConstantOfShape", ["shape"], ["c"]), N("Add", ["x", "c"], ["y"])],
    {"x": randn(rng, 2, 3, 4)}, {"shape": i64(2, 3, 4)}, opset=9))
add("Constant-tensor", lambda rng: chain(
    [N("Constant", [], ["c"], value=helper.make_tensor("v", TensorProto.FLOAT, [3, 1], [1.0, -2.0, 0.5])),
     N("Mul", ["x", "c"], ["y"])], {"x": randn(rng, 2, 3, 4)}))
add("Constant-value_float-opset13", lambda rng: chain(
    [N("Constant", [], ["c"], value_float=0.25), N("Add", ["x", "c"], ["y"])], {"x": randn(rng, 2, 3)}))
add("Constant-value_ints-opset13", lambda rng: chain(
    [N("Constant", [], ["shape"], value_ints=[3, 8]), N("Reshape", ["x", "shape"], ["y"])], {"x": randn(rng, 2, 3, 4)}))
add("Constant-opset9", lambda rng: chain(
    [N("Constant", [], ["c"], value=helper.make_tensor("v", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])),
     N("Sub", ["x", "c"], ["y"])], {"x": randn(rng, 2, 3, 4)}, opset=9))


def _gather(axis, data_shape, indices, const_data=False, opset=13):
    def fn(rng):
        data = randn(rng, *data_shape)
        idx = np.array(indices, np.int64)
        if const_data:
            return single("Gather", {"idx": idx}, {"data": data}, dict(axis=axis), opset=opset, order=["data", "idx"])
        return single("Gather", {"data": data}, {"idx": idx}, dict(axis=axis), opset=opset)
    return fn


add("Gather-axis0", _gather(0, (5, 3, 4), [0, 4, 2, 2]))
add("Gather-axis1_2d_indices", _gather(1, (2, 5, 4), [[0, 1], [4, 3], [2, 2]]))
add("Gather-negative_indices", _gather(-1, (2, 3, 6), [-1, 0, -6]))
add("Gather-scalar_index", _gather(1, (2, 5, 4), 3))
add("Gather-embedding_runtime_indices", _gather(0, (10, 8), [[1, 9, 0], [3, 3, 7]], const_data=True))
add("Gather-opset11", _gather(0, (5, 3), [4, 0], opset=11))


def _cast_roundtrip(to):
    def fn(rng):
        return chain([N("Cast", ["x"], ["c"], to=to), N("Cast", ["c"], ["y"], to=TensorProto.FLOAT)],
                     {"x": randn(rng, 3, 4, 5, scale=4)})
    return fn


add("Cast-int32-roundtrip", _cast_roundtrip(TensorProto.INT32))
add("Cast-int64-roundtrip", _cast_roundtrip(TensorProto.INT64))
add("Cast-bool-roundtrip", _cast_roundtrip(TensorProto.BOOL))
add("Cast-float-noop", lambda rng: single("Cast", {"x": randn(rng, 3, 4)}, attrs=dict(to=TensorProto.FLOAT)))
add("Cast-to_int64_output", lambda rng: single("Cast", {"x": randn(rng, 3, 4, scale=5)},
                                               attrs=dict(to=TensorProto.INT64), out_dtype=np.int64))
add("Cast-opset9", lambda rng: chain([N("Cast", ["x"], ["c"], to=TensorProto.INT32),
                                      N("Cast", ["c"], ["y"], to=TensorProto.FLOAT)],
                                     {"x": randn(rng, 3, 4, scale=4)}, opset=9))

add("Dropout-opset7", lambda rng: single("Dropout", {"x": randn(rng, 2, 3, 4)}, attrs=dict(ratio=0.3), opset=7))
add("Dropout-opset10", lambda rng: single("Dropout", {"x": randn(rng, 2, 3, 4)}, opset=10))
add("Dropout-ratio_input-opset13", lambda rng: single("Dropout", {"x": randn(rng, 2, 3, 4)},
                                                      {"r": np.array(0.5, f32)}, opset=13))
add("Dropout-opset12-in_chain", lambda rng: chain(
    [N("Relu", ["x"], ["r"]), N("Dropout", ["r"], ["d"]), N("Sigmoid", ["d"], ["y"])], {"x": randn(rng, 2, 8)}, opset=12))
add("Identity-in_chain", lambda rng: chain(
    [N("Identity", ["x"], ["i"]), N("Relu", ["i"], ["r"]), N("Identity", ["r"], ["y"])], {"x": randn(rng, 2, 8)}))

add("Expand-bcast", lambda rng: single("Expand", {"x": randn(rng, 3, 1)}, {"shape": i64(2, 3, 4)}))
add("Expand-smaller_shape", lambda rng: single("Expand", {"x": randn(rng, 2, 3, 4)}, {"shape": i64(3, 1)}))
add("Expand-opset8", lambda rng: single("Expand", {"x": randn(rng, 1, 4)}, {"shape": i64(3, 4)}, opset=8))
add("Tile", lambda rng: single("Tile", {"x": randn(rng, 2, 3, 4)}, {"r": i64(1, 2, 3)}))
add("Tile-4d", lambda rng: single("Tile", {"x": randn(rng, 1, 2, 3, 2)}, {"r": i64(2, 1, 2, 1)}))
add("Range-Add", lambda rng: chain(
    [N("Range", ["start", "limit", "delta"], ["r"]), N("Add", ["x", "r"], ["y"])],
    {"x": randn(rng, 2, 5)}, {"start": np.array(1.0, f32), "limit": np.array(3.5, f32), "delta": np.array(0.5, f32)}))

# a few small chains that mix families (what an exporter produces between the big ops)
add("Chain-Conv-BN-Relu-MaxPool", lambda rng: chain(
    [N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
     N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"]), N("Relu", ["n"], ["r"]),
     N("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
    {"x": randn(rng, 2, 3, 8, 8)},
    {"w": randn(rng, 4, 3, 3, 3, scale=0.5), "b": randn(rng, 4), "s": positive(rng, 4), "bb": randn(rng, 4),
     "m": randn(rng, 4), "v": positive(rng, 4)}))
add("Chain-Conv-Sigmoid-Mul(SiLU)", lambda rng: chain(
    [N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), N("Sigmoid", ["c"], ["s"]), N("Mul", ["c", "s"], ["y"])],
    {"x": randn(rng, 2, 4, 5, 5)}, {"w": randn(rng, 6, 4, 1, 1)}))
add("Chain-GAP-Flatten-Gemm-Softmax", lambda rng: chain(
    [N("GlobalAveragePool", ["x"], ["g"]), N("Flatten", ["g"], ["f"]),
     N("Gemm", ["f", "w", "b"], ["l"], transB=1), N("Softmax", ["l"], ["y"], axis=1)],
    {"x": randn(rng, 2, 16, 4, 4)}, {"w": randn(rng, 10, 16), "b": randn(rng, 10)}))
add("Chain-two_outputs", lambda rng: chain(
    [N("Relu", ["x"], ["y"]), N("Neg", ["y"], ["z"])], {"x": randn(rng, 3, 4)}, outputs=("y", "z")))
add("Chain-input_is_output_of_two_consumers", lambda rng: chain(
    [N("Relu", ["x"], ["r"]), N("Sigmoid", ["x"], ["s"]), N("Add", ["r", "s"], ["y"])], {"x": randn(rng, 3, 4)}))

# ---------------------------------------------------------------------------------------------------------------
# QuantizeLinear / DequantizeLinear: exact integer agreement with onnxruntime (half-to-even rounding, saturation)

i8, u8 = np.int8, np.uint8


def _halves(rng, *shape, scale=0.05):
    """Values that land exactly on .5 steps of the scale, plus saturating outliers: rounding and clamping both show."""
    v = np.round(rng.standard_normal(shape) * 40) / 2 * scale
    v.flat[::7] *= 20
    return v.astype(f32)


add("QuantizeLinear-int8_per_tensor", lambda rng: single(
    "QuantizeLinear", {"x": _halves(rng, 2, 3, 5, 5)}, {"s": np.array(0.05, f32), "z": np.array(0, i8)},
    out_dtype=i8))
add("QuantizeLinear-uint8_zero_point", lambda rng: single(
    "QuantizeLinear", {"x": _halves(rng, 4, 6)}, {"s": np.array(0.05, f32), "z": np.array(120, u8)}, out_dtype=u8))
add("QuantizeLinear-no_zero_point_uint8", lambda rng: single(
    "QuantizeLinear", {"x": np.abs(_halves(rng, 4, 6))}, {"s": np.array(0.1, f32)}, out_dtype=u8))
add("QuantizeLinear-per_axis0", lambda rng: single(
    "QuantizeLinear", {"x": _halves(rng, 4, 3, 3, 3)}, {"s": positive(rng, 4, low=0.01, high=0.1),
                                                          "z": np.zeros(4, i8)}, attrs=dict(axis=0), out_dtype=i8))
add("QuantizeLinear-per_axis1_default", lambda rng: single(
    "QuantizeLinear", {"x": _halves(rng, 2, 5, 3)}, {"s": positive(rng, 5, low=0.01, high=0.1),
                                                       "z": np.array([0, 3, -4, 10, -128], i8)}, out_dtype=i8))
add("DequantizeLinear-int8", lambda rng: single(
    "DequantizeLinear", {"x": rng.integers(-128, 128, (2, 3, 4), dtype=i8)},
    {"s": np.array(0.02, f32), "z": np.array(-3, i8)}))
add("DequantizeLinear-uint8_per_axis", lambda rng: single(
    "DequantizeLinear", {"x": rng.integers(0, 256, (3, 4, 2), dtype=u8)},
    {"s": positive(rng, 4, low=0.01, high=0.1), "z": rng.integers(0, 256, 4, dtype=u8)}, attrs=dict(axis=1)))
add("DequantizeLinear-int32_bias", lambda rng: single(
    "DequantizeLinear", {"x": rng.integers(-5000, 5000, (6,), dtype=np.int32)}, {"s": np.array(0.001, f32)}))
add("QDQ-Conv-QDQ", lambda rng: chain(
    [N("QuantizeLinear", ["x", "sx", "zx"], ["xq"]), N("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
     N("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], axis=0),
     N("Conv", ["xd", "wd", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["y"])],
    {"x": randn(rng, 2, 4, 6, 6)},
    {"sx": np.array(0.03, f32), "zx": np.array(0, i8), "wq": rng.integers(-127, 128, (5, 4, 3, 3), dtype=i8),
     "sw": positive(rng, 5, low=0.001, high=0.01), "zw": np.zeros(5, i8), "b": randn(rng, 5)}))
