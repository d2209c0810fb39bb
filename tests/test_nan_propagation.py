"""A NaN in the input flows through the cpu backend's fused kernels (conv/gemm epilogues, Winograd, depthwise, pools,
reductions) to the same output places as onnxruntime's: Relu(NaN) and Clip(NaN) are NaN, not 0."""
import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from conftest import FP32_TOL, check_against_ort, ort_run

F = TensorProto.FLOAT


def _model(nodes, x_shape, inits, extra_inputs=()):
    graph = helper.make_graph(
        nodes, "nan_flow", [helper.make_tensor_value_info("x", F, x_shape), *extra_inputs],
        [helper.make_tensor_value_info("y", F, None)], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _tensor(name, a):
    return helper.make_tensor(name, F, a.shape, a.astype(np.float32).ravel())


def _conv(rng, c, m, k, group=1, act=None, stride=1, residual=False):
    """Conv (+ Add of the input as a residual) (+ activation) on a 1 x c x 20 x 20 input."""
    w = rng.standard_normal((m, c // group, k, k)).astype(np.float32) * 0.3
    b = rng.standard_normal(m).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k, k], pads=[k // 2] * 4,
                              strides=[stride, stride], group=group)]
    inits = [_tensor("w", w), _tensor("b", b)]
    last = "c"
    if residual:
        nodes.append(helper.make_node("Add", ["c", "x"], ["s"]))
        last = "s"
    if act == "Clip":
        inits += [_tensor("lo", np.array(0.0)), _tensor("hi", np.array(6.0))]
        nodes.append(helper.make_node("Clip", [last, "lo", "hi"], ["y"]))
    elif act:
        nodes.append(helper.make_node(act, [last], ["y"]))
    else:
        nodes[-1].output[0] = "y"
    return _model(nodes, [1, c, 20, 20], inits)


def _input_with_nan(rng, shape, where):
    x = rng.standard_normal(shape).astype(np.float32)
    x[where] = np.nan
    return x


CONV_CASES = {
    "conv3x3_relu_winograd": dict(c=16, m=32, k=3, act="Relu"),
    "conv1x1_relu_gemm": dict(c=16, m=32, k=1, act="Relu"),
    "conv3x3_stride2_relu_im2col": dict(c=8, m=16, k=3, act="Relu", stride=2),
    "conv3x3_clip": dict(c=16, m=32, k=3, act="Clip"),
    "conv3x3_add_relu": dict(c=16, m=16, k=3, act="Relu", residual=True),
    "depthwise3x3_relu": dict(c=32, m=32, k=3, group=32, act="Relu"),
    "depthwise3x3_clip": dict(c=32, m=32, k=3, group=32, act="Clip"),
    "conv3x3_hardsigmoid": dict(c=16, m=16, k=3, act="HardSigmoid"),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_nan_pixel_through_fused_conv_matches_onnxruntime(case, rng, tmp_path):
    spec = CONV_CASES[case]
    model = _conv(rng, **spec)
    x = _input_with_nan(rng, (1, spec["c"], 20, 20), (0, 3, 7, 9))
    _, got, ref = check_against_ort(model, {"x": x}, tmp_path, tol=FP32_TOL, backend="cpu")
    assert np.isnan(ref["y"]).any(), "the reference must carry the NaN for this test to mean anything"


@pytest.mark.parametrize("act", ["Relu", "Clip", None])
def test_nan_through_gemm_epilogue_matches_onnxruntime(act, rng, tmp_path):
    w = rng.standard_normal((64, 48)).astype(np.float32)
    b = rng.standard_normal(48).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["g"])]
    inits = [_tensor("w", w), _tensor("b", b)]
    if act == "Clip":
        inits += [_tensor("lo", np.array(-1.0)), _tensor("hi", np.array(1.0))]
        nodes.append(helper.make_node("Clip", ["g", "lo", "hi"], ["y"]))
    elif act:
        nodes.append(helper.make_node(act, ["g"], ["y"]))
    else:
        nodes[-1].output[0] = "y"
    x = _input_with_nan(rng, (8, 64), (2, 5))
    check_against_ort(_model(nodes, [8, 64], inits), {"x": x}, tmp_path, tol=FP32_TOL, backend="cpu")


@pytest.mark.parametrize("op", ["HardSigmoid", "HardSwish", "Relu", "LeakyRelu", "AveragePool"])
def test_nan_through_single_op_matches_onnxruntime(op, rng, tmp_path):
    attrs = {"kernel_shape": [3, 3]} if op == "AveragePool" else {}
    model = _model([helper.make_node(op, ["x"], ["y"], **attrs)], [2, 3, 5, 5], [])
    x = _input_with_nan(rng, (2, 3, 5, 5), (1, 2, 2, 2))
    check_against_ort(model, {"x": x}, tmp_path, tol=FP32_TOL, backend="cpu")


@pytest.mark.parametrize("op", ["Max", "Min"])
@pytest.mark.parametrize("nan_in", ["first", "second"])
def test_nan_in_either_operand_of_min_max(op, nan_in, rng, tmp_path):
    other = helper.make_tensor_value_info("z", F, [4, 6])
    model = _model([helper.make_node(op, ["x", "z"], ["y"])], [4, 6], [], extra_inputs=[other])
    x, z = rng.standard_normal((2, 4, 6)).astype(np.float32)
    (x if nan_in == "first" else z)[1, 2] = np.nan
    check_against_ort(model, {"x": x, "z": z}, tmp_path, tol=FP32_TOL, backend="cpu")


@pytest.mark.parametrize("shape,kernel,stride", [((1, 2, 20, 20), 3, 1), ((1, 2, 20, 37), 3, 2), ((1, 2, 8, 8), 2, 2)])
def test_maxpool_nan_matches_onnx_reference(shape, kernel, stride, rng, tmp_path):
    """ONNX's reference MaxPool and onnxruntime skip a NaN in the window (onnxruntime only keeps one that is the
    window's last element); trtcore follows the reference. The NaN sits in the first row, the last element of no
    window, so the two references agree and both are checked."""
    model = _model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[kernel] * 2, strides=[stride] * 2)],
                   list(shape), [])
    x = _input_with_nan(rng, shape, (0, 1, 0, 1))
    x[0, 1, 1, 1] = 50.0  # the max of every window around the NaN, so skipping it gives a known value
    expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
    np.testing.assert_array_equal(ort_run(model, {"x": x})["y"], expected)
    _, got, _ = check_against_ort(model, {"x": x}, tmp_path, tol=FP32_TOL, backend="cpu")
    np.testing.assert_array_equal(got["y"], expected)
