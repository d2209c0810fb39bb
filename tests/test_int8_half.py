"""INT8 with FP16 float layers: on cuda an --int8 build runs what it does not quantize (and the float math between a
DequantizeLinear and the next QuantizeLinear) in FP16, as TensorRT does; --int8-fallback fp32 keeps FP32, and the cpu
backend keeps FP32. The precision stage's graph is checked on any machine (`inspect --stop-after precision`); the gpu
tests compare the cuda plans with the cpu INT8 plan and with onnxruntime running the Q/DQ model of the same cache."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import trtcore
from conftest import ort_run, rel_l2, save_model
from models import NetBuilder, mobilenet_v2, value_info
from test_cli import assert_clean_failure, trtcore_cli

BATCH = 8


def small_convnet(seed=0):
    """Conv+Relu, MaxPool, Conv+Relu, a residual 1x1 Conv, GlobalAveragePool and a classifier: shallow enough that a
    quantization step flipped by float16 rounding stays a small change of the output."""
    nb = NetBuilder(seed)
    x = nb.relu(nb.conv("input", 3, 16, 3))
    x = nb.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = nb.relu(nb.conv(x, 16, 32, 3))
    x = nb.relu(nb.node("Add", [nb.conv(x, 32, 32, 1), x]))
    x = nb.node("Flatten", [nb.node("GlobalAveragePool", [x])])
    nb.nodes[-1].output[0] = "features"
    logits = nb.gemm("features", 32, 10)
    nb.nodes[-1].output[0] = "logits"
    return nb.model([value_info("input", shape=["N", 3, 16, 16])], [value_info("logits", shape=None)], "small_convnet")


def _samples(shape, n=32, seed=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((BATCH,) + shape).astype(np.float32) for _ in range(n // BATCH)]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The small net, its calibration cache (written by a cpu INT8 build) and the Q/DQ model quantize writes from it."""
    tmp = tmp_path_factory.mktemp("int8_half")
    path = save_model(small_convnet(), tmp / "net.onnx")
    cache = tmp / "net.cache"
    trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache),
                  calibration_data=_samples((3, 16, 16)))
    qdq = tmp / "net.qdq.onnx"
    proc = trtcore_cli("quantize", "--onnx", path, "--backend", "cpu", "--batch", BATCH, "--calibration-cache", cache,
                       "-o", qdq)
    assert proc.returncode == 0, proc.output
    return path, cache, qdq


def _layers_after_precision(*args):
    """(name, label, output dtype) of each layer `inspect --stop-after precision` lists."""
    proc = trtcore_cli("inspect", "--stop-after", "precision", *args)
    assert proc.returncode == 0, proc.output
    lines = proc.output[proc.output.index("layers after precision"):].splitlines()[1:]
    return [tuple(line.split()[:3]) for line in lines if line.startswith("  ")], proc.output


def test_int8_half_graph_runs_float_regions_in_fp16(calibrated):
    path, cache, _ = calibrated
    layers, log = _layers_after_precision("--onnx", path, "--batch", BATCH, "--int8", "--half",
                                          "--calibration-cache", cache)
    by_op = {}
    for name, label, dtype in layers:
        by_op.setdefault(label.split("+")[0], []).append((name, dtype))
    # every weighted layer computes in FP16 between its DequantizeLinear inputs and the next QuantizeLinear
    assert {d for _, d in by_op["Conv"] + by_op["Gemm"]} == {"float16"}, by_op
    assert len(by_op["Conv"]) == 3 and len(by_op["Gemm"]) == 1
    # the dequantized activations and weights are written as float16 by the DequantizeLinear itself (no Cast after)
    assert by_op["DequantizeLinear"] and {d for _, d in by_op["DequantizeLinear"]} == {"float16"}, by_op
    assert {d for _, d in by_op["QuantizeLinear"]} == {"int8"}
    # what is not quantized follows in FP16 (the global average pool); the MaxPool runs on the int8 tensor
    assert [d for _, d in by_op["GlobalAveragePool"]] == ["float16"], by_op
    assert [d for _, d in by_op["MaxPool"]] == ["int8"], by_op
    # the only Cast is the float32 graph output
    assert [d for _, d in by_op["Cast"]] == ["float32"], by_op
    assert "float layers in fp16" in log


