"""Plan files: a round trip keeps the results; damaged files fail with trtcore.Error naming the file."""
import os
import struct

import numpy as np
import pytest

import trtcore
import models
from conftest import assert_close, build_engine, ort_run


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    model = models.mobilenet_v2(size=32, seed=21)
    engine = build_engine(model, tmp, batch=4)
    path = str(tmp / "mobilenet.plan")
    engine.save(path)
    with open(path, "rb") as f:
        data = f.read()
    return model, engine, path, data


def test_round_trip(built, rng):
    model, engine, path, _ = built
    loaded = trtcore.Engine(path)
    assert loaded.backend == "cpu" and loaded.max_batch == 4
    assert [(i.name, list(i.shape), i.dtype) for i in loaded.inputs] == \
           [(i.name, list(i.shape), i.dtype) for i in engine.inputs]
    assert [o.name for o in loaded.outputs] == [o.name for o in engine.outputs]
    assert [p["name"] for p in loaded.graph().passes] == list(trtcore.pass_names())
    for batch in (1, 4):
        x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
        ref = ort_run(model, {"input": x})["logits"]
        got = loaded.infer({"input": x})["logits"]
        assert_close(got, ref)
        np.testing.assert_allclose(got, engine.infer({"input": x})["logits"], rtol=1e-6, atol=1e-6)


def test_save_is_deterministic_and_resaves(built, tmp_path):
    _, engine, path, data = built
    again = str(tmp_path / "again.plan")
    trtcore.Engine(path).save(again)
    loaded = trtcore.Engine(again)
    assert loaded.max_batch == 4
    assert os.path.getsize(again) > 1000


def _expect_error(tmp_path, data, name="bad.plan"):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(trtcore.Error) as info:
        trtcore.Engine(str(path))
    assert str(path) in str(info.value) or name in str(info.value), f"message does not name the file: {info.value}"
    return info.value


@pytest.mark.parametrize("frac", [0.0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.999])
def test_truncated(built, tmp_path, frac):
    data = built[3]
    cut = int(len(data) * frac)
    _expect_error(tmp_path, data[:cut])


@pytest.mark.parametrize("cut_from_end", [1, 4, 8, 9])
def test_truncated_tail(built, tmp_path, cut_from_end):
    data = built[3]
    _expect_error(tmp_path, data[:-cut_from_end])


@pytest.mark.parametrize("where", [0.0, 0.002, 0.01, 0.3, 0.6, 0.95, 1.0])
def test_bit_flipped(built, tmp_path, where):
    data = bytearray(built[3])
    pos = min(int(len(data) * where), len(data) - 1)
    data[pos] ^= 0x10
    err = _expect_error(tmp_path, bytes(data))
    assert err.kind in ("corrupt input", "invalid argument", "unsupported"), err.kind


def test_wrong_magic(built, tmp_path):
    data = bytearray(built[3])
    data[0:4] = b"ONNX"
    err = _expect_error(tmp_path, bytes(data))
    assert err.kind == "corrupt input"


def test_onnx_file_given_as_plan(tmp_path):
    err = _expect_error(tmp_path, open(models.light_path("squeezenet"), "rb").read(), name="model.plan")
    assert err.kind == "corrupt input"


def _version_offset(data):
    """The layout (cpp/plan/plan.cpp): 8-byte magic "TRTCPLAN", then the format version as a little-endian u32."""
    assert data[:8] == b"TRTCPLAN", data[:8]
    assert struct.unpack_from("<I", data, 8)[0] == 1
    return 8


@pytest.mark.parametrize("version", [0, 2, 99, 0xFFFFFFFF])
def test_wrong_version(built, tmp_path, version):
    data = bytearray(built[3])
    off = _version_offset(data)
    struct.pack_into("<I", data, off, version)
    err = _expect_error(tmp_path, bytes(data))
    assert "version" in str(err).lower(), str(err)


def test_empty_file(tmp_path):
    _expect_error(tmp_path, b"")


def test_missing_file_is_io_error(tmp_path):
    path = str(tmp_path / "nope.plan")
    with pytest.raises(trtcore.Error) as info:
        trtcore.Engine(path)
    assert info.value.kind == "I/O error" and "nope.plan" in str(info.value)


def test_directory_given_as_plan(tmp_path):
    with pytest.raises(trtcore.Error) as info:
        trtcore.Engine(str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_save_to_unwritable_path_is_an_error(built, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(trtcore.Error) as info:
        built[1].save(str(blocker / "sub" / "m.plan"))
    assert "m.plan" in str(info.value)


def test_plan_records_device_and_memory(built):
    engine = trtcore.Engine(built[2])
    assert isinstance(engine.device, str) and engine.device
    mem = engine.memory
    assert mem["weights"] > 0 and mem["total"] >= mem["weights"]
