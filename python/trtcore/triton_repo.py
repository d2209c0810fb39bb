"""`trtcore export-triton`: writes a plan as a standard Triton Inference Server model repository (config.pbtxt,
a Python-backend model.py that runs the plan with trtcore, the plan), plus what serving.py shares with it: the
plan's inputs and outputs as Triton sees them, and how to start the tritonserver binary that PyTriton bundles.

    repo/<model>/config.pbtxt
    repo/<model>/1/model.py
    repo/<model>/1/model.plan
"""
import os
import re
import shutil
import sys
import sysconfig

# trtcore dtype name -> Triton data type (config.pbtxt's TYPE_* without the prefix is the wire name)
TRITON_DTYPES = {"float32": "FP32", "float16": "FP16", "float64": "FP64", "int8": "INT8", "uint8": "UINT8",
                 "int32": "INT32", "int64": "INT64", "bool": "BOOL"}
PLAN_FILE = "model.plan"


class TensorSpec:
    """One input or output as Triton declares it: dims without the batch axis when the model batches."""

    def __init__(self, name, dtype, dims):
        self.name, self.dtype, self.dims = name, dtype, tuple(int(d) for d in dims)

    @property
    def triton_dtype(self):
        """The Triton TYPE_* name of the dtype."""
        return TRITON_DTYPES[self.dtype]

    def __repr__(self):
        return "TensorSpec(%r, %s, %s)" % (self.name, self.dtype, list(self.dims))


class ModelSpec:
    """A plan's interface for Triton. max_batch is the plan's maximum batch when every input and output has a
    batch axis (Triton then prepends it and batches requests); 0 otherwise (full shapes, no batching)."""

    def __init__(self, inputs, outputs, max_batch):
        self.inputs, self.outputs, self.max_batch = inputs, outputs, max_batch

    @classmethod
    def of(cls, engine):
        infos = list(engine.inputs) + list(engine.outputs)
        for t in infos:
            if t.dtype not in TRITON_DTYPES:
                raise ValueError("tensor '%s' has dtype %s, which Triton serving does not support (supported: %s)"
                                 % (t.name, t.dtype, ", ".join(TRITON_DTYPES)))
        batched = all(t.batched for t in infos)
        cut = 1 if batched else 0
        return cls([TensorSpec(t.name, t.dtype, list(t.shape)[cut:]) for t in engine.inputs],
                   [TensorSpec(t.name, t.dtype, list(t.shape)[cut:]) for t in engine.outputs],
                   int(engine.max_batch) if batched else 0)


def model_name_for(plan_path):
    """The plan's file stem made a valid Triton model name (letters, digits, '.', '_', '-')."""
    stem = os.path.splitext(os.path.basename(str(plan_path)))[0]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "model"


def config_pbtxt(name, spec, instances=1, max_queue_delay_us=0, instance_kind="KIND_CPU", threads=0):
    """config.pbtxt text for the Python backend running the plan."""
    def tensor(t):
        # Triton wants at least one dim: a per-sample scalar is declared [1] and reshaped to []
        dims = "dims: [ %s ]" % ", ".join(str(d) for d in t.dims) if t.dims else "dims: [ 1 ] reshape: { shape: [ ] }"
        return '  { name: "%s", data_type: TYPE_%s, %s }' % (t.name, t.triton_dtype, dims)

    def tensors(specs):
        return ",\n".join(tensor(t) for t in specs)

    lines = ['name: "%s"' % name, 'backend: "python"', "max_batch_size: %d" % spec.max_batch,
             "input [\n%s\n]" % tensors(spec.inputs), "output [\n%s\n]" % tensors(spec.outputs)]
    if spec.max_batch > 0:
        lines.append("dynamic_batching { max_queue_delay_microseconds: %d }" % max_queue_delay_us)
    gpus = " gpus: [ 0 ]" if instance_kind == "KIND_GPU" else ""
    lines.append("instance_group [ { kind: %s, count: %d%s } ]" % (instance_kind, instances, gpus))
    lines.append('parameters { key: "trtcore_threads" value { string_value: "%d" } }' % threads)
    return "\n".join(lines) + "\n"