@pytest.mark.parametrize("flags", [("--int8-fallback", "fp32"), ("--backend", "cpu")], ids=["fallback_fp32", "cpu"])
def test_int8_keeps_fp32_on_cpu_and_with_fallback_fp32(calibrated, flags):
    path, cache, _ = calibrated
    layers, log = _layers_after_precision("--onnx", path, "--batch", BATCH, "--int8", "--calibration-cache", cache,
                                          *flags)
    assert {d for _, _, d in layers} == {"float32", "int8"}, layers
    assert not [l for l in layers if l[1] == "Cast"]
    assert "float layers in fp16" not in log


def test_cpu_int8_build_stays_fp32_and_refuses_fp16(calibrated, tmp_path):
    path, cache, _ = calibrated
    engine = trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache))
    assert {l.precision for l in engine.layers} == {"fp32", "int8"}
    with pytest.raises(trtcore.UnsupportedError, match="fp32"):
        trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache),
                      int8_fallback="fp16")
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", "--batch", BATCH, "--int8", "--half",
                       "--calibration-cache", cache, "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "cpu", "fp32")


def test_int8_fallback_option_errors(calibrated, tmp_path):
    path, cache, _ = calibrated
    common = ("build", "--onnx", path, "--backend", "cpu", "--batch", BATCH, "--plan", tmp_path / "x.plan")
    assert_clean_failure(trtcore_cli(*common, "--int8-fallback", "fp32"), "--int8-fallback", "--int8")
    assert_clean_failure(trtcore_cli(*common, "--int8", "--calibration-cache", cache, "--int8-fallback", "bf16"),
                         "bf16", "fp16", "fp32")
    assert_clean_failure(trtcore_cli(*common, "--int8", "--half", "--calibration-cache", cache, "--int8-fallback",
                                     "fp32"), "--half", "fp32")
    with pytest.raises(trtcore.InputError, match="int8_fallback"):
        trtcore.build(path, batch=BATCH, backend="cpu", int8_fallback="fp32")
    with pytest.raises(trtcore.InputError, match="bf16"):
        trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache),
                      int8_fallback="bf16")


