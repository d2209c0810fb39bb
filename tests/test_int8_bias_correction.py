"""INT8 bias correction (--int8-bias-correction on): each quantized Conv/Gemm's bias absorbs the expected output shift
of its int8 weights' rounding. Reference: onnxruntime's float32 run of the same model. On inputs with a large mean
(where rounding errors times E[x] add up to a systematic shift), the corrected plan's mean output shift per channel
must be smaller than the uncorrected plan's."""
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import trtcore
from conftest import ort_run, save_model


def shifted_input_model(seed=0, size=10):
    """Conv(32->16, 3x3, bias) -> Gemm over the flattened, pooled channels; weights at random."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((16, 32, 3, 3)) * 0.05).astype(np.float32)
    b = (rng.standard_normal(16) * 0.1).astype(np.float32)
    g = (rng.standard_normal((10, 16)) * 0.3).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"), numpy_helper.from_array(g, "g")]
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("GlobalAveragePool", ["conv"], ["pool"]),
             helper.make_node("Flatten", ["pool"], ["flat"]),
             helper.make_node("Gemm", ["flat", "g"], ["output"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "shifted",
                              [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 32, size, size])],
                              [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("conv", onnx.TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _inputs(rng, n):
    # channel means far from zero relative to the spread, as after a ReLU
    means = rng.uniform(1.0, 4.0, (1, 32, 1, 1)).astype(np.float32)
    return (means + 0.3 * rng.standard_normal((n, 32, 10, 10))).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bias_correction_reduces_the_mean_output_shift(tmp_path, seed):
    model = shifted_input_model(seed)
    src = save_model(model, tmp_path / "s.onnx")
    rng = np.random.default_rng(10 + seed)
    calib, x = _inputs(rng, 32), _inputs(rng, 16)
    ref = ort_run(model, {"input": x})["conv"]
    shift = {}
    for bc in ("off", "on"):
        e = trtcore.build(src, backend="cpu", batch=16, precision="int8", calibrator="max", calibration_data=[calib],
                          int8_bias_correction=bc)
        got = e.infer({"input": x})["conv"]
        # per output channel: the mean over samples and positions of (int8 - fp32), away from the zero-padded border
        diff = (got - ref)[:, :, 1:-1, 1:-1]
        shift[bc] = float(np.mean(np.abs(diff.mean(axis=(0, 2, 3)))))
    assert shift["on"] < shift["off"], shift


def test_bias_correction_is_recorded_and_needs_means_in_the_cache(tmp_path):
    model = shifted_input_model()
    src = save_model(model, tmp_path / "s.onnx")
    calib = _inputs(np.random.default_rng(5), 8)
    plain, corrected = str(tmp_path / "plain.cache"), str(tmp_path / "bc.cache")
    trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib], calibration_cache=plain)
    with pytest.raises(trtcore.Error) as err:
        trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=plain, int8_bias_correction="on")
    assert plain in str(err.value) and "means" in str(err.value)
    e1 = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_data=[calib],
                       calibration_cache=corrected, int8_bias_correction="on")
    e2 = trtcore.build(src, backend="cpu", batch=8, precision="int8", calibration_cache=corrected,
                       int8_bias_correction="on")  # from the cache and its means alone
    x = _inputs(np.random.default_rng(6), 8)
    np.testing.assert_array_equal(e1.infer({"input": x})["output"], e2.infer({"input": x})["output"])
