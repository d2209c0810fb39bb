"""The exceptions trtcore raises. Every one is a `trtcore.Error` (with `.kind`, the C++ error kind's name) and also
the built-in exception that fits, so `except ValueError` or `except FileNotFoundError` work as expected:

    Error                                     every trtcore failure; .kind: 'invalid argument', 'unsupported',
    ├── InputError(ValueError)                'I/O error', 'corrupt input' or 'runtime error'
    ├── UnsupportedError(NotImplementedError) an op, attribute, dtype or precision the backend cannot run
    ├── IoError(OSError)                      a file or folder that cannot be read or written
    │   └── MissingFileError(FileNotFoundError)
    ├── CorruptError(ValueError)              malformed input file
    │   ├── ModelError                        a malformed ONNX model
    │   └── PlanError                         not a plan, or a truncated/corrupted/other-version plan
    └── BackendError(RuntimeError)            CUDA/cuDNN and other failures while building or running

Messages name the Python arguments (`calibration_dir`), not the command line's options (`--calibration-dir`).
"""
import re

from ._core import Error

__all__ = ["Error", "InputError", "UnsupportedError", "IoError", "MissingFileError", "CorruptError", "ModelError",
           "PlanError", "BackendError", "python_spelling"]


class InputError(Error, ValueError):
    """A bad argument: an unknown option value, a wrong shape or dtype, a missing input, a wrong-size sample."""


class UnsupportedError(Error, NotImplementedError):
    """An op, attribute value, dtype or precision that the chosen backend cannot run."""


class IoError(Error, OSError):
    """A file or folder that cannot be opened, read or written."""


class MissingFileError(IoError, FileNotFoundError):
    """A file or folder that does not exist."""


class CorruptError(Error, ValueError):
    """A malformed input file (model, plan, calibration cache)."""


class ModelError(CorruptError):
    """A malformed ONNX model (bad protobuf, dangling tensor names, bad external data)."""


class PlanError(CorruptError):
    """A file that is not a trtcore plan, or a truncated, corrupted or other-version plan."""


class BackendError(Error, RuntimeError):
    """A failure while building or running (CUDA, cuDNN, out of device memory) that is not the caller's input."""


# The command line's option → the Python argument (of trtcore.build, Engine, Engine.run_directory) it stands for.
_PYTHON_NAMES = {
    "--onnx": "onnx_path", "--plan": "plan_path", "--batch": "batch", "--shapes": "shapes", "--backend": "backend",
    "--half": 'precision="fp16"', "--int8": 'precision="int8"', "--io-half": "io_half",
    "--strict-fp32": "strict_fp32", "--workspace": "workspace_mib", "--timing-cache": "timing_cache",
    "--disable-pass": "disabled_passes", "--threads": "threads", "--no-cuda-graph": "cuda_graph=False",
    "--calibration-dir": "calibration_dir", "--calibration-cache": "calibration_cache",
    "--calibrator": "calibrator", "--percentile": "percentile", "--calibration-batch": "calibration_batch",
    "--calibration-batches": "calibration_batches", "--exclude-layers": "exclude_layers",
    "--int8-fallback": "int8_fallback", "--int8-bias-correction": "int8_bias_correction",
    "--int8-equalization": "int8_equalization", "--int8-float-layers": "int8_float_layers",
    "--int8-target-agreement": "int8_target_agreement", "--dir": "dir",
    "--output-dir": "output_dir", "--iter": "iterations", "--warmup": "warmup",
}
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def python_spelling(message):
    """`message` with the command line's option names replaced by the Python arguments they stand for."""
    return _OPTION.sub(lambda m: _PYTHON_NAMES.get(m.group(0), m.group(0)), message)


_MISSING = re.compile(r"does not exist|no such file", re.IGNORECASE)
_PLAN = re.compile(r"\bplan\b", re.IGNORECASE)
_MODEL = re.compile(r"onnx|\bgraph\b|\bnode\b|initializer|external data", re.IGNORECASE)


def _class_for(kind, message):
    if kind == "invalid argument":
        return InputError
    if kind == "unsupported":
        return UnsupportedError
    if kind == "I/O error":
        return MissingFileError if _MISSING.search(message) else IoError
    if kind == "corrupt input":
        return PlanError if _PLAN.search(message) else ModelError if _MODEL.search(message) else CorruptError
    if kind == "runtime error":
        return BackendError
    return Error


def from_core(kind, message):
    """The exception for a C++ error of `kind` (called by the compiled module's exception translator)."""
    message = python_spelling(message)
    exc = _class_for(kind, message)(message)
    exc.kind = kind
    return exc


def raise_as(cls, kind, message):
    """An exception of trtcore class `cls` raised from Python code, with its `kind` set like the core's."""
    exc = cls(message)
    exc.kind = kind
    return exc
