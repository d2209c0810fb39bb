"""The Python surface: exception classes (trtcore.Error subclasses that are also the fitting built-in exception),
messages in Python spelling, clean errors for unknown keywords and for loading an ONNX file as a plan, docstrings on
every public class, function, method and property, and the typing marker for the stubs."""
import importlib
import inspect
import os
import pkgutil
import subprocess

import numpy as np
import onnx
import pytest

import models
import trtcore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("api") / "m.onnx")
    onnx.save(models.mobilenet_v2(size=32), path)
    return path


def _raises(cls, fn):
    with pytest.raises(cls) as info:
        fn()
    assert isinstance(info.value, trtcore.Error), type(info.value).__mro__
    return info.value


def test_errors_are_subclasses_and_builtins(onnx_path, tmp_path):
    e = _raises(trtcore.InputError, lambda: trtcore.build(onnx_path, backend="cpu", precision="fp9"))
    assert isinstance(e, ValueError) and e.kind == "invalid argument"
    e = _raises(trtcore.MissingFileError, lambda: trtcore.Engine(str(tmp_path / "missing.plan")))
    assert isinstance(e, FileNotFoundError) and isinstance(e, trtcore.IoError) and e.kind == "I/O error"
    assert "missing.plan" in str(e)
    (tmp_path / "junk.plan").write_bytes(b"TRTCPLAN" + b"\0" * 40)
    e = _raises(trtcore.PlanError, lambda: trtcore.Engine(str(tmp_path / "junk.plan")))
    assert isinstance(e, ValueError) and e.kind == "corrupt input"
    (tmp_path / "bad.onnx").write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    e = _raises(trtcore.ModelError, lambda: trtcore.build(str(tmp_path / "bad.onnx"), backend="cpu"))
    assert isinstance(e, ValueError) and "bad.onnx" in str(e)
    eng = trtcore.build(onnx_path, batch=2, backend="cpu")
    e = _raises(trtcore.InputError, lambda: eng.infer(np.zeros((3, 3, 32, 32), np.float32)))
    assert "3x3x32x32" in str(e)
    assert issubclass(trtcore.UnsupportedError, NotImplementedError)
    assert issubclass(trtcore.BackendError, RuntimeError)
    for cls in (trtcore.InputError, trtcore.UnsupportedError, trtcore.IoError, trtcore.PlanError,
                trtcore.ModelError, trtcore.BackendError):
        assert issubclass(cls, trtcore.Error) and cls.__doc__


def test_messages_name_python_arguments_not_command_line_options(onnx_path):
    e = _raises(trtcore.InputError, lambda: trtcore.build(onnx_path, backend="cpu", precision="int8"))
    assert "calibration_dir" in str(e) and "--" not in str(e)
    assert trtcore.errors.python_spelling("--int8 needs --calibration-dir; see --exclude-layers, a-b--c") == \
        'precision="int8" needs calibration_dir; see exclude_layers, a-b--c'


def test_unknown_keyword_is_a_clean_type_error(onnx_path):
    with pytest.raises(TypeError) as info:
        trtcore.build(onnx_path, half=True)
    text = str(info.value)
    assert "'half'" in text and 'precision="fp16"' in text and "calibration_dir" in text
    assert "incompatible function arguments" not in text and "Invoked with" not in text
    with pytest.raises(TypeError, match="'bogus'"):
        trtcore.Engine.build(onnx_path, bogus=1)
    with pytest.raises(TypeError, match="'thread'"):
        trtcore.Engine("x.plan", thread=2)
    with pytest.raises(TypeError, match="wrong type") as info:
        trtcore.build(onnx_path, batch="8")
    assert "Invoked with" not in str(info.value)


def test_loading_an_onnx_model_as_a_plan_says_to_build_it(onnx_path):
    e = _raises(trtcore.PlanError, lambda: trtcore.Engine(onnx_path))
    assert "ONNX model, not a plan" in str(e) and "trtcore.build(" in str(e) and "engine.save(" in str(e)


def test_engine_built_and_loaded_still_work(onnx_path, tmp_path):
    eng = trtcore.build(onnx_path, batch=2, backend="cpu")
    assert isinstance(eng, trtcore.Engine)
    eng.save(str(tmp_path / "m.plan"))
    loaded = trtcore.Engine(str(tmp_path / "m.plan"), threads=1)
    x = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    for name, out in eng.infer(x).items():
        np.testing.assert_array_equal(out, loaded.infer(x)[name])


def test_run_directory_feeds_several_inputs_from_sub_folders(tmp_path):
    """Engine.run_directory on a two-input model: one sub-folder per input, files paired by name; outputs match
    onnxruntime, and a file missing from one sub-folder is an error naming it."""
    from test_cli import _check_two_input_outputs
    model = models.two_input_model(seed=8)
    path = str(tmp_path / "two.onnx")
    onnx.save(model, path)
    samples = models.write_two_input_samples(tmp_path / "s", 3, seed=9)
    eng = trtcore.build(path, batch=2, backend="cpu")
    result = eng.run_directory(str(tmp_path / "s"), str(tmp_path / "out"))
    assert result["samples"] == 3, result
    _check_two_input_outputs(model, samples, tmp_path / "out")
    os.remove(tmp_path / "s" / "image" / "sample_01.raw")
    with pytest.raises(trtcore.Error, match="input 'image' has no file 'sample_01.raw'"):
        eng.run_directory(str(tmp_path / "s"))


