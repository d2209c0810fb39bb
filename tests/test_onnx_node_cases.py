"""ONNX's own backend node test cases for the ops trtcore supports.

The onnx wheel here ships no data/node folder, so the cases are generated from onnx's Python definitions
(onnx.backend.test.case.node.<op>.py: each export() calls expect(node, inputs, outputs), which records a model and
its expected outputs). Only the modules of supported ops are imported; the generated cases are cached on disk per
onnx version because a few reference implementations (pooling) take seconds to run.

Inputs that real models carry as initializers (weights, shapes, axes, pads, scales) are frozen into initializers
with the case's own values: trtcore builds static plans and folds shape computations at build time.
"""
import importlib
import os
import pickle
import pkgutil
import re
import tempfile
import warnings
import zlib

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import trtcore
from conftest import save_model

HERE = os.path.dirname(os.path.abspath(__file__))

# ops trtcore claims: the one list in cpp/ops/op_list.h
_op_list = os.path.join(HERE, "..", "cpp", "ops", "op_list.h")
_text = open(_op_list).read()
SUPPORTED = set(re.findall(r"X\((\w+)\)", _text[_text.find("#define TRTCORE_OP_LIST"):]))

# dtypes inside trtcore's scope (FP32 compute; int64/int32/bool for shapes, indices and masks; int8/uint8 for the
# quantized tensors of QuantizeLinear/DequantizeLinear)
DTYPES = {np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.bool_)}
QUANT_DTYPES = DTYPES | {np.dtype(np.int8), np.dtype(np.uint8)}

# inputs (by position) that real models carry as initializers; frozen to the case's values
FREEZE = {
    "Conv": {1, 2}, "ConvTranspose": {1, 2}, "BatchNormalization": {1, 2, 3, 4}, "PRelu": {1},
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3},
    "Upsample": {1}, "Split": {1}, "Squeeze": {1}, "Unsqueeze": {1}, "ReduceMean": {1}, "ReduceSum": {1},
    "ReduceMax": {1}, "ConstantOfShape": {0}, "Range": {0, 1, 2}, "Clip": {1, 2}, "Dropout": {1, 2},
}

# cases not run, with the reason (beyond the automatic dtype rule)
SKIP = {
    # training mode makes Dropout random; the expected output comes from numpy's generator
    "test_training_dropout": "training_mode=1: random mask",
    "test_training_dropout_default": "training_mode=1: random mask",
    "test_training_dropout_default_mask": "training_mode=1: random mask",
    "test_training_dropout_mask": "training_mode=1: random mask",
    "test_training_dropout_zero_ratio": "training_mode=1 (inference engine)",
    "test_training_dropout_zero_ratio_mask": "training_mode=1 (inference engine)",
    "test_reduce_max_empty_set_bool": "max over an empty bool set (onnxruntime rejects it as well)",
    # ONNX's expected value takes the unrounded output length (4 * 0.6 = 2.4) in the align_corners transform;
    # onnxruntime uses the integer output length (2) and gets 4.0 where ONNX expects 3.142857
    "test_resize_downsample_scales_linear_align_corners": "reference uses the unrounded output length",
}

# cases whose op/attribute value is outside the scope: the build must fail cleanly (trtcore.Error,
# kind 'unsupported', naming the node) instead of computing something
EXPECT_UNSUPPORTED = {
    # Resize/Upsample: the issue asks for nearest and linear; cubic is out of scope
    r"test_resize_.*cubic.*": "Resize mode cubic",
    r"test_resize_.*antialias.*": "Resize antialias",
    r"test_resize_.*tf_crop_and_resize.*": "Resize tf_crop_and_resize",
    # training-time outputs of an inference engine
    r"test_batchnorm_.*training_mode": "BatchNormalization training_mode=1",
    r"test_maxpool_with_argmax_.*": "MaxPool Indices output",
    r"test_reduce_max_bool_inputs": "ReduceMax over bool",
}


def _module_ops(name):
    return name.replace("_", "").lower().removesuffix("op")


def _generate():
    import onnx.backend.test.case.node as node_pkg

    wanted = {op.lower() for op in SUPPORTED} | {"batchnormalization"}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for _, name, ispkg in pkgutil.iter_modules(node_pkg.__path__):
            if not ispkg and _module_ops(name) in wanted:
                importlib.import_module(f"{node_pkg.__name__}.{name}")
    cases = []
    for c in node_pkg._NodeTestCases:
        if not c.data_sets or c.model is None:
            continue
        inputs, outputs = c.data_sets[0]
        cases.append((c.name, c.model.SerializeToString(), list(inputs), list(outputs), c.rtol, c.atol))
    return cases


def _load_cases():
    cache_dir = os.path.join(tempfile.gettempdir(), f"trtcore-test-cache-{os.getuid()}")
    key = zlib.crc32(" ".join(sorted(SUPPORTED)).encode())
    path = os.path.join(cache_dir, f"onnx-{onnx.__version__}-node-cases-{key}.pkl")
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError):
        pass
    cases = _generate()
    try:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "wb") as f:
            pickle.dump(cases, f)
        os.replace(tmp, path)
    except OSError:
        pass
    return cases


