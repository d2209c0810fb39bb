"""Int8 convolutions on the cuda backend (QConv lowered from DequantizeLinear -> Conv -> QuantizeLinear): ungrouped
convolutions between int8 tensors run as int8 kernels (cuDNN graph API, a cuBLASLt int8 GEMM or the direct dp4a form,
whichever the build timed fastest) and give the quantized tensors onnxruntime and the cpu backend's int8 plan give,
within one quantization step; the graph-API form and the CUTLASS convolution, fixed through the timing cache, do so
on 3x3, strided and residual convolutions, and plans keep their tactics. Skipped without a GPU."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import trtcore
from conftest import build_engine, ort_run

pytestmark = pytest.mark.gpu

S_IN, S_MID, S_OUT = 0.05, 0.04, 0.03


class _QdqNet:
    """Builds a Q/DQ ONNX graph in TensorRT's explicit-quantization form: int8 weights per output channel, zero
    points 0, seeded values (each call draws from one generator in order, so a seed fixes the whole model)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []

    def const(self, name, a):
        self.inits.append(onnx.numpy_helper.from_array(np.asarray(a), name))
        return name

    def qdq(self, src, scale, tag):
        s, z = self.const("s_" + tag, np.array(scale, np.float32)), self.const("z_" + tag, np.array(0, np.int8))
        self.nodes.append(helper.make_node("QuantizeLinear", [src, s, z], ["q_" + tag]))
        self.nodes.append(helper.make_node("DequantizeLinear", ["q_" + tag, s, z], ["dq_" + tag]))
        return "dq_" + tag

    def weights(self, tag, k, cin_per_group, r, gain):
        w = self.rng.integers(-127, 128, (k, cin_per_group, r, r)).astype(np.int8)
        ws = (self.rng.uniform(0.5, 1.5, k) * gain / np.sqrt(cin_per_group * r * r)).astype(np.float32)
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const("wq_" + tag, w), self.const("ws_" + tag, ws),
                                                                self.const("wz_" + tag, np.zeros(k, np.int8))],
                                           ["w_" + tag], axis=0))
        return "w_" + tag

    def conv(self, tag, src, k, cin_per_group, r, **attrs):
        """conv_<tag>: Conv(src, int8 weights, float bias) -> c_<tag>."""
        w = self.weights(tag, k, cin_per_group, r, 0.06)
        b = self.const("b_" + tag, (self.rng.standard_normal(k) * 0.1).astype(np.float32))
        self.nodes.append(helper.make_node("Conv", [src, w, b], ["c_" + tag], name="conv_" + tag, **attrs))
        return "c_" + tag

    def model(self, name, y, x_shape, batch_dim=None):
        """The graph x -> ... -> y (Identity of `y`) and a seeded input of x_shape."""
        self.nodes.append(helper.make_node("Identity", [y], ["y"]))
        dims = [batch_dim if batch_dim is not None else x_shape[0]] + list(x_shape[1:])
        g = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], self.inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        return model, (self.rng.standard_normal(x_shape) * 2).astype(np.float32)


def _pointwise_chain(batch, c, mid, out, size, seed, activation="Relu", middle=False):
    """x -> Q -> DQ -> Conv1x1(+bias) -> act -> Q -> DQ -> Conv1x1 -> Clip(0, 6) -> Q -> DQ -> y, weights int8 per
    output channel, zero points 0 (TensorRT's explicit-quantization form). With `middle`, a Conv1x1(mid -> mid, +bias,
    no activation) named conv_mid sits between the two, reading and writing int8 tensors that stay NHWC (the first
    convolution reads the graph input's quantization and the last writes the output's, which may stay NCHW)."""
    net = _QdqNet(seed)
    N, rng = helper.make_node, net.rng
    a = net.qdq("x", S_IN, "in")
    bias = net.const("b1", (rng.standard_normal(mid) * 0.1).astype(np.float32))
    net.nodes.append(N("Conv", [a, net.weights("1", mid, c, 1, 0.02), bias], ["c1"]))
    net.nodes.append(N(activation, ["c1"], ["a1"]))
    b = net.qdq("a1", S_MID, "mid")
    if middle:
        bias_mid = net.const("b_mid", (rng.standard_normal(mid) * 0.1).astype(np.float32))
        net.nodes.append(N("Conv", [b, net.weights("mid", mid, mid, 1, 0.02), bias_mid], ["c_mid"], name="conv_mid"))
        b = net.qdq("c_mid", S_MID, "mid2")
    net.nodes.append(N("Conv", [b, net.weights("2", out, mid, 1, 0.02)], ["c2"]))
    lo, hi = net.const("lo", np.array(0, np.float32)), net.const("hi", np.array(6, np.float32))
    net.nodes.append(N("Clip", ["c2", lo, hi], ["a2"]))
    return net.model("pointwise_int8", net.qdq("a2", S_OUT, "out"), (batch, c, size, size))


