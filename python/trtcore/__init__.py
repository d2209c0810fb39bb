"""trtcore: ONNX → optimized inference engine, with honest timings.

    import trtcore
    engine = trtcore.build("model.onnx", batch=8)          # import → optimize → build (cuda if available, else cpu)
    outputs = engine.infer(x)                              # dict: output name → numpy array
    stats = engine.benchmark(batch=8, iterations=100)
    engine.save("model.plan"); engine = trtcore.Engine("model.plan")
    ctx = engine.create_context()                          # one per thread for concurrent runs
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


def build(onnx_path, **options):
    """Builds an Engine from an ONNX file. Options: batch, shapes, backend, precision, strict_fp32,
    disabled_passes, timing_cache, threads, cuda_graph, io_half, workspace_mib (see Engine.build)."""
    return Engine.build(str(onnx_path), **options)
