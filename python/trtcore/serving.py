"""`trtcore serve` / trtcore.serve(): serves an Engine through Triton Inference Server embedded by PyTriton
(pip install 'trtcore[serve]'; imported only here, when a server starts).

    server = trtcore.serve("m.plan", http_port=8000, instances=2, block=False)   # or trtcore.serve(engine, ...)
    ...                                                                           # HTTP/gRPC clients, /metrics
    server.stop()

Inputs and outputs come from the plan; Triton's dynamic batcher combines requests up to the plan's maximum batch.
Triton checks every request against the declared dtypes and shapes (and the maximum batch) before it is queued, so a
bad request gets a 400 naming the input while the requests batched around it run; the engine only sees valid ones.
"""
import contextlib
import os
import re
import sys
import threading

import numpy as np

from .triton_repo import ModelSpec, interpreter_libdir

_PYTRITON_HINT = ("trtcore serve needs PyTriton: pip install 'trtcore[serve]' (nvidia-pytriton 0.7 with numpy<2; "
                  "x86_64 Linux with glibc >= 2.35); in a checkout, `bash scripts/setup_serving.sh` makes .venv/serve "
                  "and `.venv/serve/bin/python -m trtcore serve ...` runs it")
_STOP_TIMEOUT_S = 30  # how long `trtcore serve` waits for Triton to stop after Ctrl-C

_PORT_OPTIONS = (("HTTP", "http_port", "--http-port"), ("gRPC", "grpc_port", "--grpc-port"),
                 ("metrics", "metrics_port", "--metrics-port"))


def free_ports(n):
    """`n` TCP ports free on 127.0.0.1 right now (for servers started next: tests and the load benchmark)."""
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def check_ports(host, ports):
    """Raises ValueError naming the option when a port is out of range, used twice, or already taken on `host`
    (tritonserver would otherwise fail after start-up with a long log, or talk to whatever holds the port).
    `ports` maps an option's name (e.g. --http-port) to its port."""
    import socket

    seen = {}
    for option, port in ports.items():
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError("%s %r: expected a TCP port from 1 to 65535" % (option, port))
        if port in seen:
            raise ValueError("%s and %s are both %d: each endpoint needs its own port" % (seen[port], option, port))
        seen[port] = option
    if ":" in host:
        raise ValueError("--host %s: IPv6 addresses are not supported by the embedded server; use an IPv4 address "
                         "such as 127.0.0.1 or 0.0.0.0" % host)
    try:
        socket.getaddrinfo(host, None, socket.AF_INET)
    except OSError as e:
        raise ValueError("--host %s: not an address of this machine (%s)" % (host, e.strerror)) from None
    taken = []
    for option, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # as the server binds: connections of a stopped server lingering in TIME_WAIT do not hold the port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError as e:
                if e.errno != 98:  # EADDRINUSE; anything else is about the host
                    raise ValueError("--host %s: cannot listen there (%s)" % (host, e.strerror)) from None
                taken.append("%s %d" % (option, port))
    if taken:
        raise ValueError("already in use on %s: %s; choose other ports with those options"
                         % (host, ", ".join(taken)))


def numpy_mismatch():
    """Why the installed PyTriton cannot serve with this numpy, or "" when it can: its Python-backend stub reads
    numpy arrays with numpy 1.x's layout (its requirement numpy<2 says so), and under numpy 2 every request fails
    with "output tensor shape does not match size of output"."""
    from importlib import metadata

    try:
        requires = metadata.requires("nvidia-pytriton") or []
    except metadata.PackageNotFoundError:
        return ""
    capped = any(r.replace(" ", "").startswith("numpy") and "<2" in r.replace(" ", "") for r in requires)
    if capped and int(np.__version__.split(".")[0]) >= 2:
        return ("nvidia-pytriton %s requires numpy<2 (its Python-backend stub reads numpy 1.x arrays), but this "
                "environment has numpy %s: install trtcore[serve] into an environment with numpy<2"
                % (metadata.version("nvidia-pytriton"), np.__version__))
    return ""


def _pytriton():
    try:
        from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
        from pytriton.triton import Triton, TritonConfig
    except ImportError as e:
        raise ImportError(_PYTRITON_HINT + " (%s)" % e) from e
    mismatch = numpy_mismatch()
    if mismatch:
        raise RuntimeError(mismatch)
    return dict(DynamicBatcher=DynamicBatcher, ModelConfig=ModelConfig, Tensor=Tensor, Triton=Triton,
                TritonConfig=TritonConfig)


@contextlib.contextmanager
def _interpreter_libpython_first():
    """LD_LIBRARY_PATH with this interpreter's libpython folder first while PyTriton starts tritonserver (which
    copies the environment): the Python-backend stub otherwise may load the system's libpython of another ABI."""
    old = os.environ.get("LD_LIBRARY_PATH")
    libdir = interpreter_libdir()
    if libdir:
        os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libdir, old) if p)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = old


