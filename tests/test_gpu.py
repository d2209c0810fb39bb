"""The cuda backend against the cpu backend and onnxruntime, for every op case and model of the suite.
Strict FP32 (no TF32) must agree to relative L2 <= 1e-4; the default TF32 math to <= 1e-3. Skipped without a GPU."""
import numpy as np
import pytest

import trtcore
import models
from conftest import FP32_TOL, assert_close, build_engine, ort_run, seed_of
from op_cases import CASES

pytestmark = pytest.mark.gpu
TF32_TOL = 1e-3


def _compare_backends(model, feeds, tmp_path, tol=FP32_TOL, batch=0, strict=True):
    ref = ort_run(model, feeds)
    cpu = build_engine(model, tmp_path, name="cpu", batch=batch, backend="cpu").infer(dict(feeds))
    cuda_engine = build_engine(model, tmp_path, name="cuda", batch=batch, backend="cuda", strict_fp32=strict)
    assert cuda_engine.backend == "cuda"
    got = cuda_engine.infer(dict(feeds))
    for name, expected in ref.items():
        assert_close(got[name], expected, tol=tol, what=f"cuda vs onnxruntime, '{name}'")
        assert_close(got[name], cpu[name], tol=tol, what=f"cuda vs cpu, '{name}'")
    return cuda_engine


@pytest.mark.parametrize("make", CASES)
def test_op_cuda(make, request, tmp_path):
    model, feeds = make(np.random.default_rng(seed_of(request.node.callspec.id)))
    _compare_backends(model, feeds, tmp_path)


def _input(model, rng, batch=None):
    name, shape = models.model_input(model)
    if batch is not None:
        shape[0] = batch
    return {name: rng.standard_normal(shape).astype(np.float32)}


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_model_cuda(name, rng, tmp_path):
    model = models.light_model(name, seed=1)
    _compare_backends(model, _input(model, rng), tmp_path)


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_model_cuda_tf32(name, rng, tmp_path):
    """TF32 bounds the relative error of each product, so the network's logits (exposed as an output) must agree to
    1e-3. The final Softmax's probabilities are not compared: a saturated softmax turns the logits' absolute error,
    which grows with their magnitude (tens, with these random weights), into relative error."""
    model = models.light_model(name, seed=1)
    feeds = _input(model, rng)
    ref = ort_run(model, feeds)
    got = build_engine(model, tmp_path, name="cuda", backend="cuda", strict_fp32=False).infer(dict(feeds))
    produced_by = {o: n.op_type for n in model.graph.node for o in n.output}
    compared = [name for name in ref if produced_by.get(name) != "Softmax"]
    assert compared, "the logits are among the outputs"
    for name in compared:
        assert_close(got[name], ref[name], tol=TF32_TOL, what=f"cuda tf32 vs onnxruntime, '{name}'")


@pytest.mark.parametrize("builder,batch", [(models.mobilenet_v2, 1), (models.mobilenet_v2, 8), (models.unet, 1),
                                           (models.unet, 4), (models.resnet_block, 1)])
def test_own_models_cuda(builder, batch, rng, tmp_path):
    model = builder()
    _compare_backends(model, _input(model, rng, batch), tmp_path, batch=batch)


def test_dynamic_batch_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=8, backend="cuda", strict_fp32=True)
    for batch in (1, 3, 8):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        assert_close(engine.infer({"input": x})["logits"], ort_run(model, {"input": x})["logits"])
    with pytest.raises(trtcore.Error):
        engine.infer({"input": rng.standard_normal((9, 3, 32, 32)).astype(np.float32)})


