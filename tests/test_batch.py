"""Dynamic batch: a plan built for batch N runs any batch <= N; a bigger batch or a wrong shape is an error."""
import numpy as np
import pytest

import trtcore
import models
from conftest import assert_close, build_engine, ort_run
from op_cases import N, chain, randn


@pytest.fixture(scope="module")
def mobilenet():
    return models.mobilenet_v2(size=32, seed=11)


def test_dynamic_batch_runs_every_batch_up_to_max(mobilenet, tmp_path, rng):
    engine = build_engine(mobilenet, tmp_path, batch=8)
    assert engine.max_batch == 8
    (inp,) = engine.inputs
    assert inp.name == "input" and inp.batched and list(inp.shape) == [8, 3, 32, 32]
    assert list(engine.outputs[0].shape) == [8, 10]
    for batch in (1, 3, 8):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        got = engine.infer({"input": x})["logits"]
        assert got.shape == (batch, 10)
        assert_close(got, ort_run(mobilenet, {"input": x})["logits"], what=f"batch {batch}")


def test_batch_above_max_is_an_error(mobilenet, tmp_path, rng):
    engine = build_engine(mobilenet, tmp_path, batch=8)
    with pytest.raises(trtcore.Error) as info:
        engine.infer({"input": rng.standard_normal((9, 3, 32, 32)).astype(np.float32)})
    assert "8" in str(info.value) and "9" in str(info.value), str(info.value)
    # the engine still works afterwards
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    assert_close(engine.infer({"input": x})["logits"], ort_run(mobilenet, {"input": x})["logits"])


@pytest.mark.parametrize("shape", [(2, 3, 32, 31), (2, 4, 32, 32), (3, 32, 32), (2, 3, 32, 32, 1)])
def test_wrong_sample_shape_is_an_error(shape, mobilenet, tmp_path, rng):
    engine = build_engine(mobilenet, tmp_path, batch=4)
    with pytest.raises(trtcore.Error) as info:
        engine.infer({"input": rng.standard_normal(shape).astype(np.float32)})
    assert "input" in str(info.value)


def test_missing_input_is_an_error(tmp_path, rng):
    model, _ = chain([N("Add", ["first_in", "second_in"], ["y"])],
                     {"first_in": randn(rng, 2, 4), "second_in": randn(rng, 2, 4)})
    engine = build_engine(model, tmp_path)
    with pytest.raises(trtcore.Error) as info:
        engine.infer({"first_in": randn(rng, 2, 4)})
    assert "second_in" in str(info.value)


def test_positional_array_for_single_input(mobilenet, tmp_path, rng):
    engine = build_engine(mobilenet, tmp_path, batch=4)
    x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
    assert_close(engine.infer(x)["logits"], ort_run(mobilenet, {"input": x})["logits"])


def test_two_batched_inputs(tmp_path, rng):
    nodes = [N("MatMul", ["a", "w"], ["m"]), N("Add", ["m", "b"], ["y"])]
    from models import make_model
    model = make_model(nodes, [("a", np.float32, ["N", 6]), ("b", np.float32, ["N", 5])], [("y", np.float32, None)],
                       {"w": randn(rng, 6, 5)})
    engine = build_engine(model, tmp_path, batch=6)
    for batch in (1, 6):
        feeds = {"a": randn(rng, batch, 6), "b": randn(rng, batch, 5)}
        assert_close(engine.infer(feeds)["y"], ort_run(model, feeds)["y"])


def test_batch_results_do_not_depend_on_batch_size(mobilenet, tmp_path, rng):
    """Samples are independent: sample i of a batch of 8 equals the same sample run alone (both checked
    against onnxruntime above; this catches a batch-stride bug that happens to stay under tolerance)."""
    engine = build_engine(mobilenet, tmp_path, batch=8)
    x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    full = engine.infer({"input": x})["logits"]
    for i in (0, 5, 7):
        single = engine.infer({"input": x[i:i + 1]})["logits"]
        np.testing.assert_allclose(single[0], full[i], rtol=1e-5, atol=1e-5)


