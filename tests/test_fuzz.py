"""Fuzzing: >= 10,000 mutated ONNX files and >= 10,000 mutated plan files, seeded; the only acceptable failure is
trtcore.Error (no crash, no hang, no other exception). The loop runs in a child process (fuzz_worker.py) with an
address-space limit, so a crash names its input instead of killing pytest."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper

import trtcore
from conftest import save_model
from op_cases import N, chain, positive, randn

ITERATIONS = int(os.environ.get("TRTCORE_FUZZ_ITERATIONS", "10000"))
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_worker.py")


def kitchen_sink(rng):
    """A small model touching many importer paths: weights, attributes of every type, a shape subgraph, optional
    inputs, Constant nodes."""
    nodes = [
        N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv"),
        N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], epsilon=1e-5, name="bn"),
        N("Relu", ["n"], ["r"], name="relu"),
        N("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        N("Resize", ["p", "", "scales"], ["u"], mode="nearest", name="resize"),
        N("Slice", ["u", "st", "en", "ax"], ["sl"], name="slice"),
        N("Pad", ["sl", "pads"], ["pd"], mode="constant", name="pad"),
        N("Concat", ["pd", "pd"], ["cat"], axis=1, name="concat"),
        N("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        N("Shape", ["gap"], ["shp"], name="shape"),
        N("Gather", ["shp", "zero"], ["n0"], axis=0, name="gather"),
        N("Unsqueeze", ["n0", "ax0"], ["n1"], name="unsqueeze"),
        N("Concat", ["n1", "minus1"], ["newshape"], axis=0, name="concat_shape"),
        N("Reshape", ["gap", "newshape"], ["flat"], name="reshape"),
        N("Constant", [], ["k"], value=helper.make_tensor("k", TensorProto.FLOAT, [1], [0.5]), name="const"),
        N("Mul", ["flat", "k"], ["scaled"], name="mul"),
        N("Gemm", ["scaled", "gw", "gb"], ["g"], transB=1, name="gemm"),
        N("Softmax", ["g"], ["y"], axis=-1, name="softmax"),
    ]
    inits = {"w": randn(rng, 4, 3, 3, 3), "b": randn(rng, 4), "s": positive(rng, 4), "bb": randn(rng, 4),
             "m": randn(rng, 4), "v": positive(rng, 4), "scales": np.array([1, 1, 2, 2], np.float32),
             "st": np.array([1, 1], np.int64), "en": np.array([7, 7], np.int64), "ax": np.array([2, 3], np.int64),
             "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "zero": np.array(0, np.int64),
             "ax0": np.array([0], np.int64), "minus1": np.array([-1], np.int64),
             "gw": randn(rng, 5, 8), "gb": randn(rng, 5)}
    return chain(nodes, {"x": randn(rng, 1, 3, 8, 8)}, inits)[0]


def run_worker(kind, base, scratch, seed, iterations, timeout):
    os.makedirs(scratch, exist_ok=True)
    try:
        proc = subprocess.run([sys.executable, WORKER, kind, str(base), str(scratch), str(seed), str(iterations)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        last = open(os.path.join(scratch, "progress")).read()
        pytest.fail(f"{kind} fuzz hung (>{timeout}s) at iteration {last}; input kept in {scratch}")
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0:
        last = open(os.path.join(scratch, "progress")).read() if os.path.exists(os.path.join(scratch, "progress")) \
            else "?"
        pytest.fail(f"{kind} fuzz worker died (rc {proc.returncode}) at iteration {last} (seed {seed}); "
                    f"the input is {scratch}/input.{kind}\n{proc.stderr[-3000:]}")
    findings = [l for l in lines if "iteration" in l]
    done = [l for l in lines if l.get("done")]
    assert not findings, f"{len(findings)} non-trtcore.Error exceptions, e.g.: " + \
        "\n".join(json.dumps(f) for f in findings[:5])
    assert done, proc.stdout[-2000:] + proc.stderr[-2000:]
    return done[0]


def test_fuzz_onnx(tmp_path):
    model = kitchen_sink(np.random.default_rng(41))
    base = save_model(model, tmp_path / "base.onnx")
    # the unmutated model is accepted
    assert all(r.supported for r in trtcore.check_onnx(base))
    stats = run_worker("onnx", base, tmp_path / "scratch", seed=1234, iterations=ITERATIONS, timeout=240)
    assert stats["ok"] + stats["trtcore.Error"] == ITERATIONS
    assert stats["trtcore.Error"] > ITERATIONS // 10, stats  # the mutations do reach the error paths


def test_fuzz_plan(tmp_path):
    model = kitchen_sink(np.random.default_rng(42))
    onnx_path = save_model(model, tmp_path / "base.onnx")
    plan = str(tmp_path / "base.plan")
    trtcore.build(onnx_path, backend="cpu").save(plan)
    trtcore.Engine(plan)
    stats = run_worker("plan", plan, tmp_path / "scratch", seed=5678, iterations=ITERATIONS, timeout=240)
    assert stats["ok"] + stats["trtcore.Error"] == ITERATIONS
    assert stats["crc_fixing"], "the plan's trailing CRC-64 could not be reproduced: mutations stop at the checksum"
