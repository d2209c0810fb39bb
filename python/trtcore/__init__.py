"""trtcore: ONNX → optimized inference engine, with honest timings.

    import trtcore
    engine = trtcore.build("model.onnx", batch=8)          # import → optimize → build (cuda if available, else cpu)
    outputs = engine.infer(x)                              # dict: output name → numpy array
    stats = engine.benchmark(batch=8, iterations=100)
    engine.save("model.plan"); engine = trtcore.Engine("model.plan")
    ctx = engine.create_context()                          # one per thread for concurrent runs
    trtcore.debug_precision("model.onnx", "calib/", "out/")  # which layers hurt INT8 (see trtcore.debug)
"""
from ._core import (  # noqa: F401
    Context,
    Engine,
    Error,
    GraphInfo,
    LayerInfo,
    NodeInfo,
    OpSupport,
    TensorInfo,
    __version__,
    check_onnx,
    compiled_backends,
    cuda_available,
    load_graph,
    pass_names,
)
from .debug import debug_precision  # noqa: F401,E402  (per-layer INT8 sensitivity, `trtcore debug precision`)


def build(onnx_path, **options):
    """Builds an Engine from an ONNX file. Options: batch, shapes, backend, precision ("fp32", "fp16", "int8"),
    strict_fp32, disabled_passes, timing_cache, threads, cuda_graph, io_half, workspace_mib; for INT8:
    calibration_dir (a folder of raw samples) or calibration_data (an iterable of arrays with a batch axis, or of
    dicts input name -> array), calibration_cache, calibrator ("entropy", "max", "percentile", "mse"),
    percentile, calibration_batch, calibration_batches, exclude_layers (see Engine.build)."""
    data = options.pop("calibration_data", None)
    if data is not None:
        options["calibration_data"] = _calibration_arrays(str(onnx_path), data, options)
    return Engine.build(str(onnx_path), **options)


def _calibration_arrays(onnx_path, data, options):
    """The calibration samples as one float32 array per model input (graph input order), batch axis first."""
    import numpy as np

    names = [t.name for t in load_graph(onnx_path, batch=options.get("batch", 0), shapes=options.get("shapes", {}),
                                        stop_after="import").inputs]
    parts = {n: [] for n in names}
    for item in data:
        if not isinstance(item, dict):
            if len(names) != 1:
                raise ValueError(f"calibration_data: the model has inputs {names}; give dicts name -> array")
            item = {names[0]: item}
        missing = set(names) - set(item)
        if missing:
            raise ValueError(f"calibration_data: an item lacks input(s) {sorted(missing)}")
        for n in names:
            parts[n].append(np.ascontiguousarray(item[n], dtype=np.float32))
    if not parts[names[0]]:
        raise ValueError("calibration_data holds no samples")
    return [np.concatenate(parts[n]) for n in names]


def serve(engine, block=True, **options):
    """Serves an Engine (or plan path) through Triton via PyTriton (pip install 'trtcore[serve]'); see
    trtcore.serving.Server for the options (host, http_port, grpc_port, metrics_port, instances, ...)."""
    from .serving import serve as _serve

    return _serve(engine, block=block, **options)
