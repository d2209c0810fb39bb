"""MaxPool on quantized tensors: a per-tensor quantizer with a positive scale is monotonic, so MaxPool -> Q equals
Q -> MaxPool; the INT8 policy moves the quantizer in front of the pool (as TensorRT does) and the pool runs on int8.
The int8 MaxPool kernels match onnxruntime's int8 MaxPool bit for bit; the moved placement matches onnxruntime
running the float placement."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import trtcore
from conftest import backends, build_engine, ort_run, rel_l2
from test_int8_half import BATCH, _layers_after_precision, calibrated  # noqa: F401  (the shared calibrated net)

POOLS = {
    "k2s2": dict(kernel_shape=[2, 2], strides=[2, 2]),
    "k3s2_pad": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "k3s1_dilated_ceil": dict(kernel_shape=[3, 3], strides=[2, 1], dilations=[2, 1], pads=[0, 1, 1, 0], ceil_mode=1),
    "k3_1d": dict(kernel_shape=[3], strides=[2], pads=[1, 1]),
}


def _quantized_pool(attrs, dtype, shape):
    """x (float) -> QuantizeLinear -> MaxPool (8-bit) -> y (8-bit graph output)."""
    t = TensorProto.INT8 if dtype == np.int8 else TensorProto.UINT8
    inits = [onnx.numpy_helper.from_array(np.array(0.05, np.float32), "s"),
             onnx.numpy_helper.from_array(np.array(0 if dtype == np.int8 else 128, dtype), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]), helper.make_node("MaxPool", ["q"], ["y"], **attrs)]
    g = helper.make_graph(nodes, "qpool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", t, None)], inits)
    return helper.make_model_gen_version(g, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("dtype", [np.int8, np.uint8], ids=["int8", "uint8"])
@pytest.mark.parametrize("pool", list(POOLS), ids=list(POOLS))
def test_int8_maxpool_matches_onnxruntime(pool, dtype, backend, tmp_path):
    attrs = POOLS[pool]
    shape = [2, 5, 11] if len(attrs["kernel_shape"]) == 1 else [2, 5, 9, 11]
    model = _quantized_pool(attrs, dtype, shape)
    x = (np.random.default_rng(3).standard_normal(shape) * 4).astype(np.float32)  # saturates some values
    ref = ort_run(model, {"x": x})["y"]
    # the pool on the 8-bit tensor (the quantizer is standalone here, so the build would otherwise pool first)
    engine = build_engine(model, tmp_path, backend=backend, disabled_passes=["pool_before_quantize"])
    assert [l.op for l in engine.layers] == ["QuantizeLinear", "MaxPool"]
    got = engine.infer({"x": x})["y"]
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert np.array_equal(got, ref), np.argwhere(got != ref)[:5]
    # by default the float tensor is pooled and the pooled one quantized: the same values
    engine = build_engine(model, tmp_path, name="pooled_first", backend=backend)
    assert [l.op for l in engine.layers] == ["MaxPool", "QuantizeLinear"]
    got = engine.infer({"x": x})["y"]
    assert got.dtype == ref.dtype and np.array_equal(got, ref), np.argwhere(got != ref)[:5]


def _moved_back(qdq):
    """The Q/DQ model with each QuantizeLinear that reads a MaxPool's output put back after that MaxPool."""
    m = onnx.ModelProto()
    m.CopyFrom(qdq)
    by_output = {o: n for n in m.graph.node for o in n.output}
    moved = 0
    for pool in [n for n in m.graph.node if n.op_type == "MaxPool"]:
        q = by_output.get(pool.input[0])
        if q is None or q.op_type != "QuantizeLinear":
            continue
        x, pooled_q = q.input[0], pool.output[0]
        pool.input[0], pool.output[0] = x, pooled_q + "/float"
        q.input[0], q.output[0] = pooled_q + "/float", pooled_q
        moved += 1
    order, names = [], list(m.graph.node)
    done = {i.name for i in m.graph.initializer} | {i.name for i in m.graph.input}
    while names:  # a topological order
        n = next(n for n in names if all(i in done or not i for i in n.input))
        order.append(n)
        done.update(n.output)
        names.remove(n)
    del m.graph.node[:]
    m.graph.node.extend(order)
    return m, moved


