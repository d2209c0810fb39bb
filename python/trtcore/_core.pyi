"""Type stubs for the compiled module trtcore._core (a thin pybind11 layer over cpp/include/trtcore)."""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

__version__: str

class Error(Exception):
    """Every user error (bad file, unsupported op, wrong shape, corrupt plan). `kind` is one of
    'invalid argument', 'unsupported', 'I/O error', 'corrupt input', 'runtime error'. Raised as the subclasses of
    trtcore.errors (InputError, UnsupportedError, IoError, MissingFileError, ModelError, PlanError, BackendError)."""
    kind: str

class TensorInfo:
    name: str
    shape: List[int]        # at the plan's maximum batch
    dtype: str              # 'float32', ...
    batched: bool           # axis 0 is the batch axis

class TacticTime:
    """One form a build timed for a layer."""
    tactic: str  # the form, as LayerInfo.tactic names it
    ms: float    # per call; negative when not timed or not kept
    note: str    # why not ("refused: ...", "output differs ..."), else ""

class LayerInfo:
    name: str
    op: str                 # e.g. 'Conv+Add+Relu' for a fused layer
    precision: str
    tactic: str
    workspace_bytes: int    # scratch its tactic needs (the engine's workspace is the largest)
    candidates: list[TacticTime]  # forms timed at build, in order; empty when the tactic was reused

class NodeInfo:
    name: str
    op: str                    # the op type ('Conv'); fusions show in attrs and in `label`
    label: str                 # 'Conv+Add+Relu' for a fused node
    inputs: List[str]
    outputs: List[str]
    attrs: Dict[str, object]   # ints, floats, strings, lists; tensors as numpy arrays

class GraphInfo:
    nodes: List[NodeInfo]
    inputs: List[TensorInfo]
    outputs: List[TensorInfo]
    passes: List[Dict[str, object]]  # {'name', 'nodes_before', 'nodes_after', 'skipped'}
    def op_counts(self) -> Dict[str, int]: ...   # by label: {'Conv+Add+Relu': 16, 'Conv+Relu': 33, ...}

class OpSupport:
    node: str
    op: str
    supported: bool
    reason: str

def compiled_backends() -> List[str]: ...
def cpu_isa() -> str: ...
def cuda_available() -> bool: ...
def check_onnx(onnx_path: str) -> List[OpSupport]: ...
def load_graph(onnx_path: str, batch: int = 0, shapes: Optional[Dict[str, Sequence[int]]] = None,
               stop_after: str = "optimize", disabled_passes: Sequence[str] = ()) -> GraphInfo: ...
def pass_names() -> List[str]: ...

class Engine:
    """A built or loaded plan bound to a backend. Safe to call from several threads at once: overlapping calls run
    on separate executables (up to 4, then they wait); a thread that runs often keeps its own create_context(),
    which takes no lock. The GIL is released while running."""
    def __init__(self, plan_path: str, threads: int = 0, cuda_graph: bool = True) -> None: ...
    @staticmethod
    def build(onnx_path: str, batch: int = 0, shapes: Optional[Dict[str, Sequence[int]]] = None,
              backend: str = "auto", precision: str = "fp32", strict_fp32: bool = False,
              disabled_passes: Sequence[str] = (), timing_cache: str = "", threads: int = 0,
              cuda_graph: bool = True, io_half: bool = False, workspace_mib: int = 0, calibration_dir: str = "",
              calibration_cache: str = "", calibrator: str = "entropy", percentile: float = 99.99,
              calibration_batch: int = 0, calibration_batches: int = 0, exclude_layers: Sequence[str] = (),
              calibration_data: Optional[object] = None, int8_fallback: str = "auto",
              int8_bias_correction: str = "off", int8_equalization: str = "off",
              int8_float_layers: int = 0) -> "Engine": ...
    def save(self, plan_path: str) -> None: ...
    @property
    def inputs(self) -> List[TensorInfo]: ...
    @property
    def outputs(self) -> List[TensorInfo]: ...
    @property
    def backend(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def max_batch(self) -> int: ...
    @property
    def device_memory_bytes(self) -> int: ...
    @property
    def memory(self) -> Dict[str, int]: ...     # weights, activations, workspace, total
    @property
    def layers(self) -> List[LayerInfo]: ...
    def graph(self) -> GraphInfo: ...
    def infer(self, inputs: Union[np.ndarray, Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]: ...
    # The results below are the `run --json` schema (see trtcore.timing), written by cpp/runtime/report.cpp.
    def benchmark(self, batch: int = 0, iterations: int = 10, warmup: int = 3) -> Dict[str, object]: ...
    # One dict per layer: name, op, precision, tactic, workspace_bytes, ms.
    def profile(self, batch: int = 0, iterations: int = 10) -> List[Dict[str, object]]: ...
    # samples, batches, outputs_written, batch_ms, throughput, warnings, output_files.
    def run_directory(self, dir: str, output_dir: str = "", batch: int = 0, iterations: int = 1) -> Dict[str, object]: ...
    def describe(self) -> str: ...
    def create_context(self, cuda_graph: bool = True) -> "Context": ...   # own stream/memory/graphs, shared weights

class Context:
    """A further execution context of an Engine (Engine.create_context): its own stream, activation memory,
    workspace, I/O buffers and CUDA graphs, sharing the engine's weights on cuda. Contexts of one engine run
    concurrently from different threads, each one call at a time; a context keeps its engine alive and runs with
    the engine's cpu thread count."""
    def infer(self, inputs: Union[np.ndarray, Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]: ...
    def benchmark(self, batch: int = 0, iterations: int = 10, warmup: int = 3) -> Dict[str, object]: ...
    @property
    def memory(self) -> Dict[str, int]: ...     # weights (not shared ones), activations, workspace, total

def export_onnx(onnx_in: str, onnx_out: str, stop_after: str = "optimize", batch: int = 0, min_opset: int = 0,
                floats: str = "as_graph", batch_dim: str = "fixed", int8_equalization: str = "off") -> None:
    """Imports (and optimizes) onnx_in and writes the resulting graph to onnx_out as ONNX. floats "float16" stores
    float32 tensors as float16 behind float32 inputs/outputs; batch_dim "dynamic" writes axis 0 as "batch"."""
    ...
