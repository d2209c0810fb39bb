"""trtcore: ONNX → optimized inference engine, with honest timings.

    import trtcore
    engine = trtcore.build("model.onnx", batch=8)          # import → optimize → build (cuda if available, else cpu)
    outputs = engine.infer(x)                              # dict: output name → numpy array
    stats = engine.benchmark(batch=8, iterations=100)
    engine.save("model.plan"); engine = trtcore.Engine("model.plan")
    ctx = engine.create_context()                          # one per thread for concurrent runs
    trtcore.debug_precision("model.onnx", "calib/", "out/")  # which layers hurt INT8 (see trtcore.debug)

Failures raise trtcore.Error subclasses that are also the fitting built-in exception: InputError (ValueError),
UnsupportedError (NotImplementedError), IoError (OSError), MissingFileError (FileNotFoundError), ModelError and
PlanError (ValueError), BackendError (RuntimeError); see trtcore.errors.
"""
import os as _os
import re as _re

from . import _core
from ._core import (  # noqa: F401
    Context,
    Engine,
    Error,
    GraphInfo,
    LayerInfo,
    NodeInfo,
    OpSupport,
    TacticTime,
    TensorInfo,
    __version__,
    check_onnx,
    compiled_backends,
    cpu_isa,
    cuda_available,
    load_graph,
    pass_names,
)
from .errors import (  # noqa: F401,E402
    BackendError,
    CorruptError,
    InputError,
    IoError,
    MissingFileError,
    ModelError,
    PlanError,
    UnsupportedError,
)
from . import errors as _errors  # noqa: E402

_core._error_factory = _errors.from_core  # C++ errors become the subclasses above, in Python spelling

from .debug import debug_precision  # noqa: F401,E402  (per-layer INT8 sensitivity, `trtcore debug precision`)

_core_build = Engine.build
_core_engine_init = Engine.__init__


def _parameter_names(function):
    """The parameter names of a compiled function, from the signature line pybind11 puts first in its __doc__."""
    line = (function.__doc__ or "").split("\n", 1)[0]
    inside = line[line.find("(") + 1:line.rfind(")")]
    return _re.findall(r"(?:^|, )(\w+): ", inside)


# Names a command-line user may try as keywords, and what the Python API calls them.
_KEYWORD_HINTS = {"half": 'precision="fp16"', "fp16": 'precision="fp16"', "int8": 'precision="int8"',
                  "onnx": "onnx_path (the first argument)", "plan": "engine.save(path)", "workspace": "workspace_mib",
                  "disable_pass": "disabled_passes", "calibration": "calibration_cache", "shape": "shapes",
                  "max_batch": "batch", "batch_size": "batch"}


def _check_keywords(what, options, valid):
    unknown = [k for k in options if k not in valid]
    if unknown:
        hints = ["%s: use %s" % (k, _KEYWORD_HINTS[k]) for k in unknown if k in _KEYWORD_HINTS]
        raise TypeError("%s() got unknown keyword argument%s %s%s. Valid keywords: %s" % (
            what, "s" if len(unknown) > 1 else "", ", ".join(repr(k) for k in unknown),
            " (%s)" % "; ".join(hints) if hints else "", ", ".join(valid)))


def _build_options():
    return [n for n in _parameter_names(_core_build) if n != "onnx_path"]


def build(onnx_path, **options):
    """Builds an Engine from an ONNX file (import, optimize, precision, build).

    Options: batch (largest batch; a dynamic batch axis runs any batch up to it), shapes ({input: shape} for other
    dynamic axes), backend ("auto", "cpu", "cuda", "tensorrt"), precision ("fp32", "fp16", "int8"), strict_fp32,
    disabled_passes, timing_cache, threads, cuda_graph, io_half, workspace_mib; for INT8: calibration_dir (a folder
    of raw samples) or calibration_data (an iterable of arrays with a batch axis, or of dicts input name -> array),
    calibration_cache, calibrator ("entropy", "max", "percentile", "mse"), percentile, calibration_batch,
    calibration_batches, exclude_layers, int8_fallback ("auto": the float layers in fp16 on cuda and fp32 on cpu;
    "fp16"; "fp32"), int8_bias_correction ("off"/"on"), int8_equalization ("off"/"on"/"activations"),
    int8_float_layers (N: the N layers most sensitive to INT8 stay float; "auto": the fewest that reach
    int8_target_agreement, default 0.99, top-1 agreement with FP32 on the calibration samples). An unknown keyword
    raises TypeError naming it and the valid ones; build failures raise trtcore.Error subclasses (see
    trtcore.errors)."""
    _check_keywords("trtcore.build", options, _build_options())
    _check_int8_keywords(options)
    n = options.get("int8_float_layers")
    if isinstance(n, int) and not isinstance(n, bool):  # a count or "auto"; the core reads both as text
        options["int8_float_layers"] = str(n)
    data = options.pop("calibration_data", None)
    if data is not None:
        options["calibration_data"] = _calibration_arrays(_os.fspath(onnx_path), data, options)
    try:
        return _core_build(_os.fspath(onnx_path), **options)
    except TypeError as e:
        if "incompatible function arguments" not in str(e):
            raise
        given = ", ".join("%s=%s" % (k, type(v).__name__) for k, v in options.items())
        raise TypeError("trtcore.build(): an argument has the wrong type (given: onnx_path=%s%s); see "
                        "help(trtcore.build)" % (type(onnx_path).__name__, ", " + given if given else "")) from None


