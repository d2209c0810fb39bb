"""Execution contexts (Engine.create_context): several contexts of one engine run concurrently from threads and each
matches onnxruntime; contexts share the engine's weights on cuda and keep the engine alive."""

import numpy as np
import pytest

import trtcore
import models
from conftest import run_threads, FP32_TOL, assert_close, build_engine, ort_run

BACKENDS = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _engine(backend, tmp_path, batch=4):
    model = models.mobilenet_v2(size=32)
    opts = dict(backend=backend, batch=batch)
    if backend == "cuda":
        opts["strict_fp32"] = True
    return model, build_engine(model, tmp_path, **opts)


@pytest.mark.parametrize("backend", BACKENDS)
def test_contexts_run_concurrently_from_threads(backend, tmp_path):
    model, engine = _engine(backend, tmp_path)
    rng = np.random.default_rng(7)
    threads_n, rounds = 3, 4
    inputs = [rng.standard_normal((2 + t % 3, 3, 32, 32)).astype(np.float32) for t in range(threads_n)]
    refs = [ort_run(model, {"input": x})["logits"] for x in inputs]
    contexts = [engine.create_context() for _ in range(threads_n)]
    results = [[None] * rounds for _ in range(threads_n)]

    def work(t):
        for r in range(rounds):
            results[t][r] = contexts[t].infer({"input": inputs[t]})["logits"]

    run_threads(work, threads_n, timeout=300)
    for t in range(threads_n):
        for r in range(rounds):
            assert_close(results[t][r], refs[t], tol=FP32_TOL, what=f"context {t}, round {r}")
    # The engine's own calls still work next to its contexts.
    assert_close(engine.infer({"input": inputs[0]})["logits"], refs[0], tol=FP32_TOL, what="engine after contexts")


@pytest.mark.parametrize("backend", BACKENDS)
def test_context_outlives_its_engine_handle(backend, tmp_path):
    model, engine = _engine(backend, tmp_path)
    ctx = engine.create_context()
    del engine  # the context keeps the engine alive
    x = np.random.default_rng(3).standard_normal((4, 3, 32, 32)).astype(np.float32)
    assert_close(ctx.infer(x)["logits"], ort_run(model, {"input": x})["logits"], tol=FP32_TOL, what="context")
    stats = ctx.benchmark(batch=4, iterations=3, warmup=1)
    assert stats["batch"] == 4 and stats["compute_ms"]["count"] == 3


@pytest.mark.gpu
def test_cuda_contexts_share_weights(tmp_path):
    _, engine = _engine("cuda", tmp_path)
    ctx = engine.create_context()
    assert ctx.memory["activations"] > 0
    # Only kernel-private copies (e.g. NHWC/tap-major filters) may be per context; the uploaded weights are not.
    assert ctx.memory["weights"] < engine.memory["weights"]


def test_context_checks_inputs_like_the_engine(tmp_path):
    _, engine = _engine("cpu", tmp_path)
    ctx = engine.create_context()
    with pytest.raises(trtcore.Error, match="input"):
        ctx.infer({"input": np.zeros((5, 3, 32, 32), np.float32)})  # batch beyond the plan's 4
