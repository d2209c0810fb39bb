"""Convolutions on cuDNN's graph API (the cuda backend's "graph:" tactics) against onnxruntime: the form fixed
through the timing cache on every layer that can take it (bias, ReLU, Clip as ReLU6, stride, a residual Add), the
plan saved and reloaded with the same engine configurations, and a stored configuration cuDNN does not offer
falling back to the legacy algorithms. Skipped without a GPU."""
import numpy as np
import pytest

import trtcore
import models
from conftest import assert_close, build_engine, ort_run

pytestmark = pytest.mark.gpu
FP16_TOL = 1e-2


def _conv_chain(rng, batch=2, size=16):
    from onnx import helper

    def w(*shape, scale=0.2):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    inits = {"w1": w(32, 16, 3, 3), "b1": w(32), "w2": w(64, 32, 1, 1), "b2": w(64), "w3": w(64, 64, 3, 3),
             "b3": w(64), "w4": w(64, 64, 1, 1), "b4": w(64), "w5": w(32, 64, 1, 1),
             "lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["a"], name="c1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["a1"], name="relu1"),
             helper.make_node("Conv", ["a1", "w2", "b2"], ["b"], name="c2"),
             helper.make_node("Clip", ["b", "lo", "hi"], ["b1o"], name="relu6_2"),
             helper.make_node("Conv", ["b1o", "w3", "b3"], ["c"], name="c3", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Clip", ["c", "lo", "hi"], ["c1o"], name="relu6_3"),
             helper.make_node("Conv", ["c1o", "w4", "b4"], ["d"], name="c4"),
             helper.make_node("Add", ["d", "c1o"], ["e"], name="residual"),
             helper.make_node("Relu", ["e"], ["e1"], name="relu4"),
             helper.make_node("Conv", ["e1", "w5"], ["y"], name="c5")]
    model = models.make_model(nodes, [models.value_info("x", shape=[batch, 16, size, size])],
                              [models.value_info("y", shape=None)], initializers=inits)
    return model, {"x": rng.standard_normal((batch, 16, size, size)).astype(np.float32)}


def _force_conv_tactics(cache, tactic):
    lines = cache.read_text().splitlines()
    out = [lines[0]] + [k + "\t" + (tactic if k.startswith("Conv") else t) for k, t in (l.split("\t") for l in lines[1:])]
    cache.write_text("\n".join(out) + "\n")


def test_graph_conv_forced_matches_onnxruntime_and_round_trips(rng, tmp_path):
    model, feeds = _conv_chain(rng)
    ref = ort_run(model, feeds)["y"]
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", precision="fp16", timing_cache=str(cache))
    tuned = build_engine(model, tmp_path, name="tuned", **opts)
    assert_close(tuned.infer(dict(feeds))["y"], ref, tol=FP16_TOL, what="tuned plan")
    _force_conv_tactics(cache, "graph:heuristic")
    forced = build_engine(model, tmp_path, name="forced", **opts)
    tactics = {l.name: l.tactic for l in forced.layers if l.name.startswith("c")}
    # c2..c5 read and write NHWC activations; the stem may read the NCHW input, so it may stay on the legacy form.
    graph = [n for n, t in tactics.items() if t.startswith("graph:e")]
    assert {"c2", "c3", "c4", "c5"} <= set(graph), tactics
    assert_close(forced.infer(dict(feeds))["y"], ref, tol=FP16_TOL, what="graph-API plan")
    path = str(tmp_path / "forced.plan")
    forced.save(path)
    loaded = trtcore.Engine(path)
    assert {l.name: l.tactic for l in loaded.layers if l.name.startswith("c")} == tactics
    assert_close(loaded.infer(dict(feeds))["y"], forced.infer(dict(feeds))["y"], tol=1e-6, what="reloaded plan")


def test_graph_conv_unknown_engine_falls_back(rng, tmp_path):
    model, feeds = _conv_chain(rng)
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", precision="fp16", timing_cache=str(cache))
    build_engine(model, tmp_path, name="tuned", **opts)
    _force_conv_tactics(cache, "graph:e987654")
    engine = build_engine(model, tmp_path, name="fallback", **opts)
    tactics = {l.name: l.tactic for l in engine.layers if l.name.startswith("c")}
    assert tactics and not any(t.startswith("graph:") for t in tactics.values()), tactics
    assert_close(engine.infer(dict(feeds))["y"], ort_run(model, feeds)["y"], tol=FP16_TOL, what="fallback plan")


def test_graph_conv_smaller_batch_than_built(rng, tmp_path):
    """A plan built for batch 4 runs batch 1 and 3 with the same engine configurations planned for those sizes."""
    model, _ = _conv_chain(rng, batch=4)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    cache = tmp_path / "t.cache"
    opts = dict(backend="cuda", precision="fp16", timing_cache=str(cache), batch=4)
    build_engine(model, tmp_path, name="tuned", **opts)
    _force_conv_tactics(cache, "graph:heuristic")
    engine = build_engine(model, tmp_path, name="forced", **opts)
    for b in (1, 3, 4):
        feeds = {"x": rng.standard_normal((b, 16, 16, 16)).astype(np.float32)}
        assert_close(engine.infer(dict(feeds))["y"], ort_run(model, feeds)["y"], tol=FP16_TOL, what=f"batch {b}")
