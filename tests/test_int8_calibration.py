"""INT8 from our own calibration on the cpu backend, through the `trtcore` command: calibration over a folder of raw
samples, TensorRT-format caches (written, read back, checked against the model), batch-size and order independence,
and the user errors. References: onnxruntime's float32 run of the same model; Python's struct for the cache's bits."""
import json
import os
import shutil
import struct

import numpy as np
import onnx
import pytest

import models
import trtcore
from conftest import ort_run, rel_l2, save_model
from test_cli import assert_clean_failure, trtcore_cli

SIZE = 32


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A MobileNetV2-style model (depthwise, residuals, ReLU6, classifier) and 24 raw samples of smooth images."""
    tmp = tmp_path_factory.mktemp("int8")
    model = models.mobilenet_v2(size=SIZE, seed=7)
    onnx_path = save_model(model, tmp / "mbv2.onnx")
    rng = np.random.default_rng(0)
    samples = tmp / "calib"
    samples.mkdir()
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    arrays = []
    for i in range(24):
        a = np.stack([np.sin(xx * rng.uniform(1, 6) + rng.uniform(0, 3)) * np.cos(yy * rng.uniform(1, 6))
                      for _ in range(3)]).astype(np.float32)
        a += rng.normal(0, 0.1, a.shape).astype(np.float32)
        (samples / f"s{i:03d}.raw").write_bytes(a.tobytes())
        arrays.append(a)
    return tmp, onnx_path, model, samples, np.stack(arrays)


def _build(setup, name, *extra):
    tmp, onnx_path, _, samples, _ = setup
    plan = tmp / f"{name}.plan"
    proc = trtcore_cli("build", "--onnx", onnx_path, "--backend", "cpu", "--batch", 4, "--int8", "--plan", plan, *extra)
    assert proc.returncode == 0, proc.output
    return plan, proc


def _cache_lines(path):
    lines = open(path).read().splitlines()
    return lines[0], dict(l.rsplit(": ", 1) for l in lines[1:])


@pytest.mark.parametrize("calibrator", ["max", "mse"])
def test_calibrated_int8_plan_runs_int8_and_agrees_with_fp32(setup, calibrator):
    """Accuracy against onnxruntime's own quantizer as the peer (random weights: entropy's clipping is judged on
    trained models in bench/int8_accuracy.py, not here)."""
    tmp, onnx_path, model, samples, arrays = setup
    cache = tmp / f"mbv2_{calibrator}.cache"
    plan, proc = _build(setup, calibrator, "--calibration-dir", samples, "--calibration-cache", cache,
                        "--calibrator", calibrator)
    assert "calibration: 24 samples" in proc.output and "calibration cache written" in proc.output, proc.output
    eng = trtcore.Engine(str(plan))
    precisions = [l.precision for l in eng.layers]
    assert precisions.count("int8") >= 10, [(l.name, l.op, l.precision) for l in eng.layers]
    name = model.graph.input[0].name
    x = arrays[:4]
    got = eng.infer({name: x})
    ref = ort_run(model, {name: x})
    # the peer: onnxruntime's own quantizer (symmetric, per-channel, MinMax) on the same model and samples
    from test_int8 import ort_quantize
    peer = ort_run(ort_quantize(model, tmp, [a[None] for a in arrays], name="peer"), {name: x})
    for out, expected in ref.items():
        ours, theirs = rel_l2(got[out], expected), rel_l2(peer[out], expected)
        assert ours < 0.5 and ours <= 1.25 * theirs + 0.02, (out, ours, theirs)
    # the cache: TensorRT's header and one big-endian float32 scale per tensor, amax/127 > 0
    header, scales = _cache_lines(cache)
    assert header.startswith("TRT-"), header
    values = {k: struct.unpack(">f", bytes.fromhex(v))[0] for k, v in scales.items()}
    assert name in values and all(v > 0 and np.isfinite(v) for v in values.values())
    # the input's scale can never exceed max|x| / 127 over the calibration samples
    assert values[name] <= np.abs(arrays).max() / 127 * (1 + 1e-6)
    manifest = json.load(open(str(cache) + ".json"))
    assert manifest["samples"] == 24 and manifest["algorithm"] == calibrator and manifest["model_hash"]


def test_entropy_cache_header(setup):
    tmp, onnx_path, model, samples, arrays = setup
    cache = tmp / "entropy.cache"
    _build(setup, "entropy", "--calibration-dir", samples, "--calibration-cache", cache)
    assert _cache_lines(cache)[0].endswith("-EntropyCalibration2")


def test_cache_rebuilds_identically_without_samples(setup):
    tmp, onnx_path, model, samples, arrays = setup
    cache = tmp / "again.cache"
    plan_a, _ = _build(setup, "a", "--calibration-dir", samples, "--calibration-cache", cache)
    plan_b, proc = _build(setup, "b", "--calibration-cache", cache)
    assert "scales read from" in proc.output, proc.output
    name = model.graph.input[0].name
    xa = trtcore.Engine(str(plan_a)).infer({name: arrays[:4]})
    xb = trtcore.Engine(str(plan_b)).infer({name: arrays[:4]})
    for k in xa:
        assert np.array_equal(xa[k], xb[k])


def test_max_calibrator_equals_the_maximum(setup):
    tmp, onnx_path, model, samples, arrays = setup
    cache = tmp / "max.cache"
    _build(setup, "max", "--calibration-dir", samples, "--calibration-cache", cache, "--calibrator", "max")
    header, scales = _cache_lines(cache)
    assert header.endswith("-MinMaxCalibration"), header
    name = model.graph.input[0].name
    scale = struct.unpack(">f", bytes.fromhex(scales[name]))[0]
    assert scale == pytest.approx(np.abs(arrays).max() / 127, rel=1e-6)


def test_result_does_not_depend_on_batch_size_or_order(setup):
    tmp, onnx_path, model, samples, arrays = setup
    shuffled = tmp / "shuffled"
    shuffled.mkdir(exist_ok=True)
    order = np.random.default_rng(5).permutation(len(arrays))
    for new, old in enumerate(order):  # the sorted file order is a permutation of the original
        shutil.copy(samples / f"s{old:03d}.raw", shuffled / f"x{new:03d}.raw")
    caches = []
    for tag, folder, batch in [("b1", samples, 1), ("b4", samples, 4), ("shuf", shuffled, 3)]:
        c = tmp / f"order_{tag}.cache"
        _build(setup, f"order_{tag}", "--calibration-dir", folder, "--calibration-cache", c,
               "--calibration-batch", batch)
        caches.append(_cache_lines(c)[1])
    assert caches[0] == caches[1] == caches[2]


def test_cache_from_another_model_is_refused(setup):
    tmp, onnx_path, model, samples, arrays = setup
    other = save_model(models.resnet_block(batch=1, c=16, mid=8, size=8), tmp / "block.onnx")
    cache = tmp / "mbv2_for_other.cache"
    _build(setup, "for_other", "--calibration-dir", samples, "--calibration-cache", cache)
    proc = trtcore_cli("build", "--onnx", other, "--backend", "cpu", "--int8", "--calibration-cache", cache,
                       "--plan", tmp / "other.plan")
    assert_clean_failure(proc, str(cache), "another model")


def _onnx_tensor_names(model):
    g = model.graph
    return ({v.name for v in g.input} | {t.name for t in g.initializer} | {o for n in g.node for o in n.output})


def _foreign_cache(setup, name, drop=(), extra=()):
    """A cache as TensorRT or another tool hands it over: scales for this model (from a max calibration here), no
    manifest beside it, `drop` tensors left out and `extra` lines added."""
    tmp, _, _, samples, _ = setup
    source = tmp / "foreign_source.cache"
    if not source.exists():
        _build(setup, "foreign_source", "--calibration-dir", samples, "--calibration-cache", source,
               "--calibrator", "max")
    header, scales = _cache_lines(source)
    path = tmp / f"{name}.cache"
    path.write_text(header + "\n" + "".join(f"{k}: {v}\n" for k, v in scales.items() if k not in drop) +
                    "".join(f"{line}\n" for line in extra))
    return path, scales


def test_cache_without_manifest_naming_tensors_the_model_lacks_warns(setup):
    """Cache tensors that are not in the ONNX model get one warning naming a few of them and their count; TensorRT's
    own internal tensors are only counted."""
    tmp, onnx_path, model, samples, arrays = setup
    unknown = [f"/other_model/conv_{i}/output_0" for i in range(6)]
    assert not set(unknown) & _onnx_tensor_names(model)
    cache, scales = _foreign_cache(setup, "foreign", extra=[f"{u}: 3c010204" for u in unknown] +
                                   ["(Unnamed Layer* 7) [Shuffle]_output: 3c010204"])
    assert set(scales) <= _onnx_tensor_names(model)  # a cache of this model names only its tensors
    _, proc = _build(setup, "foreign", "--calibration-cache", cache)
    warnings = [l for l in proc.output.splitlines() if "does not have" in l]
    assert len(warnings) == 1, proc.output
    assert str(cache) in warnings[0] and "6 tensors" in warnings[0] and "and 2 more" in warnings[0], warnings[0]
    assert f"'{unknown[0]}'" in warnings[0] and "Unnamed" not in warnings[0], warnings[0]
    assert "1 TensorRT-internal tensor" in proc.output, proc.output
    # the model's own tensors are never called unknown
    assert not any(f"'{t}'" in warnings[0] for t in scales)


def test_partial_cache_warns_once_naming_the_missing_tensors(setup):
    """Tensors INT8 quantizes (the data inputs of the model's convolutions) missing from a cache: one warning with
    a few names and the count, not one line per tensor; those layers stay float."""
    tmp, onnx_path, model, samples, arrays = setup
    conv_inputs = list(dict.fromkeys(n.input[0] for n in model.graph.node if n.op_type == "Conv"))
    drop = conv_inputs[1:7]
    cache, _ = _foreign_cache(setup, "partial", drop=drop)
    plan, proc = _build(setup, "partial", "--calibration-cache", cache)
    naming = [l for l in proc.output.splitlines() if any(f"'{t}'" in l for t in drop)]
    assert len(naming) == 1, proc.output
    assert str(cache) in naming[0] and "no scale for 6 of the" in naming[0] and "and 2 more" in naming[0], naming[0]
    assert "does not have" not in proc.output, proc.output
    full, _ = _build(setup, "partial_ref", "--calibration-cache", _foreign_cache(setup, "full")[0])
    int8 = lambda p: sum(l.precision == "int8" for l in trtcore.Engine(str(p)).layers if l.op.startswith("QConv"))
    assert int8(plan) < int8(full)


def test_calibration_batch_beyond_the_plans_is_clamped_with_a_warning(setup):
    """--calibration-batch 16 on a batch-4 plan calibrates 4 samples a run (so --calibration-batches 2 reads 8
    samples) and says so, naming both numbers; the default says nothing."""
    tmp, onnx_path, model, samples, arrays = setup
    _, proc = _build(setup, "cb16", "--calibration-dir", samples, "--calibration-batch", 16,
                     "--calibration-batches", 2)
    assert "--calibration-batch 16 is more than the plan's batch 4" in proc.output, proc.output
    assert "calibration: 8 samples" in proc.output, proc.output
    _, proc = _build(setup, "cb_default", "--calibration-dir", samples, "--calibration-batches", 2)
    assert "--calibration-batch" not in proc.output and "calibration: 8 samples" in proc.output, proc.output


@pytest.mark.parametrize("case", ["no_data", "missing_dir", "empty_dir", "wrong_size", "bad_cache", "bad_calibrator"])
def test_int8_user_errors(setup, case):
    tmp, onnx_path, model, samples, arrays = setup
    args = ["build", "--onnx", onnx_path, "--backend", "cpu", "--batch", 4, "--int8", "--plan", tmp / f"e_{case}.plan"]
    if case == "no_data":
        assert_clean_failure(trtcore_cli(*args), "--calibration-dir")
    elif case == "missing_dir":
        assert_clean_failure(trtcore_cli(*args, "--calibration-dir", tmp / "nowhere"), "nowhere")
    elif case == "empty_dir":
        empty = tmp / "empty_samples"
        empty.mkdir(exist_ok=True)
        assert_clean_failure(trtcore_cli(*args, "--calibration-dir", empty), str(empty), "no sample files")
    elif case == "wrong_size":
        bad = tmp / "bad_samples"
        bad.mkdir(exist_ok=True)
        (bad / "short.raw").write_bytes(b"\0" * 100)
        assert_clean_failure(trtcore_cli(*args, "--calibration-dir", bad), "short.raw", str(3 * SIZE * SIZE * 4))
    elif case == "bad_cache":
        c = tmp / "bad.cache"
        c.write_text("TRT-8601-EntropyCalibration2\ninput: zz0102\n")
        assert_clean_failure(trtcore_cli(*args, "--calibration-cache", c), str(c), "2")
    else:
        assert_clean_failure(trtcore_cli(*args, "--calibration-dir", samples, "--calibrator", "kl"), "kl", "entropy")


def test_exclude_layers_keeps_them_float(setup):
    tmp, onnx_path, model, samples, arrays = setup
    first_conv = model.graph.node[0].name
    plan, _ = _build(setup, "exclude", "--calibration-dir", samples, "--exclude-layers", first_conv)
    layers = {l.name: l.precision for l in trtcore.Engine(str(plan)).layers}
    assert layers[first_conv] == "fp32"
    plan2, _ = _build(setup, "layer_precision", "--calibration-dir", samples, "--layer-precision", f"{first_conv}:fp32")
    assert {l.name: l.precision for l in trtcore.Engine(str(plan2)).layers} == layers
    assert_clean_failure(trtcore_cli("build", "--onnx", onnx_path, "--backend", "cpu", "--int8", "--calibration-dir",
                                     samples, "--layer-precision", f"{first_conv}:int4", "--plan", tmp / "y.plan"),
                         "name:fp32", "int4")
    proc = trtcore_cli("build", "--onnx", onnx_path, "--backend", "cpu", "--int8", "--calibration-dir", samples,
                       "--exclude-layers", "no_such_layer", "--plan", tmp / "x.plan")
    assert_clean_failure(proc, "no_such_layer")


def test_thesis_flags_build_int8_with_the_standalone_executable(setup):
    """The thesis script's spelling on trtcore-exec: --file, --calibration_dir, --calibration (the cache)."""
    from test_executable import _run
    tmp, onnx_path, model, samples, arrays = setup
    plan, cache = tmp / "thesis.plan", tmp / "thesis.cache"
    proc = _run(f"--file={onnx_path}", f"--plan={plan}", f"--calibration_dir={samples}", f"--calibration={cache}",
                "--batch=4", "--backend=cpu")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert open(cache).readline().startswith("TRT-")
    assert sum(l.precision == "int8" for l in trtcore.Engine(str(plan)).layers) >= 10


@pytest.mark.parametrize("form", ["npy", "npz", "npz_named", "prepare_folder"])
def test_calibration_data_as_arrays_or_a_prepared_folder(setup, form, tmp_path):
    """The same samples given as a .npy array, an .npz (numpy.savez), or a `trtcore prepare` output folder (its
    calibration subset) calibrate to the same cache as the raw folder."""
    tmp, onnx_path, model, samples, arrays = setup
    ref_cache = tmp / "forms_ref.cache"
    _build(setup, "forms_ref", "--calibration-dir", samples, "--calibration-cache", ref_cache, "--calibrator", "max")
    name = model.graph.input[0].name
    if form == "npy":
        src = tmp_path / "calib.npy"
        np.save(src, arrays)
    elif form.startswith("npz"):
        src = tmp_path / "calib.npz"
        np.savez(src, **{name if form == "npz_named" else "x": arrays})
    else:
        src = tmp_path / "prepared"
        (src / "calibration").mkdir(parents=True)
        (src / "manifest.json").write_text("{}")
        for f in sorted(os.listdir(samples)):
            shutil.copy(samples / f, src / "calibration" / f)
    cache = tmp_path / "forms.cache"
    _build(setup, f"forms_{form}", "--calibration-dir", src, "--calibration-cache", cache, "--calibrator", "max")
    assert _cache_lines(cache) == _cache_lines(ref_cache)


def test_calibration_arrays_of_the_wrong_shape_are_refused(setup, tmp_path):
    tmp, onnx_path, model, samples, arrays = setup
    bad = tmp_path / "bad.npy"
    np.save(bad, arrays[:, :2])
    proc = trtcore_cli("build", "--onnx", onnx_path, "--backend", "cpu", "--batch", 4, "--int8", "--calibration-dir",
                       bad, "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "bad.npy", "24x2x32x32", "Nx3x32x32")
    assert "''" not in proc.output, proc.output  # a .npy holds one unnamed array: the file names it
    comp = tmp_path / "c.npz"
    np.savez_compressed(comp, x=arrays)
    proc = trtcore_cli("build", "--onnx", onnx_path, "--backend", "cpu", "--batch", 4, "--int8", "--calibration-dir",
                       comp, "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "c.npz", "savez_compressed")
    # from Python: a batch of another sample shape, whose size happens to be whole samples of the model's, is
    # refused, not cut into samples
    with pytest.raises(trtcore.InputError, match=r"item 0: input 'input' has shape 8x3x16x16; it takes Nx3x32x32"):
        trtcore.build(str(onnx_path), batch=4, precision="int8", backend="cpu",
                      calibration_data=[np.zeros((8, 3, SIZE // 2, SIZE // 2), np.float32)])
    with pytest.raises(trtcore.InputError, match="holds no samples"):
        trtcore.build(str(onnx_path), batch=4, precision="int8", backend="cpu", calibration_data=[])


def test_a_graph_input_keeps_its_whole_range(tmp_path):
    """Half the input pixels at one background value (as in Fashion-MNIST) make a histogram spike that entropy's KL
    search lands on; the network input is calibrated to its maximum instead, with every calibrator."""
    from onnx import helper, TensorProto
    rng = np.random.default_rng(4)
    w = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])], "spike",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 12, 12])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [onnx.numpy_helper.from_array(w, "w")])
    path = save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "spike.onnx")
    x = np.full((32, 1, 12, 12), -0.81, np.float32)
    bright = rng.random(x.shape) < 0.3
    x[bright] = rng.uniform(-0.5, 2.0, bright.sum()).astype(np.float32)
    for calibrator in ("entropy", "percentile", "mse"):
        cache = tmp_path / f"{calibrator}.cache"
        trtcore.build(path, backend="cpu", batch=8, precision="int8", calibration_data=[x],
                      calibrator=calibrator, calibration_cache=str(cache))
        scale = struct.unpack(">f", bytes.fromhex(_cache_lines(cache)[1]["x"]))[0]
        assert scale == pytest.approx(np.abs(x).max() / 127, rel=1e-6), calibrator
