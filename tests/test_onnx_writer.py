"""The ONNX writer: graphs after import and after optimization, written back as ONNX, pass onnx.checker and give
onnxruntime the outputs onnxruntime gives for the original model (fused forms expanded into plain nodes)."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import trtcore
from trtcore import _core
import models
from conftest import FP32_TOL, assert_close, ort_run, save_model, seed_of
from op_cases import CASES, N, randn
from test_fuse_elementwise import NUMERIC

f32 = np.float32
FP16_TOL = 1e-2
STAGES = ["import", "optimize"]


def export(model, tmp_path, name="m", **options):
    """Writes `model`, exports it through trtcore and returns the exported ModelProto (checked by onnx.checker
    with full shape inference)."""
    src = save_model(model, tmp_path / f"{name}.onnx")
    out = str(tmp_path / f"{name}.exported.onnx")
    _core.export_onnx(src, out, **options)
    exported = onnx.load(out)
    onnx.checker.check_model(exported, full_check=True)
    return exported


def check_same_outputs(model, exported, feeds, tol=FP32_TOL):
    ref = ort_run(model, feeds)
    got = ort_run(exported, feeds)
    assert set(ref) <= set(got), f"exported outputs {sorted(got)} lack {sorted(set(ref) - set(got))}"
    for name, expected in ref.items():
        assert_close(got[name], expected, tol=tol, what=f"output '{name}'")


def image_feed(model, rng, batch):
    name, shape = models.model_input(model)
    shape[0] = batch
    return {name: rng.standard_normal(shape).astype(f32)}


# name: (builder, batch); the light models have a static batch of 1, the others a dynamic one
MODELS = {
    "mobilenet_v2": (lambda: models.mobilenet_v2(seed=2), 2),
    "mobilenet_v2_opset9": (lambda: models.mobilenet_v2(seed=3, opset=9, size=32), 2),
    "unet": (lambda: models.unet(seed=4), 2),
    "unet_upsample_opset9": (lambda: models.unet(seed=5, opset=9, size=32), 1),
    "resnet_block": (lambda: models.resnet_block(seed=6), 1),
    "squeezenet": (lambda: models.light_model("squeezenet", seed=1), 1),
    "shufflenet": (lambda: models.light_model("shufflenet", seed=1), 1),
    "inception_v1": (lambda: models.light_model("inception_v1", seed=1), 1),
}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_export_matches_the_original(name, stage, tmp_path, rng):
    build, batch = MODELS[name]
    model = build()
    feeds = image_feed(model, rng, batch)
    exported = export(model, tmp_path, stop_after=stage, batch=batch)
    check_same_outputs(model, exported, feeds)


@pytest.mark.parametrize("make", CASES)
def test_op_case_export_matches_the_original(make, request, tmp_path):
    model, feeds = make(np.random.default_rng(seed_of(request.node.callspec.id)))
    exported = export(model, tmp_path, stop_after="optimize")
    check_same_outputs(model, exported, feeds)


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_fused_elementwise_is_expanded(name, tmp_path, rng):
    model, feeds = NUMERIC[name](rng)
    path = save_model(model, tmp_path / "src.onnx")
    assert any(n.op == "FusedElementwise" for n in trtcore.load_graph(path).nodes)
    exported = export(model, tmp_path, stop_after="optimize")
    check_same_outputs(model, exported, feeds)


def test_conv_residual_and_activation_are_expanded(tmp_path, rng):
    """The ResNet block's convs carry a residual input and a fused Relu after optimization; the export spells
    them out as Conv, Add, Relu again."""
    model = models.resnet_block(seed=7)
    path = save_model(model, tmp_path / "src.onnx")
    optimized = trtcore.load_graph(path)
    assert len(optimized.nodes) < len(model.graph.node)
    exported = export(model, tmp_path, stop_after="optimize")
    ops = [n.op_type for n in exported.graph.node]
    assert ops.count("Conv") == 3 and "Add" in ops and "Relu" in ops, ops
    check_same_outputs(model, exported, image_feed(model, rng, 1))


def test_dynamic_batch_axis_runs_other_batches(tmp_path, rng):
    model = models.mobilenet_v2(seed=8, size=32)
    exported = export(model, tmp_path, batch=4, batch_dim="dynamic")
    dims = exported.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    for batch in (1, 3, 4):
        check_same_outputs(model, exported, image_feed(model, rng, batch))


def test_float16_storage_keeps_float32_inputs_and_outputs(tmp_path, rng):
    model = models.mobilenet_v2(seed=9, size=32)
    exported = export(model, tmp_path, batch=2, floats="float16")
    assert {i.type.tensor_type.elem_type for i in exported.graph.input} == {TensorProto.FLOAT}
    assert {o.type.tensor_type.elem_type for o in exported.graph.output} == {TensorProto.FLOAT}
    weights = [t for t in exported.graph.initializer if len(t.dims) == 4]
    assert weights and all(t.data_type == TensorProto.FLOAT16 for t in weights)
    check_same_outputs(model, exported, image_feed(model, rng, 2), tol=FP16_TOL)


def test_opset_is_the_graphs_unless_raised(tmp_path, rng):
    model = models.mobilenet_v2(seed=10, size=32)
    as_graph = export(model, tmp_path, name="as_graph", batch=1)
    assert [(o.domain, o.version) for o in as_graph.opset_import] == [("", 13)]
    lower = export(model, tmp_path, name="lower", batch=1, min_opset=9)
    assert [o.version for o in lower.opset_import] == [13]
    raised = export(model, tmp_path, name="raised", batch=1, min_opset=17)
    assert [o.version for o in raised.opset_import] == [17]
    check_same_outputs(model, raised, image_feed(model, rng, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.uint8, np.int32, np.int64])
@pytest.mark.parametrize("stage", STAGES)
def test_initializers_of_every_dtype(dtype, stage, tmp_path, rng):
    """A runtime input concatenated with an initializer of the same dtype: the initializer's bytes survive."""
    x = (rng.standard_normal((2, 3)) * 50).astype(dtype)
    c = (rng.standard_normal((1, 3)) * 50).astype(dtype)
    model = models.make_model([N("Concat", ["x", "c"], ["y"], axis=0)], [("x", dtype, [2, 3])],
                              [("y", dtype, [3, 3])], {"c": c})
    exported = export(model, tmp_path, stop_after=stage)
    written = {t.name: numpy_helper.to_array(t) for t in exported.graph.initializer}
    assert written["c"].dtype == dtype and np.array_equal(written["c"], c)
    check_same_outputs(model, exported, {"x": x})