def _steps(a, b, scale):
    """Largest difference in quantization steps and the share of elements that differ at all."""
    d = np.abs(np.rint(a / scale) - np.rint(b / scale))
    return float(d.max()), float(np.mean(d > 0))


def _assert_near(got, ref, cpu, scale, bound, *what):
    """The share of outputs that moved by a quantization step against onnxruntime and the cpu int8 plan is below
    `bound` (a wrong kernel moves most of them; a near-tie rounded the other way moves a few)."""
    for ref_what, want in (("onnxruntime", ref), ("cpu int8 plan", cpu)):
        worst, share = _steps(got, want, scale)
        assert share < bound, (*what, ref_what, worst, share)


def _round_trip(engine, path, x):
    """Saves the plan and loads it again: the same tactics and the same output. Returns the loaded engine."""
    engine.save(str(path))
    loaded = trtcore.Engine(str(path))
    assert [la.tactic for la in loaded.layers] == [la.tactic for la in engine.layers]
    np.testing.assert_array_equal(loaded.infer({"x": x})["y"], engine.infer({"x": x})["y"])
    return loaded


@pytest.mark.parametrize("strict", [True, False], ids=["fp32_nchw", "tf32_nhwc"])
@pytest.mark.parametrize("shape", [(2, 16, 24, 12, 10), (8, 64, 128, 64, 28)], ids=["small", "large"])
def test_pointwise_int8_convs_match_onnxruntime_and_cpu(tmp_path, shape, strict):
    batch, c, mid, out, size = shape
    model, x = _pointwise_chain(batch, c, mid, out, size, seed=sum(shape))
    ref = ort_run(model, {"x": x})["y"]
    cuda = build_engine(model, tmp_path, name="cuda", backend="cuda", strict_fp32=strict)
    layers = {layer.op: layer for layer in cuda.layers}
    assert sum(layer.op.startswith("QConv") for layer in cuda.layers) == 2, [lay.op for lay in cuda.layers]
    tactics = sorted({layer.tactic for layer in cuda.layers if layer.op.startswith("QConv")})
    assert all(t == "i8-direct" or t.startswith(("i8-lt:", "i8-graph:e", "i8-cutlass:")) for t in tactics), tactics
    assert all(layer.precision == "int8" for op, layer in layers.items() if op.startswith("QConv"))
    got = cuda.infer({"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    for what, want in (("onnxruntime", ref), ("cpu int8 plan", cpu)):
        worst, share = _steps(got, want, S_OUT)
        assert worst <= 1 and share < 0.02, (what, tactics, worst, share)


def test_pointwise_int8_plan_round_trip_keeps_the_tactics(tmp_path):
    model, x = _pointwise_chain(8, 64, 128, 64, 28, seed=3)
    engine = build_engine(model, tmp_path, backend="cuda", strict_fp32=False)
    path = str(tmp_path / "p.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert [(la.op, la.tactic) for la in loaded.layers] == [(la.op, la.tactic) for la in engine.layers]
    np.testing.assert_array_equal(loaded.infer({"x": x})["y"], engine.infer({"x": x})["y"])


def _spatial_chain(batch, size, seed, residual=False, dynamic=False):
    """x -> Q/DQ -> Conv3x3(16->32)+Relu -> Q/DQ -> Conv3x3 stride 2 (32->32)+Relu -> Q/DQ (a) ->
    Conv1x1(32->32) [+ a] -> Relu -> Q/DQ -> Conv3x3(32->16) -> Q/DQ -> Conv1x1(16->16) -> Q/DQ -> y: the forms a
    ResNet's int8 layers take (with `residual`, the 1x1 convolution adds a)."""
    net = _QdqNet(seed)
    N, qdq, conv = helper.make_node, net.qdq, net.conv
    a = qdq("x", 0.05, "in")
    net.nodes.append(N("Relu", [conv("1", a, 32, 16, 3, pads=[1, 1, 1, 1])], ["r1"]))
    net.nodes.append(N("Relu", [conv("2", qdq("r1", 0.04, "m1"), 32, 32, 3, pads=[1, 1, 1, 1], strides=[2, 2])],
                       ["r2"]))
    skip = qdq("r2", 0.04, "m2")
    if residual:
        net.nodes.append(N("Add", [conv("3", skip, 32, 32, 1), skip], ["s3"]))
        net.nodes.append(N("Relu", ["s3"], ["r3"]))
    else:
        net.nodes.append(N("Relu", [conv("3", skip, 32, 32, 1)], ["r3"]))
    y = qdq(conv("5", qdq(conv("4", qdq("r3", 0.05, "m3"), 16, 32, 3, pads=[1, 1, 1, 1]), 0.05, "m4"), 16, 16, 1),
            0.03, "out")
    return net.model("spatial_int8", y, (batch, 16, size, size), "N" if dynamic else None)


def _force_qconv_tactics(cache, tactic):
    lines = cache.read_text().splitlines()
    out = [lines[0]] + [k + "\t" + (tactic if k.startswith("QConv") else t)
                        for k, t in (line.split("\t") for line in lines[1:])]
    cache.write_text("\n".join(out) + "\n")


@pytest.mark.parametrize("batch,size", [(2, 16), (16, 32)])
def test_graph_int8_convs_match_onnxruntime_and_cpu(tmp_path, batch, size):
    model, x = _spatial_chain(batch, size, seed=batch + size, dynamic=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu", batch=batch).infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache), batch=batch)
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    assert sum(la.op.startswith("QConv") for la in tuned.layers) == 5, [la.op for la in tuned.layers]
    _force_qconv_tactics(cache, "i8-graph:heuristic")
    forced = build_engine(model, tmp_path, name="forced", **opts)
    tactics = {la.name: la.tactic for la in forced.layers if la.op.startswith("QConv")}
    # conv_1 reads the quantized graph input and conv_5 writes the one before the output, which may stay NCHW;
    # conv_2, conv_3 and conv_4 read and write NHWC int8 tensors
    graph = {n for n, t in tactics.items() if t.startswith("i8-graph:e")}
    assert {"conv_2", "conv_3", "conv_4"} <= graph, tactics
    # five int8 layers deep: the GPU's epilogue rounds a rare near-tie the other way (FMA contraction), and the layers
    # after it carry that one step on, so a handful of outputs may move by several steps (H200: 7 steps on 0.03% of
    # them against the cpu plan); a wrong kernel moves most of them, so the share is what is checked
    for engine, what in ((tuned, "tuned"), (forced, "graph-API")):
        got = engine.infer({"x": x})["y"]
        _assert_near(got, ref, cpu, 0.03, 0.002, what, tactics)
    loaded = _round_trip(forced, tmp_path / "forced.plan", x)
    # a smaller batch than the plan's runs the same configuration planned for that batch
    worst, _ = _steps(loaded.infer({"x": x[:1]})["y"], forced.infer({"x": x})["y"][:1], 0.03)
    assert worst <= 1, worst


@pytest.mark.parametrize("tactic", ["tuned", "i8-direct", "i8-lt:h0", "i8-graph:heuristic"])
def test_residual_convolution_runs_int8_with_its_skip_connection(tmp_path, tactic):
    """The 1x1 convolution that adds the skip connection reads the skip tensor in its int8 form (the Add's Q/DQ pair
    is the one the convolution's own input has) and writes int8: every convolution of the chain is an int8 layer,
    with no DequantizeLinear left, and the output is onnxruntime's and the cpu int8 plan's within the share of
    near-ties the other tests allow, whichever form runs it (the int8 GEMM adds the skip tensor as its C operand;
    the graph form may find no engine for it and then runs the direct form)."""
    model, x = _spatial_chain(4, 16, seed=7, residual=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache))
    engine = build_engine(model, tmp_path, name="tuned", **opts)
    if tactic != "tuned":
        _force_qconv_tactics(cache, tactic)
        engine = build_engine(model, tmp_path, name="forced", **opts)
    layers = {la.name: la for la in engine.layers}
    assert layers["conv_3"].op == "QConv+Add+Relu" and layers["conv_3"].precision == "int8", layers["conv_3"]
    assert sum(la.op.startswith("QConv") for la in engine.layers) == 5, [la.op for la in engine.layers]
    # the only float tensor left is the graph output's dequantization
    assert [la.op for la in engine.layers].count("DequantizeLinear") == 1, [la.op for la in engine.layers]
    chosen = layers["conv_3"].tactic
    if tactic in ("i8-direct", "i8-lt:h0"):
        assert chosen.startswith(tactic.split(":")[0]), chosen
    got = engine.infer({"x": x})["y"]
    _assert_near(got, ref, cpu, 0.03, 0.002, tactic, chosen)
    _round_trip(engine, tmp_path / "residual.plan", x)
    worst, share = _steps(got, ref, 0.03)
    print("residual conv_3 %s -> %s: %d steps at most, %.4f%% differ from onnxruntime" % (tactic, chosen, worst,
                                                                                          100 * share))


CUTLASS_CONFIGS = ["128x256x128_1x1", "128x256x64_1x1", "128x128x128_1x2_pingpong", "256x128x128_2x1",
                   "128x128x64_1x1_pingpong", "256x128x64_1x1"]


def _device_is_sm90():
    import subprocess
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.strip().splitlines()[:1] == ["9.0"]


def _expect_cutlass(tactic, config):
    if tactic.startswith("i8-cutlass:"):
        assert tactic == "i8-cutlass:" + config, tactic
        return
    if not _device_is_sm90():
        pytest.skip("the CUTLASS int8 GEMM runs on SM 9.0 only")
    pytest.fail("an SM 9.0 device ran %s instead of the CUTLASS form: trtcore built without CUTLASS's headers "
                "(pip install nvidia-cutlass; TRTCORE_CUTLASS)?" % tactic)


@pytest.mark.parametrize("config", CUTLASS_CONFIGS)
def test_cutlass_int8_gemm_on_a_pointwise_chain(tmp_path, config):
    """Every CUTLASS configuration, fixed through the timing cache, runs the 1x1 convolution between NHWC int8
    tensors (128 channels in and out, no activation: the negative outputs are kept) and the chain gives the quantized
    outputs onnxruntime and the cpu int8 plan give, but for rare near-ties; a saved plan keeps the configuration."""
    model, x = _pointwise_chain(8, 64, 128, 64, 28, seed=11, middle=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache))
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    _force_qconv_tactics(cache, "i8-cutlass:" + config)
    forced = build_engine(model, tmp_path, name="forced", **opts)
    layers = {la.name: la for la in forced.layers}
    assert layers["conv_mid"].op.startswith("QConv") and layers["conv_mid"].precision == "int8", layers["conv_mid"]
    _expect_cutlass(layers["conv_mid"].tactic, config)
    for engine, what in ((tuned, "tuned"), (forced, config)):
        got = engine.infer({"x": x})["y"]
        _assert_near(got, ref, cpu, S_OUT, 0.01, what)
    _round_trip(forced, tmp_path / "cutlass.plan", x)


@pytest.mark.parametrize("config", CUTLASS_CONFIGS)
def test_cutlass_int8_gemm_adds_the_skip_connection(tmp_path, config):
    """The residual 1x1 convolution (32 channels: one partial tile in N and K) on each CUTLASS configuration reads
    the int8 skip tensor as its C operand and matches onnxruntime and the cpu int8 plan as the other forms do; a
    smaller batch than the plan's (a partial tile in M) runs the same configuration."""
    model, x = _spatial_chain(4, 16, seed=7, residual=True, dynamic=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu", batch=4).infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache), batch=4)
    build_engine(model, tmp_path, name="tuned", **opts)
    _force_qconv_tactics(cache, "i8-cutlass:" + config)
    engine = build_engine(model, tmp_path, name="forced", **opts)
    layers = {la.name: la for la in engine.layers}
    assert layers["conv_3"].op == "QConv+Add+Relu" and layers["conv_3"].precision == "int8", layers["conv_3"]
    _expect_cutlass(layers["conv_3"].tactic, config)
    got = engine.infer({"x": x})["y"]
    _assert_near(got, ref, cpu, 0.03, 0.002, config)
    loaded = _round_trip(engine, tmp_path / "residual.plan", x)
    worst, _ = _steps(loaded.infer({"x": x[:1]})["y"], got[:1], 0.03)
    assert worst <= 1, worst


def _depthwise_chain(batch, size, seed, stride, window=3):
    """x -> Q/DQ -> Conv1x1(16->32)+Relu -> Q/DQ -> depthwise Conv(32, window x window, stride) + Clip(0, 6) -> Q/DQ ->
    Conv1x1(32->16) -> Q/DQ -> y: a MobileNet block in TensorRT's explicit-quantization form."""
    net = _QdqNet(seed)
    N, qdq, conv = helper.make_node, net.qdq, net.conv
    net.nodes.append(N("Relu", [conv("1", qdq("x", 0.05, "in"), 32, 16, 1)], ["r1"]))
    p = window // 2
    dw = conv("dw", qdq("r1", 0.04, "m1"), 32, 1, window, pads=[p, p, p, p], strides=[stride, stride], group=32)
    lo, hi = net.const("lo", np.array(0, np.float32)), net.const("hi", np.array(6, np.float32))
    net.nodes.append(N("Clip", [dw, lo, hi], ["r2"]))
    y = qdq(conv("3", qdq("r2", 0.04, "m2"), 16, 32, 1), 0.03, "out")
    return net.model("depthwise_int8", y, (batch, 16, size, size))


@pytest.mark.parametrize("window,size", [(3, 20), (5, 21)])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("tactic", ["tuned", "i8-dw4", "i8-dw8", "i8-dw8p", "i8-direct"])
def test_depthwise_convolution_runs_int8_between_int8_tensors(tmp_path, tactic, stride, window, size):
    """A depthwise convolution whose input and output are quantized runs as an int8 QConv on cuda (four channels a
    thread, eight channels by four outputs, or the direct form; 3x3 and 5x5 windows, strides 1 and 2, a partial
    last tile): no Quantize/Dequantize pass around it, and the output is onnxruntime's and the cpu int8 plan's within
    the share of near-ties the other tests allow."""
    model, x = _depthwise_chain(4, size, seed=11 + stride + window, stride=stride, window=window)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache))
    engine = build_engine(model, tmp_path, name="tuned", **opts)
    if tactic != "tuned":
        _force_qconv_tactics(cache, tactic)
        engine = build_engine(model, tmp_path, name="forced", **opts)
    layers = {la.name: la for la in engine.layers}
    assert layers["conv_dw"].op.startswith("QConv") and layers["conv_dw"].precision == "int8", layers["conv_dw"]
    if tactic != "tuned":
        assert layers["conv_dw"].tactic == tactic, layers["conv_dw"].tactic
    ops = [la.op for la in engine.layers]
    assert ops.count("QuantizeLinear") == 1 and ops.count("DequantizeLinear") == 1, ops  # the input's and output's
    _assert_near(engine.infer({"x": x})["y"], ref, cpu, 0.03, 0.002, tactic)
    _round_trip(engine, tmp_path / "dw.plan", x)


CUTLASS_CONV_CONFIGS = ["128x128x64_1x1", "128x64x64_1x1", "128x128x64_1x2"]


def _expect_cutlass_conv(tactics, names, config):
    """The layers `names` run the CUTLASS convolution `config` (skips off SM 9.0; fails on SM 9.0 without it)."""
    ran = {n: tactics[n] for n in names}
    if all(t == "i8-cutlass-conv:" + config for t in ran.values()):
        return
    if not _device_is_sm90():
        pytest.skip("the CUTLASS int8 convolution runs on SM 9.0 only")
    pytest.fail("an SM 9.0 device ran %s instead of i8-cutlass-conv:%s (trtcore built without CUTLASS's headers, or "
                "the configuration refused or failed its check at build)" % (ran, config))


@pytest.mark.parametrize("config", CUTLASS_CONV_CONFIGS)
def test_cutlass_int8_conv_on_the_spatial_chain(tmp_path, config):
    """Every CUTLASS convolution configuration, fixed through the timing cache, runs the 3x3 convolutions between
    NHWC int8 tensors (stride 1 and 2, padding 1; 32 input channels: half a k-block, 16 output channels: part of an N
    tile) and the 1x1 one, and the chain gives the quantized outputs onnxruntime and the cpu int8 plan give but for
    rare near-ties; a saved plan keeps the configuration and a smaller batch runs it too."""
    model, x = _spatial_chain(8, 32, seed=5, dynamic=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu", batch=8).infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache), batch=8)
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    _force_qconv_tactics(cache, "i8-cutlass-conv:" + config)
    forced = build_engine(model, tmp_path, name="forced", **opts)
    tactics = {la.name: la.tactic for la in forced.layers if la.op.startswith("QConv")}
    assert all(la.precision == "int8" for la in forced.layers if la.op.startswith("QConv"))
    _expect_cutlass_conv(tactics, ["conv_2", "conv_3", "conv_4"], config)
    for engine, what in ((tuned, "tuned"), (forced, config)):
        _assert_near(engine.infer({"x": x})["y"], ref, cpu, 0.03, 0.002, what, tactics)
    loaded = _round_trip(forced, tmp_path / "cutlass_conv.plan", x)
    worst, _ = _steps(loaded.infer({"x": x[:3]})["y"], forced.infer({"x": x})["y"][:3], 0.03)
    assert worst <= 1, worst


def _resnet_stage_chain(batch, size, seed):
    """x -> Q/DQ -> Conv1x1(16->64)+Relu -> Q/DQ -> conv_a: Conv3x3(64->64, pad 1)+Relu -> Q/DQ -> conv_b:
    Conv3x3(64->128, stride 2, pad 1)+Relu -> Q/DQ -> conv_c: Conv1x1(128->256, stride 2), no activation (the
    downsample form) -> Q/DQ -> Conv1x1(256->16) -> Q/DQ -> y: ResNet-50's channel counts, several k-blocks a tap."""
    net = _QdqNet(seed)
    qdq = net.qdq

    def conv(tag, src, k, cin, r, relu, **attrs):
        c = net.conv(tag, src, k, cin, r, **attrs)
        if not relu:
            return c
        net.nodes.append(helper.make_node("Relu", [c], ["r_" + tag]))
        return "r_" + tag

    t = conv("in", qdq("x", 0.05, "in"), 64, 16, 1, True)
    t = conv("a", qdq(t, 0.04, "m0"), 64, 64, 3, True, pads=[1, 1, 1, 1])
    t = conv("b", qdq(t, 0.04, "m1"), 128, 64, 3, True, pads=[1, 1, 1, 1], strides=[2, 2])
    t = conv("c", qdq(t, 0.04, "m2"), 256, 128, 1, False, strides=[2, 2])
    y = qdq(conv("out", qdq(t, 0.05, "m3"), 16, 256, 1, False), 0.03, "out")
    return net.model("resnet_stage_int8", y, (batch, 16, size, size))


@pytest.mark.parametrize("config", CUTLASS_CONV_CONFIGS)
def test_cutlass_int8_conv_at_resnet_channel_counts(tmp_path, config):
    """The 3x3 convolutions of 64 and 128 channels (stride 1 and 2) and the 1x1 stride-2 downsample (256 channels,
    no activation: negative outputs kept) on each CUTLASS convolution configuration match onnxruntime and the cpu
    int8 plan (an odd image size: the strided ones end on a partial window row)."""
    model, x = _resnet_stage_chain(4, 29, seed=13)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache))
    build_engine(model, tmp_path, name="tuned", **opts)
    _force_qconv_tactics(cache, "i8-cutlass-conv:" + config)
    engine = build_engine(model, tmp_path, name="forced", **opts)
    tactics = {la.name: la.tactic for la in engine.layers if la.op.startswith("QConv")}
    _expect_cutlass_conv(tactics, ["conv_a", "conv_b", "conv_c"], config)
    _assert_near(engine.infer({"x": x})["y"], ref, cpu, 0.03, 0.002, config, tactics)


@pytest.mark.parametrize("config", CUTLASS_CONV_CONFIGS)
def test_cutlass_int8_conv_adds_the_skip_connection(tmp_path, config):
    """The residual 1x1 convolution on the CUTLASS convolution reads the int8 skip tensor as its epilogue's C
    operand, as the GEMM form does, and matches onnxruntime and the cpu int8 plan."""
    model, x = _spatial_chain(4, 16, seed=7, residual=True)
    ref = ort_run(model, {"x": x})["y"]
    cpu = build_engine(model, tmp_path, name="cpu").infer({"x": x})["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", strict_fp32=False, timing_cache=str(cache))
    build_engine(model, tmp_path, name="tuned", **opts)
    _force_qconv_tactics(cache, "i8-cutlass-conv:" + config)
    engine = build_engine(model, tmp_path, name="forced", **opts)
    layers = {la.name: la for la in engine.layers}
    assert layers["conv_3"].op == "QConv+Add+Relu" and layers["conv_3"].precision == "int8", layers["conv_3"]
    _expect_cutlass_conv({n: la.tactic for n, la in layers.items()}, ["conv_2", "conv_3"], config)
    _assert_near(engine.infer({"x": x})["y"], ref, cpu, 0.03, 0.002, config)
