"""The optimizer's result has the expected shape (node counts), not only the right numbers."""
import numpy as np
import pytest
from onnx import helper

import trtcore
import models
from conftest import check_against_ort, save_model
from op_cases import N, chain, positive, randn

ACTIVATION_OPS = {"Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"}


def optimized(model, tmp_path, disabled=(), stop_after="optimize", batch=1):
    path = save_model(model, tmp_path / "m.onnx")
    return trtcore.load_graph(path, batch=batch, stop_after=stop_after, disabled_passes=list(disabled))


def counts(graph):
    """Layer counts by fused label ('Conv+Add+Relu'), derived from each node's inputs and attributes, so the test
    does not depend on how op_counts() spells fused layers; op_counts() must agree on the base ops."""
    labels = {}
    for n in graph.nodes:
        label = n.op.split("+")[0]
        if label in ("Conv", "ConvTranspose") and len(n.inputs) >= 4 and n.inputs[3]:
            label += "+Add"
        if n.attrs.get("activation"):
            label += "+" + str(n.attrs["activation"])
        labels[label] = labels.get(label, 0) + 1
    base = {}
    for k, v in graph.op_counts().items():
        base[k.split("+")[0]] = base.get(k.split("+")[0], 0) + v
    derived = {}
    for k, v in labels.items():
        derived[k.split("+")[0]] = derived.get(k.split("+")[0], 0) + v
    assert base == derived, f"op_counts() {dict(graph.op_counts())} disagrees with the nodes {labels}"
    return labels


def base_op(label):
    """'Conv' for a fused layer labelled 'Conv+Add+Relu'."""
    return label.split("+")[0]


def _activation(node):
    return str(node.attrs.get("activation", "")).lower()


def test_pass_names_listed_in_order():
    names = list(trtcore.pass_names())
    for expected in ("fold_constants", "remove_identity", "fold_batchnorm", "fuse_conv_residual", "fuse_activation",
                     "eliminate_dead_nodes"):
        assert expected in names, names
    assert names.index("fold_batchnorm") < names.index("fuse_conv_residual") < names.index("fuse_activation")


def test_resnet_block_becomes_three_fused_convs(tmp_path):
    model = models.resnet_block()
    g = optimized(model, tmp_path)
    c = counts(g)
    assert c == {"Conv+Relu": 2, "Conv+Add+Relu": 1}, c
    convs = g.nodes
    assert all(_activation(n) == "relu" for n in convs), [(n.name, n.attrs) for n in convs]
    # the last conv carries the shortcut as a residual input: x, w, b, residual
    last = convs[-1]
    assert len(last.inputs) == 4 and last.inputs[3] == "input", last.inputs
    assert [o.name for o in g.outputs] == ["output"]
    # the pass records count what each pass did
    rec = {p["name"]: p for p in g.passes}
    assert rec["fold_batchnorm"]["nodes_before"] - rec["fold_batchnorm"]["nodes_after"] == 3
    assert rec["fuse_conv_residual"]["nodes_before"] - rec["fuse_conv_residual"]["nodes_after"] == 1
    assert rec["fuse_activation"]["nodes_before"] - rec["fuse_activation"]["nodes_after"] == 3
    assert g.passes[0]["nodes_before"] == len(model.graph.node) == 10


def test_resnet_block_fused_numbers(tmp_path, rng):
    model = models.resnet_block()
    check_against_ort(model, {"input": rng.standard_normal((1, 64, 16, 16)).astype(np.float32)}, tmp_path)


def test_stop_after_import_keeps_every_node(tmp_path):
    model = models.resnet_block()
    g = optimized(model, tmp_path, stop_after="import")
    assert counts(g) == {"Conv": 3, "BatchNormalization": 3, "Relu": 3, "Add": 1}


@pytest.mark.parametrize("disabled,kept", [
    ("fold_batchnorm", {"BatchNormalization": 3}),
    ("fuse_conv_residual", {"Add": 1}),
    ("fuse_activation", {"Relu": 3}),
])
def test_disabling_a_pass_keeps_its_nodes(disabled, kept, tmp_path, rng):
    model = models.resnet_block()
    # fuse_elementwise would otherwise absorb the kept Add/Relu chain into one FusedElementwise node
    g = optimized(model, tmp_path, disabled=[disabled, "fuse_elementwise"])
    c = counts(g)
    for op, n in kept.items():
        assert c.get(op, 0) == n, (disabled, c)
    rec = {p["name"]: p for p in g.passes}
    assert rec[disabled]["skipped"] and rec[disabled]["nodes_before"] == rec[disabled]["nodes_after"]
    # and the unfused graph still computes the same thing
    check_against_ort(model, {"input": rng.standard_normal((1, 64, 16, 16)).astype(np.float32)}, tmp_path,
                      disabled_passes=[disabled])


