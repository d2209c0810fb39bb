"""Shared fixtures and helpers for the trtcore test suite.

The reference for every numeric check is onnxruntime (or ONNX's own expected outputs), never trtcore itself.
This file must not import trtcore at module level: the report/prepare tests run without the compiled module.
"""
import os
import sys
import zlib

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

FP32_TOL = 1e-4  # relative L2 error allowed against onnxruntime in FP32


def _trtcore():
    try:
        import trtcore  # noqa: F401
    except ImportError:
        return None
    return trtcore


def trtcore_executable():
    """The standalone trtcore-exec: TRTCORE_EXEC, else the one installed beside the Python package (skips without)."""
    path = os.environ.get("TRTCORE_EXEC")
    if not path:
        tc = _trtcore()
        path = os.path.join(os.path.dirname(tc.__file__), "bin", "trtcore-exec") if tc else ""
    if not os.access(path, os.X_OK):
        pytest.skip("standalone executable not found at %s" % path)
    return path


def cuda_available():
    tc = _trtcore()
    try:
        return bool(tc is not None and tc.cuda_available())
    except Exception:
        return False


def backends():
    """The backends to test: cpu always, cuda only where a device is present (as a gpu-marked param)."""
    return ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (whole large models)")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skipped without one)")
    config.addinivalue_line("markers", "slow: long-running (run with --runslow or TRTCORE_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--runslow") or os.environ.get("TRTCORE_SLOW") == "1"
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow or TRTCORE_SLOW=1")
    gpu_items = [it for it in items if "gpu" in it.keywords]
    has_gpu = cuda_available() if gpu_items else False
    skip_gpu = pytest.mark.skip(reason="no CUDA device or trtcore built without the cuda backend")
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)


# ---------------------------------------------------------------------------------------------------------------
# numeric helpers

def rel_l2(a, b):
    """‖a − b‖ / ‖b‖ in float64; exact agreement (including both zero) gives 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != reference shape {b.shape}"
    num = np.linalg.norm((a - b).ravel())
    den = np.linalg.norm(b.ravel())
    if den == 0.0:
        return float(num)
    return float(num / den)


def assert_close(actual, expected, tol=FP32_TOL, what="output"):
    """Relative-L2 comparison that also requires NaN/Inf at the same places (and equal infinities)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != reference {expected.shape}"
    if expected.dtype.kind in "biu" or expected.dtype == np.bool_:
        mism = np.count_nonzero(actual.astype(expected.dtype) != expected)
        assert mism == 0, f"{what}: {mism} of {expected.size} elements differ from the reference"
        return
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), f"{what}: NaN at {np.count_nonzero(nan_a ^ nan_e)} differing places"
    inf_e = np.isinf(e)
    assert np.array_equal(np.isinf(a), inf_e) and np.array_equal(a[inf_e], e[inf_e]), f"{what}: Inf mismatch"
    fin = ~(nan_e | inf_e)
    err = rel_l2(a[fin], e[fin])
    assert err <= tol, f"{what}: relative L2 error {err:.3g} > {tol:g}"


def ort_session(model, threads=1):
    """An onnxruntime session with graph optimizations off, so the reference is the plain op semantics."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    data = str(model) if isinstance(model, (str, os.PathLike)) else model.SerializeToString()
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def ort_run(model, feeds, threads=1):
    """Runs `model` (ModelProto or path) on onnxruntime; returns {output name: array}."""
    sess = ort_session(model, threads=threads)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def run_threads(work, threads_n, timeout):
    """Runs work(t) for t in range(threads_n) on threads released together; re-raises what any thread raised."""
    import threading

    errors = []
    start = threading.Barrier(threads_n)

    def body(t):
        try:
            start.wait()
            work(t)
        except Exception as e:  # reported below, so a failing thread fails the test
            errors.append(e)

    ts = [threading.Thread(target=body, args=(t,)) for t in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=timeout)
    assert not errors, errors


def seed_of(text):
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------------------------------------------------
# trtcore helpers (import trtcore lazily)

def save_model(model, path):
    import onnx

    onnx.save(model, str(path))
    return str(path)


def build_engine(model, tmp_path, name="model", **options):
    """Writes `model` under tmp_path and builds it with trtcore (cpu unless `backend` is given)."""
    import trtcore

    options.setdefault("backend", "cpu")
    path = save_model(model, os.path.join(str(tmp_path), name + ".onnx"))
    return trtcore.build(path, **options)


def natural_batch(feeds):
    """Axis 0 of the first input (1 for a scalar or empty input): the batch a static model is built at."""
    first = np.asarray(next(iter(feeds.values()))) if feeds else np.zeros(())
    return int(first.shape[0]) if first.ndim and first.shape[0] > 0 else 1


def check_against_ort(model, feeds, tmp_path, tol=FP32_TOL, batch=None, **options):
    """Builds `model` with trtcore, runs `feeds` on it and on onnxruntime, compares every output. Without `batch`
    the build uses trtcore's default (a static model at its own batch)."""
    if batch is not None:
        options["batch"] = batch
    ref = ort_run(model, feeds)
    eng = build_engine(model, tmp_path, **options)
    got = eng.infer(dict(feeds))
    missing = set(ref) - set(got)
    assert not missing, f"trtcore outputs {sorted(got)} lack {sorted(missing)}"
    for name, expected in ref.items():
        assert_close(got[name], expected, tol=tol, what=f"output '{name}'")
    return eng, got, ref


# ---------------------------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: reproducible, and different per parametrisation."""
    return np.random.default_rng(seed_of(request.node.nodeid))


@pytest.fixture(params=backends())
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def light_dir():
    import onnx

    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