def test_plan_round_trip_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=2, backend="cuda", strict_fp32=True)
    path = str(tmp_path / "m.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert loaded.backend == "cuda"
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    assert_close(loaded.infer({"input": x})["logits"], ort_run(model, {"input": x})["logits"])


def test_cuda_plan_reports_device_memory(tmp_path):
    engine = build_engine(models.mobilenet_v2(size=32), tmp_path, batch=2, backend="cuda")
    assert engine.device_memory_bytes > 0
    mem = engine.memory
    assert mem["weights"] > 0 and mem["total"] >= mem["weights"] + mem["activations"]


def test_cuda_benchmark_stats(tmp_path):
    engine = build_engine(models.mobilenet_v2(size=32), tmp_path, batch=4, backend="cuda")
    stats = engine.benchmark(batch=4, iterations=20, warmup=3)
    text = str(stats)
    assert "throughput" in text


def test_nan_flows_through_cuda(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=2, backend="cuda", strict_fp32=True)
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    x[1, 0, 0, 0] = np.nan
    got = engine.infer({"input": x})["logits"]
    ref = ort_run(model, {"input": x})["logits"]
    assert np.isnan(got[1]).all() == np.isnan(ref[1]).all()
    assert_close(got[0], ref[0])


# ---- FP16 (--half): float16 storage and tensor-core math, float32 graph inputs/outputs ----
FP16_TOL = 1e-2


def _fp16_engine(model, tmp_path, name="fp16", batch=0):
    engine = build_engine(model, tmp_path, name=name, batch=batch, backend="cuda", precision="fp16")
    precisions = {layer.precision for layer in engine.layers}
    assert "fp16" in precisions, f"no fp16 layer in {precisions}"
    return engine


def _check_fp16(model, feeds, tmp_path, batch=0):
    ref = ort_run(model, feeds)
    engine = _fp16_engine(model, tmp_path, batch=batch)
    got = engine.infer(dict(feeds))
    for name, expected in ref.items():
        assert got[name].dtype == np.float32, "graph outputs stay float32 without io_half"
        assert_close(got[name], expected, tol=FP16_TOL, what=f"cuda fp16 vs onnxruntime, '{name}'")
    return engine


def _max_activation(model, feeds):
    """Largest magnitude of any float32 value onnxruntime computes for `feeds` (every node output exposed)."""
    import onnx
    import onnxruntime as ort

    m = onnx.ModelProto.FromString(model.SerializeToString())
    known = {o.name for o in m.graph.output}
    for v in onnx.shape_inference.infer_shapes(m).graph.value_info:
        if v.name not in known and v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
            m.graph.output.append(v)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return max(float(np.abs(o).max()) for o in sess.run(None, dict(feeds)) if o.dtype == np.float32 and o.size)


@pytest.mark.parametrize("name", models.LIGHT_MODELS)
def test_light_model_cuda_fp16(name, rng, tmp_path):
    model = models.light_model(name, seed=1)
    feeds = _input(model, rng)
    # Seeded random weights drive some of these nets' activations past 65504 (ResNet-50 ~4e5, ShuffleNet ~1e7):
    # no FP16 engine can represent those, so only nets whose FP32 activations fit are compared.
    peak = _max_activation(model, feeds)
    if peak > 16384:
        pytest.skip(f"FP32 activations reach {peak:.3g}, beyond float16's range")
    _check_fp16(model, feeds, tmp_path)


@pytest.mark.parametrize("builder,batch", [(models.mobilenet_v2, 1), (models.mobilenet_v2, 8), (models.unet, 1),
                                           (models.unet, 4)])
def test_own_models_cuda_fp16(builder, batch, rng, tmp_path):
    """The classifier sees real photographs (Gaussian noise drives this random-weight net's FP16 error from 0.6% to
    1.4% depending on the draw, in NCHW and NHWC plans alike); the U-Net sees noise."""
    model = builder()
    feeds = _input(model, rng, batch)
    if builder is models.mobilenet_v2:
        name, shape = models.model_input(model)
        photos = _photos(shape[2])
        feeds = {name: np.stack([photos[i % len(photos)] for i in range(batch)])}
    _check_fp16(model, feeds, tmp_path, batch=batch)


def _photos(size):
    """Real photographs from scikit-image, resized to size x size and normalised like ImageNet inputs."""
    from PIL import Image
    from skimage import data

    out = []
    for name in ["astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "hubble_deep_field", "immunohistochemistry",
                 "cat"]:
        fn = getattr(data, name, None)
        if fn is None:
            continue
        try:
            img = np.asarray(fn())
        except Exception:  # an image that needs a download is skipped offline
            continue
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        img = np.asarray(Image.fromarray(img[..., :3]).resize((size, size)), dtype=np.float32) / 255.0
        img = (img - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        out.append(img.transpose(2, 0, 1).astype(np.float32))
    return np.stack(out)


@pytest.mark.parametrize("name", ["squeezenet", "inception_v1"])
def test_fp16_top1_agrees_with_fp32_on_photos(name, tmp_path):
    model = models.light_model(name, seed=1, expose_logits=False)
    in_name, shape = models.model_input(model)
    photos = _photos(shape[2])
    assert len(photos) >= 4
    fp32 = build_engine(model, tmp_path, name="fp32", backend="cuda", strict_fp32=True)
    fp16 = _fp16_engine(model, tmp_path)
    agree = 0
    for img in photos:
        feed = {in_name: img[None]}
        a = list(fp32.infer(dict(feed)).values())[0].reshape(-1)
        b = list(fp16.infer(dict(feed)).values())[0].reshape(-1)
        top2 = np.sort(a)[-2:]
        # Ties within fp16 resolution may swap; anything else must agree.
        agree += int(a.argmax() == b.argmax() or (top2[1] - top2[0]) <= 1e-3 * max(abs(top2[1]), 1e-6))
    assert agree == len(photos), f"top-1 agreement {agree}/{len(photos)}"


def test_fp16_plan_round_trip(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    feeds = _input(model, rng, 2)
    engine = _fp16_engine(model, tmp_path, batch=2)
    before = engine.infer(dict(feeds))
    path = str(tmp_path / "fp16.plan")
    engine.save(path)
    loaded = trtcore.Engine(path)
    assert [l.precision for l in loaded.layers] == [l.precision for l in engine.layers]
    after = loaded.infer(dict(feeds))
    for name in before:
        assert_close(after[name], before[name], tol=1e-6, what=f"reloaded fp16 plan, '{name}'")


def test_fp16_weight_outside_range_keeps_layer_fp32(rng, tmp_path):
    from onnx import helper

    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)
    w2[0, 0, 0, 0] = 1e6  # beyond float16's 65504
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="conv_ok", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["b"], name="relu"),
             helper.make_node("Conv", ["b", "w2"], ["y"], name="conv_big", pads=[1, 1, 1, 1])]
    model = models.make_model(nodes, [models.value_info("x", shape=[1, 3, 16, 16])],
                              [models.value_info("y", shape=None)],
                              initializers={"w1": w1, "w2": w2})
    feeds = {"x": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)}
    engine = _check_fp16(model, feeds, tmp_path)
    by_name = {l.name: l.precision for l in engine.layers}
    assert by_name["conv_big"] in ("fp32", "tf32"), by_name
    assert by_name["conv_ok"] == "fp16", by_name


