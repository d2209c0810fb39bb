"""Every supported op against onnxruntime on seeded random inputs (cpu backend, FP32 relative L2 <= 1e-4)."""
import os
import re

import numpy as np
import pytest

import trtcore
from conftest import FP32_TOL, check_against_ort, seed_of
from op_cases import CASES


@pytest.mark.parametrize("make", CASES)
def test_op_matches_onnxruntime(make, request, tmp_path):
    model, feeds = make(np.random.default_rng(seed_of(request.node.callspec.id)))
    check_against_ort(model, feeds, tmp_path, tol=FP32_TOL, backend="cpu")


def _covered_ops():
    ops = set()
    for p in CASES:
        model, _ = p.values[0](np.random.default_rng(0))
        ops.update(n.op_type for n in model.graph.node)
    return ops


def test_every_op_has_a_case():
    """Every op of cpp/ops/op_list.h (the one list of supported ops) is exercised by at least one case above."""
    op_list = os.path.join(os.path.dirname(__file__), "..", "cpp", "ops", "op_list.h")
    text = open(op_list).read()
    listed = set(re.findall(r"X\((\w+)\)", text[text.find("#define TRTCORE_OP_LIST"):]))
    assert len(listed) > 60, "op_list.h was not parsed"
    missing = sorted(listed - _covered_ops())
    assert not missing, f"no test case for {missing}"


def test_supported_ops_reported_by_check_onnx(tmp_path):
    """check_onnx reports a supported single-op model as supported (one entry per node, naming it)."""
    from conftest import save_model
    model, _ = CASES[0].values[0](np.random.default_rng(0))
    path = save_model(model, tmp_path / "m.onnx")
    report = trtcore.check_onnx(path)
    assert [r.node for r in report] == [n.name for n in model.graph.node]
    assert all(r.supported for r in report), [(r.node, r.reason) for r in report]