class BatchStats:
    """What the instances ran: engine calls, requests and rows, and how many calls combined n requests."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls = self.requests = self.rows = 0
        self.requests_per_call = {}

    def add(self, requests, rows):
        """Records one engine call that ran `requests` requests of `rows` rows in all."""
        with self._lock:
            self.calls += 1
            self.requests += requests
            self.rows += rows
            self.requests_per_call[requests] = self.requests_per_call.get(requests, 0) + 1

    def as_dict(self):
        """The counts so far: calls, requests, rows and calls per number of requests."""
        with self._lock:
            return dict(calls=self.calls, requests=self.requests, rows=self.rows,
                        requests_per_call=dict(sorted(self.requests_per_call.items())))


def _instance_callable(runner, spec, stats):
    """The PyTriton callable of one instance: the requests Triton combined run as one call of runner.infer."""
    in_names = [t.name for t in spec.inputs]
    out_names = [t.name for t in spec.outputs]

    def infer(requests):
        if spec.max_batch == 0:
            results = [runner.infer({n: r[n] for n in in_names}) for r in requests]
            stats.add(len(requests), len(requests))
            return [{n: out[n] for n in out_names} for out in results]
        if len(requests) == 1:
            feeds = {n: requests[0][n] for n in in_names}
        else:
            feeds = {n: np.concatenate([r[n] for r in requests]) for n in in_names}
        out = runner.infer(feeds)
        rows = np.cumsum([0] + [len(r[in_names[0]]) for r in requests])
        stats.add(len(requests), int(rows[-1]))
        return [{n: out[n][rows[i]:rows[i + 1]] for n in out_names} for i in range(len(requests))]

    return infer


class Server:
    """A Triton server (PyTriton) serving one engine as model `model_name`; start() returns once it is ready."""

    def __init__(self, engine, model_name="model", host="127.0.0.1", http_port=8000, grpc_port=8001,
                 metrics_port=8002, instances=1, max_queue_delay_us=0, threads=0, workspace=None):
        import trtcore

        if instances < 1:
            raise ValueError("--instances %d: at least 1 execution context is needed" % instances)
        if max_queue_delay_us < 0:
            raise ValueError("--max-queue-delay-us %d: a delay cannot be negative" % max_queue_delay_us)
        if not re.fullmatch(r"[A-Za-z0-9._-]+", model_name or ""):
            raise ValueError("--model-name %r: letters, digits, '.', '_' and '-' only" % model_name)
        if not isinstance(engine, trtcore.Engine) and trtcore._looks_like_onnx(str(engine)):
            raise ValueError("%s is an ONNX model, not a plan: build one first with `trtcore build --onnx %s --plan "
                             "m.plan` (trtcore.build in Python) and serve m.plan" % (engine, engine))
        self.engine = engine if isinstance(engine, trtcore.Engine) else trtcore.Engine(str(engine), threads=threads)
        self.spec = ModelSpec.of(self.engine)
        self.model_name, self.host, self.instances = model_name, host, instances
        self.http_port, self.grpc_port, self.metrics_port = http_port, grpc_port, metrics_port
        self.max_queue_delay_us, self.workspace = max_queue_delay_us, workspace
        self.stats = BatchStats()
        self._triton = None

    @property
    def http_url(self):
        """host:port of the HTTP endpoint."""
        return "%s:%d" % (self.host, self.http_port)

    @property
    def grpc_url(self):
        """host:port of the gRPC endpoint."""
        return "%s:%d" % (self.host, self.grpc_port)

    @property
    def metrics_url(self):
        """The URL of the Prometheus metrics."""
        return "http://%s:%d/metrics" % (self.host, self.metrics_port)

    def start(self):
        """Starts Triton with the model bound; returns self."""
        check_ports(self.host, {opt: getattr(self, attr) for _, attr, opt in _PORT_OPTIONS})
        pt = _pytriton()
        cfg = pt["TritonConfig"](http_address=self.host, http_port=self.http_port, grpc_address=self.host,
                                 grpc_port=self.grpc_port, metrics_address=self.host, metrics_port=self.metrics_port,
                                 allow_gpu_metrics=self.engine.backend != "cpu", exit_timeout_secs=5)
        batching = self.spec.max_batch > 0
        batcher = pt["DynamicBatcher"](max_queue_delay_microseconds=self.max_queue_delay_us)
        model_cfg = pt["ModelConfig"](batching=batching, max_batch_size=self.spec.max_batch if batching else 0,
                                      batcher=batcher)
        tensor = pt["Tensor"]
        inputs = [tensor(name=t.name, dtype=np.dtype(t.dtype), shape=t.dims) for t in self.spec.inputs]
        outputs = [tensor(name=t.name, dtype=np.dtype(t.dtype), shape=t.dims) for t in self.spec.outputs]
        # one execution context per instance: own activations and stream, weights shared with the engine
        callables = [_instance_callable(self.engine.create_context(), self.spec, self.stats)
                     for _ in range(self.instances)]
        with _interpreter_libpython_first():
            try:
                self._triton = pt["Triton"](config=cfg, workspace=self.workspace)
                self._triton.bind(model_name=self.model_name, infer_func=callables, inputs=inputs, outputs=outputs,
                                  config=model_cfg, strict=True)
                self._triton.run()
            except BaseException as e:
                self.stop()
                if type(e).__module__.startswith("pytriton"):  # PyTriton's own errors carry no traceback worth showing
                    raise RuntimeError("Triton did not start: %s: %s" % (type(e).__name__, e)) from e
                raise
        return self

    def wait(self, stop_timeout=None):
        """Blocks while the server runs (Ctrl-C stops it). With stop_timeout (seconds), the stop runs on a thread
        given that long; returns whether the server stopped."""
        try:
            self._triton.serve()
        except KeyboardInterrupt:
            pass
        except BaseException:
            self.stop()
            raise
        if stop_timeout is None:
            self.stop()
            return True
        stopper = threading.Thread(target=self.stop, name="trtcore-serve-stop", daemon=True)
        stopper.start()
        stopper.join(stop_timeout)
        return not stopper.is_alive()

    def stop(self):
        """Stops the server (nothing when it is not running)."""
        if self._triton is not None:
            self._triton.stop()
            self._triton = None

    def __enter__(self):
        return self.start() if self._triton is None else self

    def __exit__(self, *exc):
        self.stop()


def serve(engine, block=True, **options):
    """Serves `engine` (an Engine or a plan path) through Triton; see Server for the options. block=True runs until
    Ctrl-C; block=False returns the started Server (stop() it)."""
    server = Server(engine, **options).start()
    if block:
        server.wait()
    return server


def add_cli(sub):
    """Adds `trtcore serve` to the `trtcore` command's subparsers."""
    import argparse

    p = sub.add_parser("serve", help="serve a plan through Triton Inference Server (PyTriton)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Serves the plan over HTTP and gRPC (KServe v2 protocol) with Prometheus metrics, "
                                   "dynamic batching up to the plan's maximum batch. Needs pip install "
                                   "'trtcore[serve]' (in a checkout: bash scripts/setup_serving.sh, then "
                                   ".venv/serve/bin/python -m trtcore serve ...). Requests pass through as sent: a "
                                   "NaN in an input gives NaN outputs for that request only. Stop with Ctrl-C.")
    p.add_argument("--plan", required=True, default=argparse.SUPPRESS, help="the engine plan")
    p.add_argument("--model-name", default="model", help="name clients address")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 for every interface)")
    p.add_argument("--http-port", type=int, default=8000, help="KServe v2 HTTP endpoint")
    p.add_argument("--grpc-port", type=int, default=8001, help="KServe v2 gRPC endpoint")
    p.add_argument("--metrics-port", type=int, default=8002, help="Prometheus metrics at /metrics")
    p.add_argument("--instances", type=int, default=1, help="execution contexts serving requests concurrently")
    p.add_argument("--max-queue-delay-us", type=int, default=0,
                   help="how long the dynamic batcher may hold a request to combine it with others")
    p.add_argument("--threads", type=int, default=0, help="cpu backend threads, 0 for the backend's default")
    p.set_defaults(func=_cli)