def test_timing_cache_reused_on_rebuild(rng, tmp_path):
    """--timing-cache: the first build times tactics and writes the cache; a rebuild reads it and picks the same
    tactics; both plans still match onnxruntime."""
    model = models.resnet_block()
    cache = tmp_path / "tactics.cache"
    first = build_engine(model, tmp_path, name="first", backend="cuda", timing_cache=str(cache))
    assert cache.exists() and cache.read_text().count("\n") > 1
    second = build_engine(model, tmp_path, name="second", backend="cuda", timing_cache=str(cache))
    assert [l.tactic for l in first.layers] == [l.tactic for l in second.layers]
    feeds = _input(model, rng)
    ref = ort_run(model, feeds)
    for name, expected in ref.items():
        assert_close(second.infer(dict(feeds))[name], expected, tol=TF32_TOL)


def test_build_reports_the_forms_it_timed(rng, tmp_path):
    """A tuning build lists, for each convolution, every form it timed (LayerInfo.candidates); the chosen tactic is
    among them and none that ran and was kept is clearly faster (within the tuner's 3% scratch tolerance and the
    timing noise); a plan loaded from disk, which times nothing, lists none."""
    model = models.resnet_block()
    engine = build_engine(model, tmp_path, backend="cuda", precision="fp16")
    convs = [la for la in engine.layers if la.op.startswith("Conv")]
    assert convs
    for la in convs:
        assert la.candidates, la.name
        kept = [t for t in la.candidates if t.ms >= 0 and not t.note]
        assert la.tactic in [t.tactic for t in la.candidates], (la.name, la.tactic, la.candidates)
        chosen = min(t.ms for t in kept if t.tactic == la.tactic)
        assert chosen <= 1.5 * min(t.ms for t in kept), (la.name, la.tactic, [(t.tactic, t.ms) for t in kept])
        assert all(t.note for t in la.candidates if t.ms < 0), la.candidates
    path = str(tmp_path / "p.plan")
    engine.save(path)
    assert all(not la.candidates for la in trtcore.Engine(path).layers)


