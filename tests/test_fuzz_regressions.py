"""Inputs the libFuzzer harnesses of fuzz/ found crashing (sanitizer reports, uncaught exceptions), kept in
tests/fuzz_reproducers/: each must now fail with a trtcore.Error naming the problem, or run. Plans there carry a valid
CRC-64 (the plan harness recomputes it, so the fuzzer's mutations reach the sections). Where the sanitizer build of
the harnesses exists (fuzz/run.sh), every reproducer is also replayed through its harness."""
import os
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper

import trtcore
from conftest import save_model, ort_run

HERE = os.path.dirname(os.path.abspath(__file__))
REPRO = os.path.join(HERE, "fuzz_reproducers")
FUZZ_BIN = os.path.join(HERE, "..", "build", "fuzz", "fuzz")


def repro(name):
    return os.path.join(REPRO, name)


def build_and_run(path):
    engine = trtcore.build(path, backend="cpu", batch=2, threads=1)
    feeds = {i.name: np.zeros([1] + list(i.shape[1:]), np.float32) for i in engine.inputs}
    return engine.infer(feeds)


@pytest.mark.parametrize("name, match", [
    ("conv_dilation_overflow.plan", r"must be <= 2147483648"),
    ("depth_to_space_blocksize_overflow.plan", r"blocksize .* makes the output extents overflow"),
    ("fused_elementwise_out_rank.plan", r"out_rank .* is above 8"),
    ("cast_batch_beyond_shapes.plan", r"graph input 'x' has batch 2 but the maximum batch is 1048578"),
    ("slice_output_dtype.plan", r"value 'u' is stored as float64 .*but node 'resize' \(Resize\) computes float32"),
])
def test_plan_reproducers_fail_cleanly(name, match):
    with pytest.raises(trtcore.Error, match=match):
        trtcore.Engine(repro(name))


@pytest.mark.parametrize("name, match", [
    ("gemm_float16_weights.onnx", r"float32 only; input 1 'b' is float16"),
    ("conv_transpose_bool_bias.onnx", r"float32 only; input 2 'b' is bool"),
    ("softmax_bool_input.onnx", r"float32 only; input 0 'c' is bool"),
    ("reduce_nan_axes.onnx", r"the float nan cannot be read as an integer"),
    ("resize_huge_scale.onnx", r"scales give axis 0 an extent beyond 2\^40"),
    ("reshape_overflow.onnx", r"target shape has more than 2\^63 elements"),
    ("split_scalar.onnx", r"cannot split a scalar"),
    ("split_sizes_overflow.onnx", r"split sizes add up to more than axis 1's size 4"),
    ("pad_overflow.onnx", r"pads 2 and 9223372036854775807 overflow axis 0"),
    # the Pad feeding the Concat already exceeds the per-tensor bound; either check refuses the model cleanly
    ("concat_overflow.onnx", r"the inputs' extents along axis 1 overflow int64|a tensor may hold at most 2\^31 elements"),
    ("tile_overflow.onnx", r"repeats 7166459843149037570 overflow axis 1 of size 3"),
    # sizes [9, 13] for axes 2 and 3 of a [1, 3, 5, 0, 6] input: the nearest kernel read from the empty input
    ("resize_empty_input_axis.onnx", r"axis 3 of the input is empty: there is nothing to resize"),
    ("lrn_int8_input.onnx", r"normalizes float32 only, got int8"),
    ("qconv_float16_bias.onnx", r"the bias must be float32, got float16"),
    ("squeeze_scalar_axes_input.onnx", r"cannot squeeze axis 0 of a scalar"),
    ("conv_transpose_output_shape_int64_min.onnx", r"output_shape value -9223372036854775808 is not between 1"),
])
def test_onnx_reproducers_fail_cleanly(name, match):
    with pytest.raises(trtcore.Error, match=match):
        build_and_run(repro(name))


