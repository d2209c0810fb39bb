"""scripts/demo.py's accuracy verdict: the logits' relative L2 error against onnxruntime, which fails when only the
logits differ (a random-weight model's softmax is one-hot and agrees with any reference)."""
import importlib.util
import json
import os
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
import common  # noqa: E402

compare, baselines = common.py("compare"), common.py("baselines")


def _demo():
    spec = importlib.util.spec_from_file_location("demo", os.path.join(REPO, "scripts", "demo.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _runs(tmp_path, logits_error):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1000, (6, 10)).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[np.argmax(logits, axis=1)]
    names = ["%06d.bin" % i for i in range(6)]
    baselines.write_outputs(str(tmp_path / "ref"), names, {"prob": onehot, "logits": logits})
    baselines.write_outputs(str(tmp_path / "run"), names, {"prob": onehot, "logits": logits * (1 + logits_error)})
    rep = compare.compare_runs(str(tmp_path / "run"), str(tmp_path / "ref"), 1e-4, 1e-6)
    path = str(tmp_path / "compare.json")
    with open(path, "w") as f:
        json.dump(rep, f)
    return rep, path


def test_logits_that_differ_fail_the_demo_though_the_softmax_agrees(tmp_path, capsys):
    rep, path = _runs(tmp_path, 0.01)
    assert rep["outputs"]["prob"]["passed"]  # the one-hot output cannot tell
    with pytest.raises(SystemExit) as e:
        _demo().check_logits(path, "logits", "cpu")
    assert e.value.code == 1 and "FAIL" in capsys.readouterr().out


def test_matching_logits_pass(tmp_path, capsys):
    _, path = _runs(tmp_path, 1e-7)
    _demo().check_logits(path, "logits", "cpu")
    assert "relative L2" in capsys.readouterr().out