def _classify(name, model, inputs, outputs):
    """'run', 'unsupported' or 'skip:<reason>'."""
    ops = {n.op_type for n in model.graph.node}
    if any(n.domain not in ("", "ai.onnx") for n in model.graph.node):
        return "skip:non-default domain"
    if not ops <= SUPPORTED:
        return None  # a case for another op (an expansion using unsupported ops): not listed at all
    if name in SKIP:
        return "skip:" + SKIP[name]
    for pattern, reason in EXPECT_UNSUPPORTED.items():
        if re.fullmatch(pattern, name):
            return "unsupported:" + reason
    for a in list(inputs) + list(outputs):
        if isinstance(a, onnx.TensorProto):
            a = numpy_helper.to_array(a)
        if isinstance(a, np.generic):
            a = np.asarray(a)
        if not isinstance(a, np.ndarray):
            return "skip:sequence/optional value"
        allowed = QUANT_DTYPES if ops & {"QuantizeLinear", "DequantizeLinear"} else DTYPES
        if a.dtype not in allowed:
            return f"skip:dtype {a.dtype} outside trtcore's scope for {'/'.join(sorted(ops))}"
    opset = _opset(model)
    if opset > MAX_OPSET and not _same_at(model, MAX_OPSET):
        return f"skip:opset {opset} > {MAX_OPSET} and the op changed since"
    return "run"


MAX_OPSET = 21  # trtcore reads opset 8-21


def _opset(model):
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def _same_at(model, opset):
    """True when every node's schema at `opset` has the same inputs, outputs and attributes as at the model's opset
    (later versions only added element types), so the case can be relabelled to `opset` unchanged."""
    for node in model.graph.node:
        try:
            new = onnx.defs.get_schema(node.op_type, _opset(model))
            old = onnx.defs.get_schema(node.op_type, opset)
        except onnx.defs.SchemaError:
            return False
        if (sorted(new.attributes) != sorted(old.attributes) or len(new.inputs) != len(old.inputs)
                or len(new.outputs) != len(old.outputs)):
            return False
    return True


def _relabel_opset(model):
    if _opset(model) <= MAX_OPSET:
        return model
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = MAX_OPSET
    model.ir_version = min(model.ir_version, 10)  # IR 10 goes with opset 21
    onnx.checker.check_model(model)
    return model


_CASES = {}
_PARAMS = []
for _name, _bytes, _ins, _outs, _rtol, _atol in sorted(_load_cases(), key=lambda c: c[0]):
    _model = onnx.load_from_string(_bytes)
    _kind = _classify(_name, _model, _ins, _outs)
    if _kind is None:
        continue
    _CASES[_name] = (_model, _ins, _outs, _rtol, _atol)
    _marks = [pytest.mark.skip(reason=_kind[5:])] if _kind.startswith("skip:") else []
    _PARAMS.append(pytest.param(_name, _kind, id=_name, marks=_marks))


def _freeze(model, inputs):
    """Moves FREEZE-listed graph inputs into initializers; returns (model, feeds)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    values = {}
    for vi, a in zip(g.input, inputs):
        values[vi.name] = numpy_helper.to_array(a) if isinstance(a, onnx.TensorProto) else np.asarray(a)
    frozen = set()
    if len(g.node) == 1:
        node = g.node[0]
        for pos in FREEZE.get(node.op_type, ()):
            if pos < len(node.input) and node.input[pos] in values:
                frozen.add(node.input[pos])
    else:
        # an expanded function: freeze the int64 inputs (shapes, axes)
        frozen = {k for k, v in values.items() if v.dtype == np.int64}
    for name in frozen:
        g.initializer.append(numpy_helper.from_array(np.asarray(values[name]), name))
    keep = [vi for vi in g.input if vi.name not in frozen]
    del g.input[:]
    g.input.extend(keep)
    model.ir_version = max(model.ir_version, 4)
    model = _relabel_opset(model)
    # arrays read back from the on-disk cache carry non-canonical dtype objects; test_batch.py checks that case
    return model, {k: v.astype(v.dtype.type) for k, v in values.items() if k not in frozen}


def test_cases_were_found():
    run = [p for p in _PARAMS if p.values[1] == "run"]
    assert len(run) >= 150, f"only {len(run)} ONNX node cases selected"
    ops = {n.op_type for name, (m, *_rest) in _CASES.items() for n in m.graph.node}
    assert {"Conv", "MaxPool", "Resize", "Gemm", "Slice", "Pad"} <= ops


@pytest.mark.parametrize("name,kind", _PARAMS)
def test_onnx_node_case(name, kind, tmp_path):
    model, inputs, outputs, rtol, atol = _CASES[name]
    model, feeds = _freeze(model, inputs)
    path = save_model(model, tmp_path / f"{name}.onnx")
    if kind.startswith("unsupported:"):
        with pytest.raises(trtcore.Error) as info:
            trtcore.build(path, backend="cpu")
        node = model.graph.node[0]
        assert info.value.kind == "unsupported", str(info.value)
        assert node.op_type in str(info.value), f"message does not name the op: {info.value}"
        return
    engine = trtcore.build(path, backend="cpu")
    got = engine.infer(feeds)
    for vi, expected in zip(model.graph.output, outputs):
        if isinstance(expected, onnx.TensorProto):
            expected = numpy_helper.to_array(expected)
        expected = np.asarray(expected)
        assert vi.name in got, f"output {vi.name} missing from {sorted(got)}"
        actual = np.asarray(got[vi.name])
        assert actual.shape == expected.shape, f"{vi.name}: shape {actual.shape} != expected {expected.shape}"
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                                       rtol=max(rtol, 1e-4), atol=max(atol, 1e-6), equal_nan=True,
                                       err_msg=f"output {vi.name}")
        else:
            np.testing.assert_array_equal(actual.astype(expected.dtype), expected, err_msg=f"output {vi.name}")