_INT8_ONLY = ("calibration_cache", "calibrator", "percentile", "calibration_batch", "calibration_batches",
              "exclude_layers", "int8_bias_correction", "int8_equalization", "int8_float_layers",
              "int8_target_agreement")


def _check_int8_keywords(options):
    """Keywords only an INT8 build reads are errors with another precision rather than ignored."""
    precision = options.get("precision", "fp32")
    if precision != "int8":
        for k in _INT8_ONLY:
            if k in options:
                raise _errors.raise_as(_errors.InputError, "invalid argument",
                                       "trtcore.build(): %s needs precision=\"int8\" (this build is %s): only an "
                                       "INT8 build reads it" % (k, precision))
    for k in ("calibration_dir", "calibration_data"):
        if options.get(k) not in (None, "") and precision not in ("int8", "fp16"):
            raise _errors.raise_as(_errors.InputError, "invalid argument",
                                   "trtcore.build(): %s needs precision=\"int8\" (calibration) or \"fp16\" (the "
                                   "FP16 range guard's samples); this build is %s" % (k, precision))
    d = options.get("calibration_dir")
    if isinstance(d, (str, _os.PathLike)) and _os.fspath(d) and not _os.path.exists(d):
        raise _errors.raise_as(_errors.MissingFileError, "I/O error",
                               "trtcore.build(): calibration_dir=%r does not exist (expected a folder of raw samples, "
                               "a `trtcore prepare` folder or a .npy/.npz file)" % (_os.fspath(d),))


def _load_plan(self, plan_path, *args, **kwargs):
    """Loads a plan written by Engine.save or `trtcore build`. threads: cpu backend threads (0: all cores);
    cuda_graph: replay runs as CUDA graphs. An ONNX model is not a plan: build it first with trtcore.build."""
    _check_keywords("trtcore.Engine", kwargs, [n for n in _parameter_names(_core_engine_init)
                                               if n not in ("self", "plan_path")])
    path = _os.fspath(plan_path)
    try:
        _core_engine_init(self, path, *args, **kwargs)
    except PlanError:
        if _looks_like_onnx(path):
            stem = _os.path.splitext(path)[0]
            raise _errors.raise_as(
                PlanError, "corrupt input",
                "%s is an ONNX model, not a plan: build an engine first, engine = trtcore.build(%r, batch=...), "
                "and keep its plan with engine.save(%r)" % (path, path, stem + ".plan")) from None
        raise


def _looks_like_onnx(path):
    if path.lower().endswith(".onnx"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return head[:1] == b"\x08"  # an ONNX ModelProto starts with field 1 (ir_version), a varint


_load_plan.__name__ = "__init__"
Engine.__init__ = _load_plan
Engine.build = staticmethod(build)


def _calibration_arrays(onnx_path, data, options):
    """The calibration samples as one float32 array per model input (graph input order), batch axis first."""
    import numpy as np

    def bad(message):
        return _errors.raise_as(_errors.InputError, "invalid argument", "calibration_data: " + message)

    inputs = load_graph(onnx_path, batch=options.get("batch", 0), shapes=options.get("shapes", {}),
                        stop_after="import").inputs
    names = [t.name for t in inputs]
    sample_shapes = {t.name: tuple(t.shape[1:]) for t in inputs}
    parts = {n: [] for n in names}
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            if len(names) != 1:
                raise bad(f"the model has inputs {names}; give dicts name -> array")
            item = {names[0]: item}
        missing = set(names) - set(item)
        if missing:
            raise bad(f"an item lacks input(s) {sorted(missing)}")
        for n in names:
            a = np.ascontiguousarray(item[n], dtype=np.float32)
            # a batch of another sample shape would otherwise be cut into samples of the right size silently
            if a.ndim != len(sample_shapes[n]) + 1 or tuple(a.shape[1:]) != sample_shapes[n]:
                raise bad("item %d: input '%s' has shape %s; it takes Nx%s (a batch axis first)" % (
                    index, n, "x".join(map(str, a.shape)), "x".join(map(str, sample_shapes[n]))))
            parts[n].append(a)
    if not parts[names[0]]:
        raise bad("holds no samples")
    return [np.concatenate(parts[n]) for n in names]


def serve(engine, block=True, **options):
    """Serves an Engine (or plan path) through Triton via PyTriton (pip install 'trtcore[serve]'); see
    trtcore.serving.Server for the options (host, http_port, grpc_port, metrics_port, instances, ...)."""
    from .serving import serve as _serve

    return _serve(engine, block=block, **options)