def test_all_passes_disabled_matches_onnxruntime(tmp_path, rng):
    model = models.mobilenet_v2(size=32)
    check_against_ort(model, {"input": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)}, tmp_path, batch=2,
                      disabled_passes=list(trtcore.pass_names()))


def test_unknown_pass_name_is_an_error(tmp_path):
    with pytest.raises(trtcore.Error) as info:
        optimized(models.resnet_block(), tmp_path, disabled=["no_such_pass"])
    assert "no_such_pass" in str(info.value)


def _conv_bn(after, rng):
    nodes = [N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"])]
    inits = {"w": randn(rng, 4, 3, 3, 3), "b": randn(rng, 4), "s": positive(rng, 4), "bb": randn(rng, 4),
             "m": randn(rng, 4), "v": positive(rng, 4)}
    return chain(nodes, {"x": randn(rng, 2, 3, 8, 8)}, inits)


def test_batchnorm_folded_into_conv(tmp_path, rng):
    model, feeds = _conv_bn(None, rng)
    assert counts(optimized(model, tmp_path)) == {"Conv": 1}
    check_against_ort(model, feeds, tmp_path)


def test_batchnorm_folded_into_conv_without_bias(tmp_path, rng):
    nodes = [N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"])]
    inits = {"w": randn(rng, 4, 3, 1, 1), "s": positive(rng, 4), "bb": randn(rng, 4), "m": randn(rng, 4),
             "v": positive(rng, 4)}
    model, feeds = chain(nodes, {"x": randn(rng, 2, 3, 5, 5)}, inits)
    assert counts(optimized(model, tmp_path)) == {"Conv": 1}
    check_against_ort(model, feeds, tmp_path)


def test_batchnorm_folded_into_conv_transpose(tmp_path, rng):
    nodes = [N("ConvTranspose", ["x", "w", "b"], ["c"], kernel_shape=[2, 2], strides=[2, 2]),
             N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"])]
    inits = {"w": randn(rng, 3, 4, 2, 2), "b": randn(rng, 4), "s": positive(rng, 4), "bb": randn(rng, 4),
             "m": randn(rng, 4), "v": positive(rng, 4)}
    model, feeds = chain(nodes, {"x": randn(rng, 2, 3, 4, 4)}, inits)
    assert counts(optimized(model, tmp_path)) == {"ConvTranspose": 1}
    check_against_ort(model, feeds, tmp_path)


def test_batchnorm_folded_into_gemm(tmp_path, rng):
    nodes = [N("Gemm", ["x", "w", "b"], ["g"], transB=1), N("BatchNormalization", ["g", "s", "bb", "m", "v"], ["y"])]
    inits = {"w": randn(rng, 6, 8), "b": randn(rng, 6), "s": positive(rng, 6), "bb": randn(rng, 6),
             "m": randn(rng, 6), "v": positive(rng, 6)}
    model, feeds = chain(nodes, {"x": randn(rng, 4, 8)}, inits)
    assert counts(optimized(model, tmp_path)) == {"Gemm": 1}
    check_against_ort(model, feeds, tmp_path)


def test_batchnorm_not_folded_when_conv_output_is_used_elsewhere(tmp_path, rng):
    """The Conv's raw output is also a graph output: folding BN into it would change that output."""
    model, feeds = _conv_bn(None, rng)
    model.graph.output.append(helper.make_tensor_value_info("c", 1, None))
    c = counts(optimized(model, tmp_path))
    assert c.get("Conv", 0) == 1 and c.get("BatchNormalization", 0) == 1, c
    check_against_ort(model, feeds, tmp_path)


def test_identity_and_dropout_removed(tmp_path, rng):
    nodes = [N("Identity", ["x"], ["i"]), N("Conv", ["i", "w"], ["c"], kernel_shape=[1, 1]),
             N("Dropout", ["c"], ["d"]), N("Identity", ["d"], ["e"]), N("Relu", ["e"], ["y"])]
    model, feeds = chain(nodes, {"x": randn(rng, 1, 3, 4, 4)}, {"w": randn(rng, 5, 3, 1, 1)})
    g = optimized(model, tmp_path)
    assert counts(g) == {"Conv+Relu": 1}, counts(g)
    assert _activation(g.nodes[0]) == "relu"
    check_against_ort(model, feeds, tmp_path)
    kept = counts(optimized(model, tmp_path, disabled=["remove_identity"]))
    assert kept.get("Identity", 0) == 2 and kept.get("Dropout", 0) == 1, kept


def test_identity_feeding_a_graph_output_keeps_the_output_name(tmp_path, rng):
    model, feeds = chain([N("Relu", ["x"], ["r"]), N("Identity", ["r"], ["y"])], {"x": randn(rng, 3, 4)})
    g = optimized(model, tmp_path)
    assert [o.name for o in g.outputs] == ["y"]
    check_against_ort(model, feeds, tmp_path)


@pytest.mark.parametrize("act,attrs", [("Relu", {}), ("LeakyRelu", {"alpha": 0.2}), ("Sigmoid", {}),
                                       ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("Tanh", {}), ("HardSwish", {})])
def test_activation_fused_into_conv_and_gemm(act, attrs, tmp_path, rng):
    nodes = [N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3]), N(act, ["c"], ["y"], **attrs)]
    model, feeds = chain(nodes, {"x": randn(rng, 2, 3, 6, 6)}, {"w": randn(rng, 4, 3, 3, 3), "b": randn(rng, 4)},
                         opset=14)
    g = optimized(model, tmp_path)
    assert counts(g) == {f"Conv+{act}": 1}, counts(g)
    assert _activation(g.nodes[0]) == act.lower()
    check_against_ort(model, feeds, tmp_path)
    nodes = [N("Gemm", ["x", "w", "b"], ["g"], transB=1), N(act, ["g"], ["y"], **attrs)]
    model, feeds = chain(nodes, {"x": randn(rng, 3, 8)}, {"w": randn(rng, 5, 8), "b": randn(rng, 5)}, opset=14)
    assert counts(optimized(model, tmp_path)) == {f"Gemm+{act}": 1}
    check_against_ort(model, feeds, tmp_path)


def test_relu6_clip_fused(tmp_path, rng):
    nodes = [N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), N("Clip", ["c", "lo", "hi"], ["y"])]
    model, feeds = chain(nodes, {"x": randn(rng, 1, 3, 4, 4, scale=4)},
                         {"w": randn(rng, 4, 3, 1, 1), "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)})
    g = optimized(model, tmp_path)
    assert counts(g) == {"Conv+Clip": 1}
    check_against_ort(model, feeds, tmp_path)


def test_activation_not_fused_when_conv_output_has_two_consumers(tmp_path, rng):
    nodes = [N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), N("Relu", ["c"], ["r"]), N("Neg", ["c"], ["n"]),
             N("Add", ["r", "n"], ["y"])]
    model, feeds = chain(nodes, {"x": randn(rng, 1, 3, 4, 4)}, {"w": randn(rng, 4, 3, 1, 1)})
    c = counts(optimized(model, tmp_path, disabled=["fuse_elementwise"]))  # which would fuse Relu, Neg and Add
    assert c.get("Relu", 0) == 1 and c.get("Neg", 0) == 1, c
    check_against_ort(model, feeds, tmp_path)


def test_residual_not_fused_when_conv_output_is_a_graph_output(tmp_path, rng):
    nodes = [N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]), N("Add", ["c", "x"], ["y"])]
    model, feeds = chain(nodes, {"x": randn(rng, 1, 4, 5, 5)}, {"w": randn(rng, 4, 4, 1, 1)}, outputs=("y", "c"))
    c = counts(optimized(model, tmp_path))
    assert c.get("Add", 0) == 1, c
    check_against_ort(model, feeds, tmp_path)