def fp16_emulated(model):
    """The Q/DQ model with every float tensor a node writes rounded to float16 and every float constant that a float
    op reads rounded too: onnxruntime's float32 ops on float16-stored tensors, the storage of an FP16 region."""
    m = onnx.shape_inference.infer_shapes(model)
    g = m.graph
    float_tensors = {v.name for v in list(g.value_info) + list(g.output)
                     if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    inits = {i.name: i for i in g.initializer}
    nodes = []
    for n in g.node:
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            for i in n.input:
                t = inits.get(i)
                if t is not None and t.data_type == TensorProto.FLOAT:
                    t.CopyFrom(numpy_helper.from_array(
                        numpy_helper.to_array(t).astype(np.float16).astype(np.float32), t.name))
        nodes.append(n)
        for k, o in enumerate(list(n.output)):
            if o not in float_tensors:
                continue
            n.output[k] = o + "/unrounded"
            nodes.append(helper.make_node("Cast", [o + "/unrounded"], [o + "/half"], to=TensorProto.FLOAT16))
            nodes.append(helper.make_node("Cast", [o + "/half"], [o], to=TensorProto.FLOAT))
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    return m


def test_fp16_emulation_is_a_distinct_reference(calibrated):
    """The float16-rounded Q/DQ model the gpu tests use as a reference differs from the float32 one, but little."""
    _, _, qdq = calibrated
    x = np.random.default_rng(6).standard_normal((BATCH, 3, 16, 16)).astype(np.float32)
    model = onnx.load(str(qdq))
    ref, emu = ort_run(model, {"input": x})["logits"], ort_run(fp16_emulated(model), {"input": x})["logits"]
    assert 0 < rel_l2(emu, ref) < 3e-2, rel_l2(emu, ref)


# ---- on the GPU ----

def _infer(engine, x):
    return engine.infer({"input": x})["logits"]


@pytest.mark.gpu
def test_cuda_int8_defaults_to_fp16_and_matches_onnxruntime(calibrated):
    """The default cuda --int8 plan runs its float layers in FP16 and is as close to onnxruntime's Q/DQ result as
    onnxruntime's own float16-rounded run of that model is (plus float32 noise); --int8-fallback fp32 gives the
    FP32 plan, close to the cpu INT8 plan."""
    path, cache, qdq = calibrated
    x = np.random.default_rng(6).standard_normal((BATCH, 3, 16, 16)).astype(np.float32)
    half = trtcore.build(path, batch=BATCH, backend="cuda", precision="int8", calibration_cache=str(cache))
    full = trtcore.build(path, batch=BATCH, backend="cuda", precision="int8", calibration_cache=str(cache),
                         strict_fp32=True, int8_fallback="fp32")
    cpu = trtcore.build(path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache))
    precisions = {l.op.split("+")[0]: l.precision for l in half.layers}
    assert precisions["Conv"] == "fp16" and precisions["Gemm"] == "fp16", precisions
    assert "fp16" not in {l.precision for l in full.layers}
    model = onnx.load(str(qdq))
    ref = ort_run(model, {"input": x})["logits"]
    emu = ort_run(fp16_emulated(model), {"input": x})["logits"]
    got, want = _infer(half, x), _infer(cpu, x)
    assert got.dtype == np.float32
    # the device rounds where it fuses (conv + residual + activation once), the emulation after every op
    assert rel_l2(got, ref) < 3 * rel_l2(emu, ref) + 2e-3, (rel_l2(got, ref), rel_l2(emu, ref))
    assert rel_l2(got, want) < 3 * rel_l2(emu, ref) + 2e-3, (rel_l2(got, want), rel_l2(emu, ref))
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 7 / 8
    # FP32 float layers: the cpu plan's network, up to a rounding tie resolved the other way in some sample
    fp32 = _infer(full, x)
    assert sum(rel_l2(fp32[i], want[i]) < 1e-4 for i in range(BATCH)) >= BATCH - 2, rel_l2(fp32, want)


@pytest.mark.gpu
def test_cuda_int8_half_mobilenet_is_no_worse_than_cpu_int8(tmp_path):
    """A random-weight MobileNetV2 amplifies every flipped quantization step, so FP16 float layers move its INT8
    output as much as a different calibration would: the FP16 plan must stay as close to the FP32 model as the cpu
    INT8 plan is, and as close as onnxruntime's float16-rounded run of the same Q/DQ model."""
    model_path = save_model(mobilenet_v2(size=32), tmp_path / "mbv2.onnx")
    cache = tmp_path / "mbv2.cache"
    cpu = trtcore.build(model_path, batch=BATCH, backend="cpu", precision="int8", calibration_cache=str(cache),
                        calibration_data=_samples((3, 32, 32)))
    cuda = trtcore.build(model_path, batch=BATCH, backend="cuda", precision="int8", calibration_cache=str(cache))
    assert "fp16" in {l.precision for l in cuda.layers}
    qdq = tmp_path / "mbv2.qdq.onnx"
    proc = trtcore_cli("quantize", "--onnx", model_path, "--backend", "cpu", "--batch", BATCH, "--calibration-cache",
                       cache, "-o", qdq)
    assert proc.returncode == 0, proc.output
    x = np.random.default_rng(6).standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    fp32 = ort_run(model_path, {"input": x})["logits"]
    emu = ort_run(fp16_emulated(onnx.load(str(qdq))), {"input": x})["logits"]
    got, want = _infer(cuda, x), _infer(cpu, x)
    assert np.isfinite(got).all()
    assert rel_l2(got, fp32) < 1.5 * max(rel_l2(want, fp32), rel_l2(emu, fp32)), (
        rel_l2(got, fp32), rel_l2(want, fp32), rel_l2(emu, fp32))