def _fully_conv(rng):
    from models import NetBuilder
    nb = NetBuilder(seed=12)
    y = nb.relu(nb.conv("input", 3, 8, 3))
    y = nb.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    y = nb.conv(y, 8, 4, 3)
    nb.nodes[-1].output[0] = "out"
    return nb.model([("input", np.float32, ["N", 3, "H", "W"])], [("out", np.float32, None)], "fcn")


def test_shapes_option_fixes_other_dynamic_axes(tmp_path, rng):
    model = _fully_conv(rng)
    engine = build_engine(model, tmp_path, batch=2, shapes={"input": [2, 3, 24, 40]})
    assert list(engine.inputs[0].shape) == [2, 3, 24, 40]
    x = rng.standard_normal((2, 3, 24, 40)).astype(np.float32)
    assert_close(engine.infer({"input": x})["out"], ort_run(model, {"input": x})["out"])
    with pytest.raises(trtcore.Error):
        engine.infer({"input": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)})


def test_unresolved_dynamic_axis_is_an_error_naming_the_input(tmp_path, rng):
    with pytest.raises(trtcore.Error) as info:
        build_engine(_fully_conv(rng), tmp_path, batch=2)
    assert "input" in str(info.value)


def test_shapes_for_unknown_input_is_an_error(tmp_path, rng):
    with pytest.raises(trtcore.Error) as info:
        build_engine(_fully_conv(rng), tmp_path, shapes={"nope": [1, 3, 8, 8], "input": [1, 3, 8, 8]})
    assert "nope" in str(info.value)


@pytest.mark.parametrize("batch", [-1, -8])
def test_invalid_max_batch_is_an_error(batch, mobilenet, tmp_path):
    with pytest.raises(trtcore.Error):
        build_engine(mobilenet, tmp_path, batch=batch)


def test_batch_zero_means_the_files_own_batch(tmp_path, rng):
    model, _ = chain([N("Relu", ["x"], ["y"])], {"x": randn(rng, 3, 4)})
    engine = build_engine(model, tmp_path, batch=0)
    x = randn(rng, 3, 4)
    assert_close(engine.infer({"x": x})["y"], np.maximum(x, 0))


def test_equal_but_not_identical_dtype_objects_accepted(tmp_path, rng):
    """A float32 array whose dtype object is not numpy's canonical one (an unpickled array, or an explicit
    byte-order dtype) is still float32."""
    import pickle
    model, _ = chain([N("Relu", ["x"], ["y"])], {"x": randn(rng, 2, 4)})
    engine = build_engine(model, tmp_path, batch=2)
    for x in (pickle.loads(pickle.dumps(randn(rng, 2, 4))),
              np.ones((2, 4), dtype=np.dtype("<f4").newbyteorder("="))):
        assert_close(engine.infer({"x": x})["y"], np.maximum(x, 0))


def test_static_model_built_with_default_batch_runs_at_its_own_batch(tmp_path, rng):
    """A model whose input is static [2, 4] built without --batch computes what the file says."""
    model, _ = chain([N("Relu", ["x"], ["y"])], {"x": randn(rng, 2, 4)})
    import trtcore as tc
    from conftest import save_model
    engine = tc.build(save_model(model, tmp_path / "m.onnx"), backend="cpu")
    x = randn(rng, 2, 4)
    assert_close(engine.infer({"x": x})["y"], ort_run(model, {"x": x})["y"])


def test_static_inputs_with_different_axis0_keep_their_shapes(tmp_path, rng):
    """Axis 0 is not a batch for every input: Add(a[2,3,4], b[4]) and MatMul(a[2,3], b[3,5]) with both operands
    as graph inputs must keep b's shape whatever --batch says."""
    for nodes, feeds in [([N("Add", ["a", "b"], ["y"])], {"a": randn(rng, 2, 3, 4), "b": randn(rng, 4)}),
                         ([N("MatMul", ["a", "b"], ["y"])], {"a": randn(rng, 2, 3), "b": randn(rng, 3, 5)})]:
        model, _ = chain(nodes, feeds)
        engine = build_engine(model, tmp_path, batch=2)
        assert_close(engine.infer(feeds)["y"], ort_run(model, feeds)["y"])