def test_folded_constants_are_written_once(tmp_path, rng):
    """After import a shape subgraph is folded but its nodes remain: the export writes each folded value as one
    initializer and drops the nodes that computed it."""
    x = randn(rng, 2, 3, 4)
    nodes = [N("Shape", ["x"], ["s"]), N("Gather", ["s", "zero"], ["b"]), N("Unsqueeze", ["b", "axes"], ["b1"]),
             N("Concat", ["b1", "minus1"], ["shape"], axis=0), N("Reshape", ["x", "shape"], ["y"])]
    inits = {"zero": np.array(0, np.int64), "axes": np.array([0], np.int64), "minus1": np.array([-1], np.int64)}
    model = models.make_model(nodes, [("x", f32, [2, 3, 4])], [("y", f32, None)], inits)
    exported = export(model, tmp_path, stop_after="import")
    assert [n.op_type for n in exported.graph.node] == ["Reshape"]
    check_same_outputs(model, exported, {"x": x})


def test_written_atomically_and_errors_name_the_path(tmp_path):
    model = models.resnet_block(seed=11)
    export(model, tmp_path, name="block")
    assert sorted(os.listdir(tmp_path)) == ["block.exported.onnx", "block.onnx"]
    missing = str(tmp_path / "no_such_dir" / "out.onnx")
    with pytest.raises(trtcore.Error, match="no_such_dir"):
        _core.export_onnx(str(tmp_path / "block.onnx"), missing)


def test_unknown_option_values_are_rejected(tmp_path):
    src = save_model(models.resnet_block(seed=12), tmp_path / "m.onnx")
    with pytest.raises(trtcore.Error, match="floats"):
        _core.export_onnx(src, str(tmp_path / "o.onnx"), floats="bfloat16")
    with pytest.raises(trtcore.Error, match="stage"):
        _core.export_onnx(src, str(tmp_path / "o.onnx"), stop_after="build")


def qdq_model(rng, opset=13):
    """Per-axis QuantizeLinear/DequantizeLinear on activations (axis 1) and int8 Conv weights (axis 0), large
    enough that import does not fold the weight's DequantizeLinear."""
    x = randn(rng, 1, 64, 6, 6)
    w = rng.integers(-127, 128, (128, 64, 3, 3)).astype(np.int8)
    inits = {"x_scale": np.abs(randn(rng, 64)) * 0.05 + 0.01, "x_zp": np.zeros(64, np.int8),
             "w_scale": np.abs(randn(rng, 128)) * 0.01 + 0.001, "w_zp": np.zeros(128, np.int8), "w": w}
    nodes = [N("QuantizeLinear", ["x", "x_scale", "x_zp"], ["xq"], axis=1),
             N("DequantizeLinear", ["xq", "x_scale", "x_zp"], ["xd"], axis=1),
             N("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wd"], axis=0),
             N("Conv", ["xd", "wd"], ["y"], pads=[1, 1, 1, 1])]
    inits = {k: v.astype(f32) if v.dtype == np.float64 else v for k, v in inits.items()}
    model = models.make_model(nodes, [("x", f32, [1, 64, 6, 6])], [("y", f32, None)], inits, opset=opset)
    return model, {"x": x}


def test_per_axis_qdq_exports_as_is(tmp_path, rng):
    model, feeds = qdq_model(rng)
    path = save_model(model, tmp_path / "src.onnx")
    if not all(r.supported for r in trtcore.check_onnx(path)):
        pytest.skip("trtcore does not import QuantizeLinear/DequantizeLinear yet")
    exported = export(model, tmp_path, stop_after="import")
    qdq = sorted((n.op_type, [a.i for a in n.attribute if a.name == "axis"]) for n in exported.graph.node
                 if n.op_type in ("QuantizeLinear", "DequantizeLinear"))
    assert qdq == [("DequantizeLinear", [0]), ("DequantizeLinear", [1]), ("QuantizeLinear", [1])], qdq
    written = {t.name: numpy_helper.to_array(t) for t in exported.graph.initializer}
    assert written["w"].dtype == np.int8
    check_same_outputs(model, exported, feeds)