MODEL_PY = '''"""Triton Python-backend model written by `trtcore export-triton`: runs %(plan)s with trtcore. Each
instance holds its own Engine; the requests Triton's dynamic batcher combines run as one engine call."""
import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils
import trtcore


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        threads = int(config.get("parameters", {}).get("trtcore_threads", {}).get("string_value", "0"))
        plan = os.path.join(args["model_repository"], args["model_version"], "%(plan)s")
        self.engine = trtcore.Engine(plan, threads=threads)
        self.batched = int(config.get("max_batch_size", 0)) > 0
        self.inputs = {t.name: (np.dtype(t.dtype), tuple(t.shape)[1 if self.batched else 0:])
                       for t in self.engine.inputs}
        self.outputs = [t.name for t in self.engine.outputs]

    def _problem(self, arrays):
        # Triton checks requests against config.pbtxt; this guards the engine call should the two ever differ.
        for name, (dtype, dims) in self.inputs.items():
            a = arrays.get(name)
            if a is None:
                return "missing input '%%s'" %% name
            if a.dtype != dtype or tuple(a.shape)[1 if self.batched else 0:] != dims:
                return "input '%%s': expected %%s of shape %%s, got %%s %%s" %% (
                    name, dtype, ["batch"] + list(dims) if self.batched else list(dims), a.dtype, list(a.shape))
        return None

    def execute(self, requests):
        responses = [None] * len(requests)
        good, parts = [], []
        for i, request in enumerate(requests):
            arrays = {}
            for name in self.inputs:
                t = pb_utils.get_input_tensor_by_name(request, name)
                if t is not None:
                    arrays[name] = t.as_numpy()
            problem = self._problem(arrays)
            if problem:
                responses[i] = pb_utils.InferenceResponse(error=pb_utils.TritonError(problem))
            else:
                good.append(i)
                parts.append(arrays)
        if not good:
            return responses
        if not self.batched:
            runs = [(i, self.engine.infer(p)) for i, p in zip(good, parts)]
        else:
            feeds = {n: np.concatenate([p[n] for p in parts]) if len(parts) > 1 else parts[0][n]
                     for n in self.inputs}
            out = self.engine.infer(feeds)
            rows = np.cumsum([0] + [len(next(iter(p.values()))) for p in parts])
            runs = [(i, {n: out[n][rows[k]:rows[k + 1]] for n in self.outputs}) for k, i in enumerate(good)]
        for i, out in runs:
            responses[i] = pb_utils.InferenceResponse(
                output_tensors=[pb_utils.Tensor(n, np.ascontiguousarray(out[n])) for n in self.outputs])
        return responses
'''


def export(plan_path, repository, model_name=None, instances=1, max_queue_delay_us=0, threads=0, engine=None):
    """Writes <repository>/<model_name>/ (config.pbtxt, 1/model.py, 1/model.plan) for the plan; returns that
    folder. engine: the plan already loaded (its inputs/outputs are read from it)."""
    import trtcore

    plan_path = str(plan_path)
    if not os.path.isfile(plan_path):
        raise FileNotFoundError("plan %s does not exist" % plan_path)
    if instances < 1:
        raise ValueError("instances must be at least 1, got %d" % instances)
    if max_queue_delay_us < 0:
        raise ValueError("max_queue_delay_us %d: a delay cannot be negative" % max_queue_delay_us)
    if engine is None:
        if trtcore._looks_like_onnx(plan_path):
            raise ValueError("%s is an ONNX model, not a plan: build one first with `trtcore build --onnx %s --plan "
                             "m.plan` and export m.plan" % (plan_path, plan_path))
    engine = engine or trtcore.Engine(plan_path)
    spec = ModelSpec.of(engine)
    name = model_name or model_name_for(plan_path)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError("model name '%s' may only hold letters, digits, '.', '_' and '-'" % name)
    kind = "KIND_CPU" if engine.backend == "cpu" else "KIND_GPU"
    model_dir = os.path.join(str(repository), name)
    os.makedirs(os.path.join(model_dir, "1"), exist_ok=True)
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(config_pbtxt(name, spec, instances, max_queue_delay_us, kind, threads))
    with open(os.path.join(model_dir, "1", "model.py"), "w") as f:
        f.write(MODEL_PY % {"plan": PLAN_FILE})
    shutil.copyfile(plan_path, os.path.join(model_dir, "1", PLAN_FILE))
    return model_dir


# ----------------------------------------------------------------------------------------------- bundled server

def interpreter_libdir():
    """The running interpreter's libpython folder, which must come first on the library path: the Python-backend
    stub links libpython3.x and would otherwise load the system's copy, whose ABI may differ from this stdlib's."""
    return sysconfig.get_config_var("LIBDIR") or ""