def test_bool_bytes_beyond_one_cast_as_true(tmp_path):
    # ONNX Cast: any nonzero bool byte is true, so 255 and 2 become 1.0 (a file may hold such bytes).
    raw = bytes([0, 1, 255, 2])
    flags = helper.make_tensor("flags", TensorProto.BOOL, [4], raw, raw=True)
    nodes = [helper.make_node("Cast", ["flags"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "f"], ["y"])]
    graph = helper.make_graph(nodes, "cast_bool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [flags])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    x = np.array([0.5, 0.5, 0.5, 0.5], np.float32)
    y = trtcore.build(path, backend="cpu").infer({"x": x})["y"]
    np.testing.assert_array_equal(y, x + (np.frombuffer(raw, np.uint8) != 0).astype(np.float32))


@pytest.mark.parametrize("steps", [[2**63 - 1, 1, 3], [1, -2**63, 2**62], [5800777057541554178, 8362620, -1]])
def test_slice_steps_beyond_the_extent(tmp_path, steps):
    # A step larger than the axis takes its first element (numpy's slicing is the reference).
    starts, ends = [0, 5, 1], [4, -100, 7]
    inits = [helper.make_tensor(n, TensorProto.INT64, [3], v) for n, v in
             [("starts", starts), ("ends", ends), ("axes", [0, 1, 2]), ("steps", steps)]]
    node = helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])
    graph = helper.make_graph([node], "slice", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    x = np.random.default_rng(0).standard_normal((4, 6, 7)).astype(np.float32)
    y = trtcore.build(path, backend="cpu").infer({"x": x})["y"]
    want = x[tuple(slice(b, e, st) for b, e, st in zip(starts, ends, steps))]
    np.testing.assert_array_equal(y, want)


def test_cast_float_to_uint8_wraps_like_integers(tmp_path):
    # Floats outside uint8 (but inside int64) convert as numpy's float -> int64 -> uint8 does, without undefined
    # behaviour (a Floor -> Cast(uint8) model reached a -1.0 to uint8 conversion).
    node = helper.make_node("Cast", ["x"], ["y"], to=TensorProto.UINT8)
    graph = helper.make_graph([node], "cast", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
                              [helper.make_tensor_value_info("y", TensorProto.UINT8, [6])])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    x = np.array([-1.0, 300.0, 2.5, -3.7, 255.0, -256.5], np.float32)
    y = trtcore.build(path, backend="cpu").infer({"x": x})["y"]
    np.testing.assert_array_equal(y, x.astype(np.int64).astype(np.uint8))


def harness_for(name):
    return "fuzz_plan_run" if name.endswith(".plan") else "fuzz_onnx_build_run"


@pytest.mark.parametrize("name", sorted(os.listdir(REPRO)))
def test_reproducers_replay_under_sanitizers(name):
    binary = os.path.join(FUZZ_BIN, harness_for(name))
    if not os.path.exists(binary):
        pytest.skip("the fuzz harnesses are not built (fuzz/run.sh builds them with clang)")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    # the harnesses carry their own ASan runtime; one preloaded for a sanitized module (scripts/sanitize.sh) clashes
    env.pop("LD_PRELOAD", None)
    proc = subprocess.run([binary, repro(name)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_gather_with_an_empty_inner_axis(tmp_path):
    # Gather from a [10, 8, 0] constant: the output [7, 1, 8, 0] is empty (its copy from the null buffer of the
    # empty constant was undefined; scripts/sanitize.sh asan catches that). Shape as onnxruntime gives it.
    data = np.zeros((10, 8, 0), np.float32)
    graph = helper.make_graph([helper.make_node("Gather", ["data", "idx"], ["y"], axis=0)], "gather_empty",
                              [helper.make_tensor_value_info("idx", TensorProto.INT64, [7, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor("data", TensorProto.FLOAT, data.shape, data.ravel())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = save_model(model, tmp_path / "m.onnx")
    idx = np.array([[9], [0], [3], [-1], [5], [2], [-10]], np.int64)
    y = trtcore.build(path, backend="cpu").infer({"idx": idx})["y"]
    assert y.shape == ort_run(model, {"idx": idx})["y"].shape == (7, 1, 8, 0)


def test_resize_of_an_empty_axis_is_refused(tmp_path):
    # sizes would give axis 3 (empty in the input) 13 elements read from nothing
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], axes=[2, 3], mode="nearest")
    graph = helper.make_graph([node], "resize_empty", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                       [1, 3, 5, 0, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor("sizes", TensorProto.INT64, [2], [9, 13])])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), tmp_path / "m.onnx")
    with pytest.raises(trtcore.Error, match=r"axis 3 of the input is empty: there is nothing to resize"):
        trtcore.build(path, backend="cpu")


def test_lrn_window_of_int64_max_channels(tmp_path):
    # size 2^63 - 1 (its work estimate overflowed int64): the window covers every channel. Reference: the ONNX
    # spec's formula with numpy, square_sum over all channels and alpha divided by size.
    size, alpha, beta, bias = 2**63 - 1, 0.01, 0.6, 2.0
    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)
    graph = helper.make_graph([node], "lrn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    x = np.random.default_rng(2).standard_normal((1, 4, 3, 3)).astype(np.float32) * 1e10
    y = trtcore.build(path, backend="cpu").infer({"x": x})["y"]
    square_sum = (x.astype(np.float64) ** 2).sum(axis=1, keepdims=True)
    want = x / (bias + alpha / size * square_sum) ** beta
    np.testing.assert_allclose(y, want, rtol=1e-5)


def test_conv_1x1_with_end_pads_only(tmp_path):
    # pads [0, 0, 0, 3]: the output is 3 columns wider than the input, so the 1x1 fast path (a block of the input)
    # read past it. onnxruntime is the reference.
    rng = np.random.default_rng(4)
    w = rng.standard_normal((4, 8, 1, 1)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1], pads=[0, 0, 0, 3])
    graph = helper.make_graph([node], "conv_end_pads", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                        [1, 8, 3, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = save_model(model, tmp_path / "m.onnx")
    x = rng.standard_normal((1, 8, 3, 6)).astype(np.float32)
    y = trtcore.build(path, backend="cpu").infer({"x": x})["y"]
    np.testing.assert_allclose(y, ort_run(model, {"x": x})["y"], rtol=1e-5, atol=1e-5)


def test_matmul_with_an_empty_broadcast_batch(tmp_path):
    # [1, 1, 4, 1] x [1, 0, 1, 5]: batch axes 1 and 0 broadcast to 0, so the output [1, 0, 4, 5] is empty (the
    # kernel took the larger extent and read B's null buffer). Shape as onnxruntime gives it.
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    graph = helper.make_graph([node], "matmul_empty", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 1, 4, 1]),
                                                         helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 0, 1, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = save_model(model, tmp_path / "m.onnx")
    feeds = {"a": np.ones((1, 1, 4, 1), np.float32), "b": np.ones((1, 0, 1, 5), np.float32)}
    y = trtcore.build(path, backend="cpu", batch=1).infer(feeds)["y"]
    assert y.shape == ort_run(model, feeds)["y"].shape == (1, 0, 4, 5)


def test_abs_of_the_most_negative_int64(tmp_path):
    # -(-2^63) overflows int64 (undefined; scripts/sanitize.sh asan catches it); numpy's abs wraps to -2^63
    graph = helper.make_graph([helper.make_node("Abs", ["x"], ["y"])], "abs",
                              [helper.make_tensor_value_info("x", TensorProto.INT64, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, [3])])
    path = save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "m.onnx")
    x = np.array([-1, np.iinfo(np.int64).min, 1024], np.int64)
    np.testing.assert_array_equal(trtcore.build(path, backend="cpu").infer({"x": x})["y"], np.abs(x))
