"""`trtcore compare`: error statistics on hand-checkable cases and the pass/fail exit code."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import common  # noqa: E402

compare = common.py("compare")


def _run(path, arrays):
    os.makedirs(path, exist_ok=True)
    for name, a in arrays.items():
        np.asarray(a, np.float32).tofile(os.path.join(path, name))
    return str(path)


def _cli(argv):
    import argparse
    p = argparse.ArgumentParser()
    compare.add_cli(p.add_subparsers())
    args = p.parse_args(argv)
    return args.func(args)


def test_error_stats_by_hand():
    s = compare.error_stats([[1, 2, 3], [0, 5, 1]], [[1, 2, 4], [0, 4, 1]], rtol=0.1, atol=0.0)
    assert s["max_abs"] == 1.0 and s["max_rel"] == 0.25 and s["mean_abs"] == pytest.approx(2 / 6)
    assert s["cosine_min"] == pytest.approx(17 / np.sqrt(14 * 21))
    assert s["rel_l2"] == pytest.approx(np.sqrt(2) / np.sqrt(1 + 4 + 16 + 0 + 16 + 1))
    assert s["top1_agreement"] == 1.0
    # |3-4| = 1 > 0.1*4 and |5-4| = 1 > 0.1*4: two elements out of tolerance.
    assert s["mismatched"] == 2 and not s["passed"]
    assert compare.error_stats([[0, 1]], [[1, 0]])["top1_agreement"] == 0.0


def test_runs_pass_fail_and_exit_codes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ref = {"%06d.bin" % i: rng.standard_normal(10) for i in range(5)}
    a = _run(tmp_path / "ref", ref)
    near = _run(tmp_path / "near", {k: v + 1e-6 for k, v in ref.items()})
    far = _run(tmp_path / "far", {k: (v + (0.5 if k == "000003.bin" else 0)) for k, v in ref.items()})
    rep = compare.compare_runs(near, a)
    assert rep["passed"] and rep["outputs"]["output"]["samples"] == 5
    rep = compare.compare_runs(far, a)
    assert not rep["passed"] and rep["outputs"]["output"]["worst_file"] == "000003.bin"
    assert rep["outputs"]["output"]["max_abs"] == pytest.approx(0.5, rel=1e-5)
    assert _cli(["compare", near, a]) == 0 and "PASS" in capsys.readouterr().out
    assert _cli(["compare", far, a]) == 1 and "FAIL" in capsys.readouterr().out
    assert _cli(["compare", far, a, "--atol", "1"]) == 0
    capsys.readouterr()
    assert _cli(["compare", str(tmp_path / "nope"), a]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_files_fail_and_size_mismatch_is_an_error(tmp_path, capsys):
    a = _run(tmp_path / "a", {"x.bin": [1, 2], "y.bin": [3, 4]})
    b = _run(tmp_path / "b", {"x.bin": [1, 2]})
    rep = compare.compare_runs(a, b)
    assert not rep["passed"] and rep["only_in_a"] == ["output/y.bin"]
    c = _run(tmp_path / "c", {"x.bin": [1, 2, 3]})
    with pytest.raises(compare.CompareError, match="x.bin"):
        compare.compare_runs(a, c)
    assert _cli(["compare", a, c]) == 2 and "x.bin" in capsys.readouterr().err


def test_multi_output_runs_use_subfolders(tmp_path):
    a = tmp_path / "a"
    _run(a / "logits", {"s.bin": [1, 2]})
    _run(a / "boxes", {"s.bin": [0, 0, 1, 1]})
    b = tmp_path / "b"
    _run(b / "logits", {"s.bin": [1, 2]})
    _run(b / "boxes", {"s.bin": [0, 0, 1, 2]})
    rep = compare.compare_runs(str(a), str(b))
    assert rep["outputs"]["logits"]["passed"] and not rep["outputs"]["boxes"]["passed"] and not rep["passed"]


def test_output_names_with_a_slash_match_between_run_and_baseline(tmp_path):
    """`trtcore run` writes output "gpu_0/softmax_1" to the folder gpu_0/softmax_1, `trtcore baseline` to
    gpu_0_softmax_1: both are the same output."""
    a = tmp_path / "a"
    _run(a / "gpu_0" / "softmax_1", {"s.bin": [0.25, 0.75]})
    _run(a / "r174", {"s.bin": [1, 2]})
    b = tmp_path / "b"
    baselines = common.py("baselines")
    baselines.write_outputs(str(b), ["s.bin"], {"gpu_0/softmax_1": np.array([[0.25, 0.75]]),
                                               "r174": np.array([[1.0, 2.5]])})
    rep = compare.compare_runs(str(a), str(b))
    assert sorted(rep["outputs"]) == ["gpu_0_softmax_1", "r174"] and not rep["only_in_a"] and not rep["only_in_b"]
    assert rep["outputs"]["gpu_0_softmax_1"]["passed"] and not rep["outputs"]["r174"]["passed"]