def test_shape_subgraph_folded(tmp_path, rng):
    nodes = [N("Shape", ["x"], ["s"]), N("Gather", ["s", "zero"], ["n"], axis=0), N("Unsqueeze", ["n", "ax0"], ["n1"]),
             N("Concat", ["n1", "minus1"], ["shape"], axis=0), N("Reshape", ["x", "shape"], ["y"])]
    model, feeds = chain(nodes, {"x": randn(rng, 2, 3, 4, 5)},
                         {"zero": np.array(0, np.int64), "ax0": np.array([0], np.int64),
                          "minus1": np.array([-1], np.int64)})
    c = counts(optimized(model, tmp_path))
    assert not ({"Shape", "Gather", "Unsqueeze", "Concat"} & set(c)), c
    assert sum(c.values()) <= 1, c
    check_against_ort(model, feeds, tmp_path)


def test_dead_nodes_removed(tmp_path, rng):
    nodes = [N("Relu", ["x"], ["y"]), N("Sigmoid", ["x"], ["unused"]), N("Tanh", ["unused"], ["unused2"])]
    model, feeds = chain(nodes, {"x": randn(rng, 3, 4)})
    assert counts(optimized(model, tmp_path)) == {"Relu": 1}


def test_mobilenet_optimized_shape(tmp_path):
    model = models.mobilenet_v2(size=32)
    before = {}
    for n in model.graph.node:
        before[n.op_type] = before.get(n.op_type, 0) + 1
    c = counts(optimized(model, tmp_path, batch=2))
    assert {base_op(k) for k in c} <= {"Conv", "GlobalAveragePool", "Flatten", "Reshape", "Gemm"}, c
    assert sum(v for k, v in c.items() if base_op(k) == "Conv") == before["Conv"], (c, before)
    # every Relu6 fused, and each residual Add absorbed by the projection conv
    assert c.get("Conv+Clip", 0) == before["Clip"] and c.get("Conv+Add", 0) == before["Add"], (c, before)