def bundled_tritonserver(backend_dir):
    """(tritonserver path, environment) for the server inside the PyTriton wheel. Fills backend_dir with the
    Python backend and this interpreter's stub, as --backend-directory wants them."""
    try:
        import pytriton
    except ImportError as e:
        raise ImportError("the bundled tritonserver comes with PyTriton: pip install 'trtcore[serve]'") from e
    root = os.path.join(os.path.dirname(pytriton.__file__), "tritonserver")
    server = os.path.join(root, "bin", "tritonserver")
    stub = os.path.join(root, "python_backend_stubs", "%d.%d" % sys.version_info[:2], "triton_python_backend_stub")
    if not os.path.isfile(stub):
        raise FileNotFoundError("PyTriton has no Python-backend stub for Python %d.%d (%s)"
                                % (sys.version_info[:2] + (stub,)))
    dest = os.path.join(str(backend_dir), "python")
    os.makedirs(dest, exist_ok=True)
    for f in os.listdir(os.path.join(root, "backends", "python")):
        src = os.path.join(root, "backends", "python", f)
        if os.path.isfile(src):
            shutil.copy2(src, dest)
    shutil.copy2(stub, dest)
    libs = os.path.join(os.path.dirname(os.path.dirname(pytriton.__file__)), "nvidia_pytriton.libs")
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (interpreter_libdir(), libs, env.get("LD_LIBRARY_PATH"))
                                             if p)
    # the stub's embedded Python finds this environment's packages (numpy, trtcore) through the interpreter on PATH
    env["PATH"] = os.pathsep.join(p for p in (os.path.dirname(os.path.normpath(sys.executable)), env.get("PATH")) if p)
    return server, env


def add_cli(sub):
    """Adds `trtcore export-triton` to the `trtcore` command's subparsers."""
    p = sub.add_parser("export-triton", help="write a plan as a Triton Inference Server model repository",
                       description="Writes REPOSITORY/<model>/config.pbtxt (max_batch_size, dynamic_batching, "
                                   "instance_group, inputs/outputs), 1/model.py (Python backend running the plan "
                                   "with trtcore) and 1/model.plan. The server's Python needs trtcore installed.")
    p.add_argument("--plan", required=True, help="the engine plan")
    p.add_argument("--repository", required=True, help="model repository folder (created if missing)")
    p.add_argument("--model-name", help="model name (default: the plan's file stem)")
    p.add_argument("--instances", type=int, default=1, help="model instances, each with its own engine")
    p.add_argument("--max-queue-delay-us", type=int, default=0,
                   help="how long the dynamic batcher may hold a request to combine it with others")
    p.add_argument("--threads", type=int, default=0, help="cpu backend threads per instance (0: default)")
    p.add_argument("--backend-directory", metavar="DIR",
                   help="also fill DIR with the Python backend of the tritonserver inside the PyTriton wheel and "
                        "print the command that starts that server on the repository (needs trtcore[serve])")
    p.set_defaults(func=_cli)


def server_command(repository, backend_dir, host="127.0.0.1", http_port=8000, grpc_port=8001, metrics_port=8002):
    """The shell command that starts the PyTriton wheel's tritonserver on `repository` (fills backend_dir)."""
    import shlex

    server, env = bundled_tritonserver(backend_dir)
    env_part = " ".join("%s=%s" % (k, shlex.quote(env[k])) for k in ("LD_LIBRARY_PATH", "PATH"))
    args = ["--model-repository=%s" % os.path.abspath(repository),
            "--backend-directory=%s" % os.path.abspath(backend_dir)]
    for what, port in (("http", http_port), ("grpc", grpc_port), ("metrics", metrics_port)):
        args += ["--%s-address=%s" % (what, host), "--%s-port=%d" % (what, port)]
    return "env %s %s %s" % (env_part, shlex.quote(server), " ".join(shlex.quote(a) for a in args))


def _cli(args):
    import trtcore

    try:
        d = export(args.plan, args.repository, args.model_name, args.instances, args.max_queue_delay_us,
                   args.threads)
    except (trtcore.Error, ValueError, OSError) as e:
        sys.stderr.write("trtcore export-triton: error: %s\n" % e)
        return 1
    print("wrote %s (config.pbtxt, 1/model.py, 1/%s)" % (d, PLAN_FILE))
    if args.backend_directory:
        try:
            command = server_command(args.repository, args.backend_directory)
        except (ImportError, OSError) as e:
            sys.stderr.write("trtcore export-triton: error: %s\n" % e)
            return 1
        print("start Triton on it (HTTP 127.0.0.1:8000, gRPC :8001, metrics :8002) with:\n  " + command)
    return 0
