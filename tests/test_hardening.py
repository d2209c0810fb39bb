"""Robustness against misuse and hostile input: concurrent calls on one engine, plans edited on disk, oversized
shapes, unusual numpy arrays, hostile paths and out-of-range limits. Every case runs on the cpu backend in seconds."""
import threading

import numpy as np
import pytest

import trtcore
import models
from conftest import FP32_TOL, assert_close, build_engine, ort_run


def _small_net(seed=0):
    """Conv → Relu → Conv → Relu → GlobalAveragePool → Flatten → Gemm: intermediates live in the activation arena."""
    nb = models.NetBuilder(seed)
    x = nb.relu(nb.conv("input", 3, 16, 3))
    x = nb.relu(nb.conv(x, 16, 16, 3))
    x = nb.node("Flatten", [nb.node("GlobalAveragePool", [x])], axis=1)
    x = models._rename_output(nb, nb.gemm(x, 16, 4), "logits")
    return nb.model([("input", np.float32, ["N", 3, 16, 16])], [("logits", np.float32, None)], "small_net")


def _hammer(call, inputs, threads_n, rounds):
    """Runs call(t, inputs[t]) `rounds` times from each of `threads_n` threads at once; returns per-thread results."""
    results, errors = [[None] * rounds for _ in range(threads_n)], []
    start = threading.Barrier(threads_n)

    def work(t):
        try:
            start.wait()
            for r in range(rounds):
                results[t][r] = call(t, inputs[t])
        except Exception as e:  # reported below, so a failing thread fails the test
            errors.append(e)

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize("use_contexts", [False, True], ids=["one_engine", "context_per_thread"])
def test_concurrent_calls_match_serial_calls(tmp_path, use_contexts):
    model = _small_net()
    engine = build_engine(model, tmp_path, batch=4, threads=1)
    rng = np.random.default_rng(11)
    threads_n, rounds = 16, 200
    inputs = [rng.standard_normal((1 + t % 4, 3, 16, 16)).astype(np.float32) for t in range(threads_n)]
    serial = [engine.infer(x)["logits"] for x in inputs]
    assert_close(serial[3], ort_run(model, {"input": inputs[3]})["logits"], tol=FP32_TOL, what="serial call")
    if use_contexts:
        contexts = [engine.create_context() for _ in range(threads_n)]
        results = _hammer(lambda t, x: contexts[t].infer(x)["logits"], inputs, threads_n, rounds)
    else:
        results = _hammer(lambda t, x: engine.infer(x)["logits"], inputs, threads_n, rounds)
    wrong = [(t, r) for t in range(threads_n) for r in range(rounds) if not np.array_equal(results[t][r], serial[t])]
    assert not wrong, f"{len(wrong)} of {threads_n * rounds} concurrent calls differ from the serial result"


def test_concurrent_benchmarks_and_infers_on_one_engine(tmp_path):
    model = _small_net(seed=1)
    engine = build_engine(model, tmp_path, batch=4, threads=1)
    x = np.random.default_rng(5).standard_normal((4, 3, 16, 16)).astype(np.float32)
    expected = engine.infer(x)["logits"]

    def call(t, _):
        if t % 2:
            return engine.benchmark(batch=4, iterations=5, warmup=1)["compute_ms"]["count"]
        return engine.infer(x)["logits"]

    results = _hammer(call, [None] * 8, 8, 30)
    for t in range(8):
        for r in results[t]:
            assert (r == 5) if t % 2 else np.array_equal(r, expected)