def test_unet_optimized_shape(tmp_path):
    model = models.unet(size=32)
    c = counts(optimized(model, tmp_path))
    assert not (set(c) & {"BatchNormalization", "Relu"}), c
    assert c.get("Concat", 0) == 2 and c.get("MaxPool", 0) == 2, c


def test_resnet50_optimized_shape(tmp_path):
    """Every BN folded, every residual Sum absorbed into a conv and every Relu fused."""
    c = counts(optimized(models.light_model("resnet50"), tmp_path))
    assert sum(v for k, v in c.items() if base_op(k) == "Conv") == 53, c
    # 16 blocks end in Conv+Add+Relu; the 4 projection shortcuts stay plain convs
    assert c.get("Conv+Add+Relu") == 16 and c.get("Conv") == 4, c
    assert not ({"BatchNormalization", "Sum", "Add", "Relu"} & set(c)), c


def test_inception_sibling_1x1_convs_merged(tmp_path, rng):
    """Inception v1's nine modules each have three 1x1 convs reading the module input: each trio becomes one wider
    conv followed by a Split, and the numbers still match onnxruntime."""
    model = models.light_model("inception_v1")
    merged = counts(optimized(model, tmp_path))
    unmerged = counts(optimized(model, tmp_path, disabled=("merge_sibling_convs",)))
    assert merged.get("Split") == 9 and "Split" not in unmerged, (merged, unmerged)
    n_conv = lambda c: sum(v for k, v in c.items() if base_op(k) == "Conv")  # noqa: E731
    assert n_conv(unmerged) == 57 and n_conv(merged) == 57 - 2 * 9, (merged, unmerged)
    name, shape = models.model_input(model)
    check_against_ort(model, {name: rng.standard_normal(shape).astype(np.float32)}, tmp_path)


def test_siblings_with_different_activations_stay_apart(tmp_path, rng):
    x = randn(rng, 1, 4, 5, 5)
    w1, w2 = randn(rng, 3, 4, 1, 1), randn(rng, 2, 4, 1, 1)
    nodes = [N("Conv", ["x", "w1"], ["a"]), N("Relu", ["a"], ["ar"]), N("Conv", ["x", "w2"], ["b"]),
             N("Concat", ["ar", "b"], ["y"], axis=1)]
    model, feeds = chain(nodes, {"x": x}, {"w1": w1, "w2": w2})
    c = counts(optimized(model, tmp_path))
    assert "Split" not in c, c


def test_silu_fused_into_conv(tmp_path, rng):
    """EfficientNet's activation as exporters write it, Mul(c, Sigmoid(c)), becomes one Conv+SiLU node."""
    x, w, b = randn(rng, 2, 3, 6, 6), randn(rng, 4, 3, 3, 3), randn(rng, 4)
    nodes = [N("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), N("Sigmoid", ["c"], ["s"]),
             N("Mul", ["s", "c"], ["y"])]
    model, feeds = chain(nodes, {"x": x}, {"w": w, "b": b})
    assert counts(optimized(model, tmp_path)) == {"Conv+SiLU": 1}
    check_against_ort(model, feeds, tmp_path)


def test_sigmoid_used_elsewhere_is_not_fused(tmp_path, rng):
    x, w = randn(rng, 1, 3, 5, 5), randn(rng, 4, 3, 1, 1)
    nodes = [N("Conv", ["x", "w"], ["c"]), N("Sigmoid", ["c"], ["s"]), N("Mul", ["c", "s"], ["m"]),
             N("Add", ["m", "s"], ["y"])]
    model, feeds = chain(nodes, {"x": x}, {"w": w})
    assert "Conv+SiLU" not in counts(optimized(model, tmp_path))
    check_against_ort(model, feeds, tmp_path)