def _doc_text(obj):
    """The documentation beyond the signature line pybind11 puts first in a compiled function's __doc__."""
    doc = getattr(obj, "__doc__", None) or ""
    if type(obj).__name__ in ("builtin_function_or_method", "instancemethod"):
        doc = doc.split("\n", 1)[1] if "\n" in doc else ""
    return doc.strip()


def _public_modules():
    # a build tree may keep the cuda backend's library (libtrtcore_cuda.so, not a Python module) beside _core
    names = ["trtcore"] + ["trtcore." + m.name for m in pkgutil.iter_modules(trtcore.__path__)
                           if not m.name.startswith(("_", "lib")) and m.name not in ("cli", "__main__")]
    return [importlib.import_module(n) for n in names]


def test_every_public_class_function_method_and_property_has_a_docstring():
    missing = []
    for mod in _public_modules():
        if not (mod.__doc__ or "").strip():
            missing.append(mod.__name__)
        for name, obj in vars(mod).items():
            if name.startswith("_") or not callable(obj):
                continue
            if getattr(obj, "__module__", None) not in (mod.__name__, "trtcore._core"):
                continue  # imported from elsewhere: checked where it is defined
            if not _doc_text(obj):
                missing.append("%s.%s" % (mod.__name__, name))
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if attr == "__init__" and obj.__module__ != "trtcore._core":
                        continue  # Python classes document construction in the class docstring
                    member = member.__func__ if isinstance(member, staticmethod) else member
                    if (isinstance(member, property) or callable(member)) and not _doc_text(member):
                        missing.append("%s.%s.%s" % (mod.__name__, name, attr))
    assert not missing, missing


def test_type_stubs_are_marked_typed_and_shipped():
    pkg = os.path.dirname(trtcore.__file__)
    assert os.path.isfile(os.path.join(pkg, "py.typed")) and os.path.isfile(os.path.join(pkg, "_core.pyi"))
    # The wheel takes every file of python/trtcore that git does not ignore (pyproject: wheel.packages).
    src = os.path.join(REPO, "python", "trtcore")
    for name in ("py.typed", "_core.pyi"):
        assert os.path.isfile(os.path.join(src, name))
        ignored = subprocess.run(["git", "-C", REPO, "check-ignore", "-q", os.path.join(src, name)])
        assert ignored.returncode == 1, name + " is ignored by git, so the wheel would leave it out"
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        assert 'wheel.packages = ["python/trtcore"]' in f.read()


@pytest.mark.parametrize("keyword, value", [("calibration_cache", "c.cache"), ("calibrator", "max"),
                                            ("percentile", 99.9), ("calibration_batch", 2),
                                            ("calibration_batches", 1), ("exclude_layers", ["n0"]),
                                            ("calibration_dir", "samples")])
def test_int8_keywords_without_int8_are_errors_naming_them(onnx_path, keyword, value):
    """As on the command line: a keyword that only an INT8 build reads is an error with another precision."""
    e = _raises(trtcore.InputError, lambda: trtcore.build(onnx_path, backend="cpu", **{keyword: value}))
    assert isinstance(e, ValueError) and keyword in str(e) and 'precision="int8"' in str(e)


def test_missing_calibration_dir_names_the_keyword(onnx_path):
    e = _raises(trtcore.MissingFileError,
                lambda: trtcore.build(onnx_path, backend="cpu", precision="int8", calibration_dir="nope"))
    assert "calibration_dir" in str(e) and "'nope'" in str(e)


def test_unsupported_precision_names_the_ones_the_backend_builds(onnx_path):
    e = _raises(trtcore.UnsupportedError, lambda: trtcore.build(onnx_path, backend="cpu", precision="fp16"))
    assert 'precision="int8"' in str(e) and "without" not in str(e)


def test_infer_names_a_wrong_input_key_and_the_inputs(onnx_path):
    eng = trtcore.build(onnx_path, batch=1, backend="cpu")
    name = eng.inputs[0].name
    e = _raises(trtcore.InputError, lambda: eng.infer({"y": np.zeros(eng.inputs[0].shape, np.float32)}))
    assert "'y' is not an input" in str(e) and f"missing input '{name}'" in str(e) and f"inputs are '{name}'" in str(e)
    x = np.zeros(eng.inputs[0].shape, np.float32)
    e = _raises(trtcore.InputError, lambda: eng.infer({name: x, "extra": x}))
    assert "'extra' is not an input" in str(e) and "missing" not in str(e)