def _cli(args):
    import logging

    import trtcore

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        server = Server(args.plan, model_name=args.model_name, host=args.host, http_port=args.http_port,
                        grpc_port=args.grpc_port, metrics_port=args.metrics_port, instances=args.instances,
                        max_queue_delay_us=args.max_queue_delay_us, threads=args.threads).start()
    except (trtcore.Error, ImportError, RuntimeError, ValueError, OSError) as e:
        sys.stderr.write("trtcore serve: error: %s\n" % e)
        return 1
    s = server.spec
    print("serving %s as model '%s' (max batch %d, %d instance%s): HTTP %s, gRPC %s, metrics %s" % (
        args.plan, args.model_name, s.max_batch, args.instances, "" if args.instances == 1 else "s",
        server.http_url, server.grpc_url, server.metrics_url), flush=True)
    # Ctrl-C must end the command: Triton's stop is given a bounded time, and the process then exits at once, as
    # the other commands do when interrupted (threads left behind by Triton's clients cannot hold it)
    stopped = server.wait(stop_timeout=_STOP_TIMEOUT_S)
    sys.stdout.flush()
    if not stopped:
        sys.stderr.write("trtcore serve: Triton did not stop within %d s; exiting anyway\n" % _STOP_TIMEOUT_S)
        sys.stderr.flush()
        os._exit(1)
    sys.stderr.flush()
    os._exit(0)