def test_int8_policy_runs_maxpool_on_int8(calibrated, tmp_path):  # noqa: F811
    path, cache, qdq = calibrated
    layers, log = _layers_after_precision("--onnx", path, "--batch", BATCH, "--int8", "--backend", "cpu",
                                          "--calibration-cache", cache)
    pools = [d for _, label, d in layers if label == "MaxPool"]
    assert pools == ["int8"], layers
    assert "1 max pools on int8" in log
    # the exported Q/DQ model has the quantizer in front of the pool; onnxruntime runs it like the float placement
    model = onnx.load(str(qdq))
    float_placement, moved = _moved_back(model)
    assert moved == 1
    x = np.random.default_rng(8).standard_normal((BATCH, 3, 16, 16)).astype(np.float32)
    ref = ort_run(float_placement, {"input": x})["logits"]
    assert np.array_equal(ort_run(model, {"input": x})["logits"], ref)
    engine = trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache))
    assert [l.precision for l in engine.layers if l.op == "MaxPool"] == ["int8"]
    assert rel_l2(engine.infer({"input": x})["logits"], ref) < 1e-5


def test_maxpool_with_another_reader_stays_float(tmp_path):
    """A MaxPool whose output is also a graph output keeps its float output: the quantizer stays after it."""
    from models import NetBuilder, value_info
    nb = NetBuilder(1)
    x = nb.relu(nb.conv("input", 3, 8, 3))
    nb.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    nb.nodes[-1].output[0] = "pooled"
    nb.conv("pooled", 8, 4, 1)
    nb.nodes[-1].output[0] = "y"
    model = nb.model([value_info("input", shape=[2, 3, 8, 8])], [value_info("pooled"), value_info("y")], "two_readers")
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    data = [np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)]
    engine = trtcore.build(str(path), backend="cpu", precision="int8", calibration_data=data)
    assert [l.precision for l in engine.layers if l.op == "MaxPool"] == ["fp32"]


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_nhwc_max_pool_between_convolutions_on_cuda(precision, tmp_path):
    """A MaxPool between two convolutions with channels in eights runs on NHWC tensors on cuda, eight channels a
    thread: on the int8 tensor the first int8 convolution writes (INT8) or on float16 (FP16). Its output is the cpu
    plan's (the same calibration cache for INT8)."""
    from models import NetBuilder, value_info
    nb = NetBuilder(4)
    x = nb.relu(nb.conv("input", 16, 32, 3))
    x = nb.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    nb.conv(x, 32, 16, 3)
    nb.nodes[-1].output[0] = "y"
    model = nb.model([value_info("input", shape=[4, 16, 20, 20])], [value_info("y")], "pool_between_convs")
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(1).standard_normal((4, 16, 20, 20)).astype(np.float32)
    if precision == "int8":
        cache = str(tmp_path / "m.cache")
        cpu = trtcore.build(str(path), backend="cpu", precision="int8", calibration_data=[x], calibration_cache=cache)
        cuda = trtcore.build(str(path), backend="cuda", precision="int8", calibration_cache=cache)
        assert [l.precision for l in cuda.layers if l.op == "MaxPool"] == ["int8"], [(l.op, l.precision) for l in cuda.layers]
        tol = 2e-2  # one quantization step moved by the GPU's rounding of a near-tie, in a few outputs
    else:
        cpu = trtcore.build(str(path), backend="cpu")
        cuda = trtcore.build(str(path), backend="cuda", precision="fp16")
        tol = 1e-2
    got, want = cuda.infer({"input": x})["y"], cpu.infer({"input": x})["y"]
    assert rel_l2(got, want) < tol, rel_l2(got, want)
