"""fuse_elementwise: chains of elementwise nodes become one FusedElementwise node (counted, as in test_passes.py),
which computes what onnxruntime computes on cpu and cuda, with and without the pass."""
import math

import numpy as np
import pytest
from onnx import TensorProto, helper

import trtcore
from conftest import assert_close, build_engine, check_against_ort, ort_run, save_model
from models import make_model
from op_cases import N, positive, randn

f32 = np.float32
FUSED = "FusedElementwise"
FP16_TOL = 1e-2


def optimized(model, tmp_path, disabled=()):
    path = save_model(model, tmp_path / "m.onnx")
    return trtcore.load_graph(path, stop_after="optimize", disabled_passes=list(disabled))


def ops(graph):
    return [n.op for n in graph.nodes]


def fused_nodes(graph):
    return [n for n in graph.nodes if n.op == FUSED]


def model_of(nodes, feeds, inits=None, outputs=("y",), opset=13):
    inputs = [(k, v.dtype, list(v.shape)) for k, v in feeds.items()]
    return make_model(nodes, inputs, [(o, f32, None) for o in outputs], inits or {}, opset=opset)


# ---------------------------------------------------------------------------------------------------------------
# models

def gelu(rng, shape=(2, 8, 16)):
    """GELU as exporters decompose it: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    x = randn(rng, *shape)
    nodes = [N("Div", ["x", "sqrt2"], ["d"]), N("Erf", ["d"], ["e"]), N("Add", ["e", "one"], ["a"]),
             N("Mul", ["x", "a"], ["m"]), N("Mul", ["m", "half"], ["y"])]
    inits = {"sqrt2": np.array(math.sqrt(2.0), f32), "one": np.array(1.0, f32), "half": np.array(0.5, f32)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


def hardswish(rng, shape=(2, 4, 6, 6)):
    """x * clip(x + 3, 0, 6) / 6 (MobileNetV3 as some exporters write it)."""
    x = randn(rng, *shape, scale=4.0)
    nodes = [N("Add", ["x", "three"], ["a"]), N("Clip", ["a", "zero", "six"], ["c"]), N("Mul", ["x", "c"], ["m"]),
             N("Div", ["m", "six"], ["y"])]
    inits = {"three": np.array(3.0, f32), "zero": np.array(0.0, f32), "six": np.array(6.0, f32)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


def silu(rng, shape=(3, 5, 7)):
    """x * sigmoid(x) on a graph input (no Conv before it, so fuse_activation leaves it)."""
    x = randn(rng, *shape, scale=3.0)
    nodes = [N("Sigmoid", ["x"], ["s"]), N("Mul", ["x", "s"], ["y"])]
    return model_of(nodes, {"x": x}), {"x": x}


def layernorm(rng, shape=(2, 6, 32)):
    """LayerNorm decomposed: the reductions stay, the elementwise tail (Div, Mul, Add) fuses."""
    x = randn(rng, *shape)
    c = shape[-1]
    nodes = [N("ReduceMean", ["x"], ["mu"], axes=[-1]), N("Sub", ["x", "mu"], ["d"]),
             N("Pow", ["d", "two"], ["sq"]), N("ReduceMean", ["sq"], ["var"], axes=[-1]),
             N("Add", ["var", "eps"], ["ve"]), N("Sqrt", ["ve"], ["sd"]), N("Div", ["d", "sd"], ["n"]),
             N("Mul", ["n", "gamma"], ["g"]), N("Add", ["g", "beta"], ["y"])]
    inits = {"two": np.array(2.0, f32), "eps": np.array(1e-5, f32), "gamma": positive(rng, c),
             "beta": randn(rng, c)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


def broadcasting(rng):
    """Operands of several shapes: a [C,1,1] constant, a [1,1,W] runtime input, a scalar constant and a
    per-row runtime input; every unary and binary opcode appears."""
    x = randn(rng, 2, 3, 4, 5)
    row = randn(rng, 1, 1, 5)
    col = positive(rng, 2, 1, 4, 1)
    nodes = [N("Mul", ["x", "scale"], ["a"]), N("Add", ["a", "row"], ["b"]), N("Tanh", ["b"], ["c"]),
             N("Sub", ["c", "col"], ["d"]), N("Abs", ["d"], ["e"]), N("Sqrt", ["e"], ["f"]),
             N("Max", ["f", "x"], ["g"]), N("Min", ["g", "two"], ["h"]), N("Neg", ["h"], ["i"]),
             N("Exp", ["i"], ["j"]), N("Log", ["j"], ["k"]), N("Reciprocal", ["col"], ["rc"]),
             N("Pow", ["rc", "k"], ["l"]), N("LeakyRelu", ["l"], ["m"], alpha=0.1),
             N("HardSigmoid", ["m"], ["n"], alpha=0.3, beta=0.4), N("Floor", ["row"], ["fl"]),
             N("Ceil", ["fl"], ["ce"]), N("Add", ["n", "ce"], ["y"])]
    inits = {"scale": randn(rng, 3, 1, 1), "two": np.array([2.0], f32)}
    feeds = {"x": x, "row": row, "col": col}
    return model_of(nodes, feeds, inits), feeds


def shared_intermediate(rng):
    """s = sigmoid(x) feeds two Muls that meet again in an Add: s stays inside the group (one node)."""
    x = randn(rng, 4, 10)
    y = randn(rng, 4, 10)
    nodes = [N("Sigmoid", ["x"], ["s"]), N("Mul", ["s", "x"], ["a"]), N("Mul", ["s", "z"], ["b"]),
             N("Add", ["a", "b"], ["y"])]
    return model_of(nodes, {"x": x, "z": y}), {"x": x, "z": y}


def split_by_other_consumer(rng):
    """t = Relu(x + 1) is read by the chain and by a MatMul: t's producers and its consumers fuse separately."""
    x = randn(rng, 4, 8)
    nodes = [N("Add", ["x", "one"], ["u"]), N("Relu", ["u"], ["t"]), N("MatMul", ["t", "w"], ["mm"]),
             N("Mul", ["t", "t"], ["sq"]), N("Tanh", ["sq"], ["th"]), N("Sum", ["th", "mm"], ["y"])]
    inits = {"one": np.array(1.0, f32), "w": randn(rng, 8, 8)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


def output_in_the_middle(rng):
    """The chain's intermediate 'mid' is also a graph output: it must stay a real value."""
    x = randn(rng, 3, 6)
    nodes = [N("Mul", ["x", "two"], ["a"]), N("Tanh", ["a"], ["mid"]), N("Sigmoid", ["mid"], ["b"]),
             N("Add", ["b", "x"], ["y"])]
    inits = {"two": np.array(2.0, f32)}
    return model_of(nodes, {"x": x}, inits, outputs=("y", "mid")), {"x": x}


def matmul_gelu(rng):
    """MatMul then GELU: in FP16 the MatMul is the anchor, so the fused chain runs on float16 values."""
    x = randn(rng, 2, 16, 32)
    nodes = [N("MatMul", ["x", "w"], ["h"]), N("Div", ["h", "sqrt2"], ["d"]), N("Erf", ["d"], ["e"]),
             N("Add", ["e", "one"], ["a"]), N("Mul", ["h", "a"], ["m"]), N("Mul", ["m", "half"], ["y"])]
    inits = {"w": randn(rng, 32, 24, scale=0.2), "sqrt2": np.array(math.sqrt(2.0), f32),
             "one": np.array(1.0, f32), "half": np.array(0.5, f32)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


def matmul_hardswish(rng):
    x = randn(rng, 4, 32)
    nodes = [N("MatMul", ["x", "w"], ["h"]), N("Add", ["h", "three"], ["a"]), N("Clip", ["a", "zero", "six"], ["c"]),
             N("Mul", ["h", "c"], ["m"]), N("Div", ["m", "six"], ["y"])]
    inits = {"w": randn(rng, 32, 48, scale=0.5), "three": np.array(3.0, f32), "zero": np.array(0.0, f32),
             "six": np.array(6.0, f32)}
    return model_of(nodes, {"x": x}, inits), {"x": x}


NUMERIC = {"gelu": gelu, "hardswish": hardswish, "silu": silu, "layernorm": layernorm, "broadcasting": broadcasting,
           "shared_intermediate": shared_intermediate, "split_by_other_consumer": split_by_other_consumer,
           "output_in_the_middle": output_in_the_middle, "matmul_gelu": matmul_gelu,
           "matmul_hardswish": matmul_hardswish}


# ---------------------------------------------------------------------------------------------------------------
# graph shape

def test_pass_listed_between_fuse_activation_and_dead_nodes():
    names = list(trtcore.pass_names())
    assert names.index("fuse_activation") < names.index("fuse_elementwise") < names.index("eliminate_dead_nodes")


def test_gelu_chain_becomes_one_node(tmp_path, rng):
    model, _ = gelu(rng)
    g = optimized(model, tmp_path)
    assert ops(g) == [FUSED], ops(g)
    node = g.nodes[0]
    assert node.label == "FusedElementwise+Div+Erf+Add+Mul+Mul", node.label
    assert node.inputs == ["x"], node.inputs  # the three scalar constants became immediates
    assert node.outputs == ["y"]
    assert g.op_counts() == {node.label: 1}
    rec = {p["name"]: p for p in g.passes}["fuse_elementwise"]
    assert (rec["nodes_before"], rec["nodes_after"]) == (5, 1), rec


def test_hardswish_and_silu_chains_fuse(tmp_path, rng):
    assert ops(optimized(hardswish(rng)[0], tmp_path)) == [FUSED]
    g = optimized(silu(rng)[0], tmp_path)
    assert ops(g) == [FUSED] and g.nodes[0].label.endswith("+Sigmoid+Mul"), [n.label for n in g.nodes]


def test_layernorm_tail_fuses_around_the_reductions(tmp_path, rng):
    g = optimized(layernorm(rng)[0], tmp_path)
    # Sub feeds Pow and Div (on both sides of a reduction), so Sub and Pow stay single nodes; the tail grows from
    # the last Add up to the reduction: Add(var, eps)+Sqrt+Div+Mul+Add.
    assert ops(g).count("ReduceMean") == 2, ops(g)
    tail = [n for n in fused_nodes(g) if n.outputs == ["y"]]
    assert len(tail) == 1 and tail[0].label == FUSED + "+Add+Sqrt+Div+Mul+Add", [n.label for n in g.nodes]
    assert "gamma" in tail[0].inputs and "beta" in tail[0].inputs
    assert "Mul" not in ops(g) and "Div" not in ops(g)


def test_intermediate_used_twice_inside_the_group_is_one_node(tmp_path, rng):
    g = optimized(shared_intermediate(rng)[0], tmp_path)
    assert ops(g) == [FUSED], ops(g)
    assert sorted(g.nodes[0].inputs) == ["x", "z"]


def test_intermediate_read_outside_splits_the_chain(tmp_path, rng):
    g = optimized(split_by_other_consumer(rng)[0], tmp_path)
    assert ops(g).count(FUSED) == 2, [n.label for n in g.nodes]
    first, second = fused_nodes(g)
    assert first.outputs == ["t"] and first.label.endswith("Add+Relu"), first.label
    assert second.inputs == ["t"] and second.label.endswith("Mul+Tanh"), second.label
    assert "MatMul" in ops(g) and "Sum" in ops(g)  # Sum is not fused (variadic op)


def test_graph_outputs_are_never_swallowed(tmp_path, rng):
    g = optimized(output_in_the_middle(rng)[0], tmp_path)
    produced = {o for n in g.nodes for o in n.outputs}
    assert {"mid", "y"} <= produced, [(n.label, n.outputs) for n in g.nodes]
    assert ops(g) == [FUSED, FUSED], [n.label for n in g.nodes]
    assert [n.outputs for n in g.nodes] == [["mid"], ["y"]]


def test_single_ops_and_conv_activations_are_left_alone(tmp_path, rng):
    x = randn(rng, 1, 3, 8, 8)
    nodes = [N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["r"]),
             N("Tanh", ["r"], ["y"])]
    model = model_of(nodes, {"x": x}, {"w": randn(rng, 4, 3, 3, 3), "b": randn(rng, 4)})
    g = optimized(model, tmp_path)
    # Relu went into the Conv; the lone Tanh has no partner to fuse with
    assert ops(g) == ["Conv", "Tanh"], [n.label for n in g.nodes]


def test_integer_elementwise_ops_are_not_fused(tmp_path):
    nodes = [N("Add", ["x", "one"], ["a"]), N("Mul", ["a", "a"], ["y"])]
    model = make_model(nodes, [("x", np.int64, [4])], [("y", np.int64, None)], {"one": np.array(1, np.int64)})
    g = optimized(model, tmp_path)
    assert ops(g) == ["Add", "Mul"]


def test_disabling_the_pass_keeps_the_nodes(tmp_path, rng):
    model, _ = gelu(rng)
    g = optimized(model, tmp_path, disabled=["fuse_elementwise"])
    assert ops(g) == ["Div", "Erf", "Add", "Mul", "Mul"]
    assert {p["name"]: p for p in g.passes}["fuse_elementwise"]["skipped"]


def test_onnx_file_cannot_use_the_internal_op(tmp_path):
    node = helper.make_node(FUSED, ["x"], ["y"], program=[0, 0, -1], immediates=[0.0, 0.0], out_rank=1)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = save_model(model, tmp_path / "internal.onnx")
    with pytest.raises(trtcore.Error) as info:
        trtcore.load_graph(path)
    assert info.value.kind == "unsupported" and FUSED in str(info.value), str(info.value)
    report = trtcore.check_onnx(path)
    assert [r.supported for r in report] == [False], [(r.node, r.reason) for r in report]


# ---------------------------------------------------------------------------------------------------------------
# numbers

@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_cpu_matches_onnxruntime_and_the_unfused_graph(name, tmp_path, rng):
    model, feeds = NUMERIC[name](rng)
    eng, fused, ref = check_against_ort(model, feeds, tmp_path)
    assert any(l.op.startswith(FUSED) for l in eng.layers), [l.op for l in eng.layers]
    plain = build_engine(model, tmp_path, name="plain", disabled_passes=["fuse_elementwise"]).infer(dict(feeds))
    for k in ref:
        assert_close(fused[k], plain[k], tol=1e-5, what=f"fused vs unfused '{k}'")


def test_cpu_batch_below_the_maximum(tmp_path, rng):
    """A plan built for batch 4 runs batch 2: the fused node's shapes follow the batch."""
    x = randn(rng, 4, 6, 10)
    bias = randn(rng, 10)
    nodes = [N("Add", ["x", "bias"], ["a"]), N("Sigmoid", ["a"], ["s"]), N("Mul", ["a", "s"], ["y"])]
    model = make_model(nodes, [("x", f32, ["N", 6, 10])], [("y", f32, None)], {"bias": bias})
    eng = build_engine(model, tmp_path, batch=4)
    got = eng.infer({"x": x[:2]})["y"]
    a = x[:2] + bias
    assert_close(got, a / (1 + np.exp(-a)))


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_cuda_fp32_matches_onnxruntime_and_the_unfused_graph(name, tmp_path, rng):
    model, feeds = NUMERIC[name](rng)
    eng, fused, ref = check_against_ort(model, feeds, tmp_path, backend="cuda", strict_fp32=True)
    assert any(l.op.startswith(FUSED) for l in eng.layers), [l.op for l in eng.layers]
    plain = build_engine(model, tmp_path, name="plain", backend="cuda", strict_fp32=True,
                         disabled_passes=["fuse_elementwise"]).infer(dict(feeds))
    for k in ref:
        assert_close(fused[k], plain[k], tol=1e-5, what=f"fused vs unfused '{k}'")


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_cuda_fp16_matches_onnxruntime(name, tmp_path, rng):
    model, feeds = NUMERIC[name](rng)
    eng = build_engine(model, tmp_path, backend="cuda", precision="fp16")
    got = eng.infer(dict(feeds))
    for k, expected in ort_run(model, feeds).items():
        assert_close(got[k], expected, tol=FP16_TOL, what=f"cuda fp16 '{k}'")
    if name.startswith("matmul_"):  # the anchor makes the fused chain itself run on float16
        fused = [l for l in eng.layers if l.op.startswith(FUSED)]
        assert fused and all(l.precision == "fp16" for l in fused), [(l.op, l.precision) for l in eng.layers]
    plain = build_engine(model, tmp_path, name="plain", backend="cuda", precision="fp16",
                         disabled_passes=["fuse_elementwise"]).infer(dict(feeds))
    for k in got:
        assert_close(got[k], plain[k], tol=FP16_TOL, what=f"fp16 fused vs unfused '{k}'")


def test_plan_round_trip_keeps_the_program(tmp_path, rng):
    model, feeds = broadcasting(rng)
    eng = build_engine(model, tmp_path)
    before = eng.infer(dict(feeds))
    plan = str(tmp_path / "fused.plan")
    eng.save(plan)
    loaded = trtcore.Engine(plan)
    assert [l.op for l in loaded.layers] == [l.op for l in eng.layers]
    assert any(l.op.startswith(FUSED) for l in loaded.layers)
    after = loaded.infer(dict(feeds))
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