# ---- depthwise convolutions: our direct kernel ("dw-direct") in every storage layout ----
def _depthwise_model(rng, c=16, size=15):
    """Depthwise convs with bias, ReLU, Clip, stride, dilation and a residual Add, between ordinary convs (so float16
    and TF32 plans store their activations NHWC around them)."""
    from onnx import helper

    def w(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = {"w0": w(c, 3, 3, 3), "d1": w(c, 1, 3, 3), "b1": w(c), "p1": w(c, c, 1, 1), "d2": w(c, 1, 5, 5),
             "d3": w(c, 1, 3, 3), "b3": w(c), "p2": w(c, c, 1, 1), "d4": w(c, 1, 1, 7)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"], name="stem", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["a", "d1", "b1"], ["b"], name="dw1", group=c, pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["b"], ["c"], name="relu1"),
             helper.make_node("Conv", ["c", "p1"], ["d"], name="pw1"),
             helper.make_node("Conv", ["d", "d2"], ["e"], name="dw2", group=c, pads=[2, 2, 2, 2], strides=[2, 2]),
             helper.make_node("Clip", ["e", "lo", "hi"], ["f"], name="relu6"),
             helper.make_node("Conv", ["f", "d3", "b3"], ["g"], name="dw3", group=c, pads=[2, 2, 2, 2],
                              dilations=[2, 2]),
             helper.make_node("Add", ["g", "f"], ["h"], name="residual"),
             helper.make_node("Conv", ["h", "p2"], ["i"], name="pw2"),
             helper.make_node("Conv", ["i", "d4"], ["y"], name="dw4", group=c, pads=[0, 3, 0, 3])]
    inits["lo"] = np.array(0.0, np.float32)
    inits["hi"] = np.array(6.0, np.float32)
    model = models.make_model(nodes, [models.value_info("x", shape=[2, 3, size, size])],
                              [models.value_info("y", shape=None)], initializers=inits)
    return model, {"x": rng.standard_normal((2, 3, size, size)).astype(np.float32)}


def _force_tactic(cache, tactic, key_part):
    lines = cache.read_text().splitlines()
    out = [lines[0]] + [k + "\t" + (tactic if key_part in k else t) for k, t in (l.split("\t") for l in lines[1:])]
    cache.write_text("\n".join(out) + "\n")


@pytest.mark.parametrize("precision,strict,tol,tactic", [("fp32", True, FP32_TOL, "dw-direct"),
                                                         ("fp32", False, TF32_TOL, "dw-direct"),
                                                         ("fp16", False, FP16_TOL, "dw-direct:half2"),
                                                         ("fp16", False, FP16_TOL, "dw-direct:tile8"),
                                                         ("fp16", False, FP16_TOL, "dw-direct:pixel8")])
def test_depthwise_direct_kernel(precision, strict, tol, tactic, rng, tmp_path):
    """Every depthwise layer forced onto the direct kernel (through the timing cache) matches onnxruntime, in the
    storage layouts the plan chose; so does the tuned plan. Float16 NHWC runs both variants of the kernel (two
    channels per thread, and the tiled one large layers get), each fixed by its tactic."""
    model, feeds = _depthwise_model(rng)
    ref = ort_run(model, feeds)["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", precision=precision, strict_fp32=strict, timing_cache=str(cache))
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    assert_close(tuned.infer(dict(feeds))["y"], ref, tol=tol, what="tuned plan")
    _force_tactic(cache, tactic, "group=16")
    forced = build_engine(model, tmp_path, name="forced", **opts)
    dw = {l.name: l.tactic for l in forced.layers if l.name.startswith("dw")}
    assert dw and all(t == tactic for t in dw.values()), dw
    assert_close(forced.infer(dict(feeds))["y"], ref, tol=tol, what="dw-direct plan")
    path = str(tmp_path / "forced.plan")
    forced.save(path)
    assert_close(trtcore.Engine(path).infer(dict(feeds))["y"], ref, tol=tol, what="reloaded dw-direct plan")


# ---- short reductions: our direct kernel ("small-direct") for RGB stems ----
def _stem_model(rng, c_in, k_out, window, stride, residual):
    """stem: Conv(c_in -> k_out, window, stride, same padding) + bias, then Clip(0, 6) or a residual Add + Relu,
    then a 1x1 conv (so reduced-precision plans store the stem's output NHWC)."""
    from onnx import helper

    def w(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    p = window // 2
    inits = {"w0": w(k_out, c_in, window, window), "b0": w(k_out), "p1": w(8, k_out, 1, 1),
             "lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["a"], name="stem", pads=[p] * 4, strides=[stride] * 2)]
    size = 17
    if residual:  # the skip branch ends in a Relu, so the Add fuses into the stem as its residual
        inits["wr"] = w(k_out, c_in, 1, 1)
        nodes += [helper.make_node("Conv", ["x", "wr"], ["rc"], name="skip", strides=[stride] * 2),
                  helper.make_node("Relu", ["rc"], ["r"], name="skip_relu"),
                  helper.make_node("Add", ["a", "r"], ["s"], name="residual"),
                  helper.make_node("Relu", ["s"], ["b"], name="relu")]
    else:
        nodes.append(helper.make_node("Clip", ["a", "lo", "hi"], ["b"], name="relu6"))
    nodes.append(helper.make_node("Conv", ["b", "p1"], ["y"], name="pw"))
    model = models.make_model(nodes, [models.value_info("x", shape=[3, c_in, size, size])],
                              [models.value_info("y", shape=None)], initializers=inits)
    return model, {"x": rng.standard_normal((3, c_in, size, size)).astype(np.float32)}


@pytest.mark.parametrize("precision,strict,tol", [("fp32", True, FP32_TOL), ("fp32", False, TF32_TOL),
                                                  ("fp16", False, FP16_TOL)], ids=["fp32", "tf32", "fp16"])
@pytest.mark.parametrize("c_in,k_out,window,stride,residual", [(3, 32, 3, 2, False), (3, 16, 3, 1, True),
                                                                (1, 48, 5, 2, False), (2, 16, 3, 2, True)])
def test_short_reduction_direct_kernel(precision, strict, tol, c_in, k_out, window, stride, residual, rng, tmp_path):
    """The stem forced onto the short-reduction direct kernel (through the timing cache) matches onnxruntime with
    its bias, Clip or residual Add + Relu fused, in the storage layouts the plan chose; so does the tuned plan, and a
    saved plan keeps the tactic."""
    model, feeds = _stem_model(rng, c_in, k_out, window, stride, residual)
    ref = ort_run(model, feeds)["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", precision=precision, strict_fp32=strict, timing_cache=str(cache))
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    assert_close(tuned.infer(dict(feeds))["y"], ref, tol=tol, what="tuned plan")
    _force_tactic(cache, "small-direct", "%dx%dx%dx%dc" % (k_out, c_in, window, window))
    forced = build_engine(model, tmp_path, name="forced", **opts)
    stem = [l for l in forced.layers if l.name == "stem"]
    assert stem and stem[0].tactic == "small-direct", [(l.name, l.tactic) for l in forced.layers]
    assert_close(forced.infer(dict(feeds))["y"], ref, tol=tol, what="small-direct plan")
    path = str(tmp_path / "forced.plan")
    forced.save(path)
    loaded = trtcore.Engine(path)
    assert [l.tactic for l in loaded.layers] == [l.tactic for l in forced.layers]
    assert_close(loaded.infer(dict(feeds))["y"], ref, tol=tol, what="reloaded small-direct plan")


# ---- --io-half: float16 inputs and outputs ----
def test_io_half_engine_takes_and_returns_float16(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=2, backend="cuda", precision="fp16", io_half=True)
    assert [t.dtype for t in engine.inputs] == ["float16"] and [t.dtype for t in engine.outputs] == ["float16"]
    x = _photos(32)[:2]  # real images, as in the other FP16 classifier checks
    got = engine.infer({"input": x.astype(np.float16)})["logits"]
    assert got.dtype == np.float16
    assert_close(got.astype(np.float32), ort_run(model, {"input": x})["logits"], tol=FP16_TOL,
                 what="io-half vs onnxruntime")
    with pytest.raises(trtcore.Error, match="input"):
        engine.infer({"input": x})  # float32 into a float16 input is refused, not reinterpreted


def test_io_half_directory_run_reads_and_writes_float32_files(rng, tmp_path):
    model = models.mobilenet_v2(size=32)
    engine = build_engine(model, tmp_path, batch=4, backend="cuda", precision="fp16", io_half=True)
    samples, out = tmp_path / "samples", tmp_path / "out"
    samples.mkdir()
    xs = np.stack([_photos(32)[i % 4] for i in range(5)])
    for i, x in enumerate(xs):
        (samples / f"s{i}.bin").write_bytes(x.tobytes())
    engine.run_directory(str(samples), str(out), batch=4)
    ref = ort_run(model, {"input": xs})["logits"]
    for i in range(len(xs)):
        got = np.fromfile(out / f"s{i}.bin", dtype=np.float32)
        assert got.size == ref[i].size, "outputs are float32 files like the samples"
        assert_close(got, ref[i].reshape(-1), tol=FP16_TOL, what=f"io-half directory run, sample {i}")


# ---- concat elimination: convolutions write straight into their slice of a channel Concat ----
def _concat_model(rng, c=8, size=12):
    """A SqueezeNet-like fire module (two convs concatenated), a concat with one input also read elsewhere (copied)
    and a depthwise conv feeding a concat; the concatenations feed convolutions, so float16/TF32 plans keep them
    NHWC."""
    from onnx import helper

    def w(*shape):
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    inits = {"ws": w(c, 3, 1, 1), "we1": w(c, c, 1, 1), "be1": w(c), "we3": w(c, c, 3, 3), "be3": w(c),
             "wm": w(c, 2 * c, 1, 1), "wd": w(c, 1, 3, 3), "wo": w(c, 3 * c, 3, 3)}
    nodes = [helper.make_node("Conv", ["x", "ws"], ["s"], name="squeeze"),
             helper.make_node("Relu", ["s"], ["sr"], name="squeeze_relu"),
             helper.make_node("Conv", ["sr", "we1", "be1"], ["e1"], name="expand1"),
             helper.make_node("Relu", ["e1"], ["e1r"], name="expand1_relu"),
             helper.make_node("Conv", ["sr", "we3", "be3"], ["e3"], name="expand3", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["e3"], ["e3r"], name="expand3_relu"),
             helper.make_node("Concat", ["e1r", "e3r"], ["fire"], name="fire_concat", axis=1),
             helper.make_node("Conv", ["fire", "wm"], ["m"], name="mix"),
             helper.make_node("Conv", ["m", "wd"], ["d"], name="dw", group=c, pads=[1, 1, 1, 1]),
             # "m" is read by the depthwise conv too, so only the other inputs can be written in place.
             helper.make_node("Concat", ["m", "d", "sr"], ["cat2"], name="partial_concat", axis=1),
             helper.make_node("Conv", ["cat2", "wo"], ["y"], name="out", pads=[1, 1, 1, 1])]
    model = models.make_model(nodes, [models.value_info("x", shape=["N", 3, size, size])],
                              [models.value_info("y", shape=None)], initializers=inits)
    return model, {"x": rng.standard_normal((2, 3, size, size)).astype(np.float32)}


@pytest.mark.parametrize("precision,strict,tol", [("fp32", True, FP32_TOL), ("fp32", False, TF32_TOL),
                                                  ("fp16", False, FP16_TOL)])
def test_concat_elimination(precision, strict, tol, rng, tmp_path):
    model, feeds = _concat_model(rng)
    ref = ort_run(model, feeds)["y"]
    engine = build_engine(model, tmp_path, backend="cuda", precision=precision, strict_fp32=strict, batch=2)
    tactics = {l.name: l.tactic for l in engine.layers}
    # A producer writes its slice when cuDNN (or our depthwise kernel) takes the strided output ("+slice"); the
    # Concat copies exactly the other inputs.
    sliced = {name for name, t in tactics.items() if t.endswith("+slice")}
    assert tactics["fire_concat"].startswith("in-place %d/2" % len(sliced & {"expand1", "expand3"})), tactics
    assert tactics["partial_concat"].startswith("in-place %d/3" % len(sliced & {"dw"})), tactics
    if precision == "fp16" or not strict:  # NHWC: the depthwise conv runs our direct kernel, which always can
        assert "dw" in sliced, tactics
    assert_close(engine.infer(dict(feeds))["y"], ref, tol=tol, what="concat elimination")
    # Batch 1 in a batch-2 plan: the slices keep the full buffer's pitch.
    one = {"x": feeds["x"][:1]}
    assert_close(engine.infer(one)["y"], ort_run(model, one)["y"], tol=tol, what="concat elimination, batch 1")
    path = str(tmp_path / "concat.plan")
    engine.save(path)
    assert_close(trtcore.Engine(path).infer(dict(feeds))["y"], ref, tol=tol, what="reloaded plan")
