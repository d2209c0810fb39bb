"""Serving overhead, measured: batch-1 requests from 1 and 8 concurrent clients to `trtcore serve` (Triton embedded by
PyTriton, dynamic batching up to the plan's max batch) over HTTP and gRPC, next to calling Engine.infer directly from
1 and 8 threads (8 threads: one execution context each). Per configuration: p50/p99 latency of a request as the
client sees it, requests/s over the whole run, and for the server how many requests each engine call combined.
Everything runs on this machine: the server binds 127.0.0.1, client loops are bounded by --requests.

    python bench/serving_load.py                                   # MobileNetV2-style 64x64 on the cpu backend
    python bench/serving_load.py --model resnet50 --backend cuda --precision fp16 --max-batch 32 \
        --clients 1 8 32 --instances 2 --max-queue-delay-us 100 --seconds 4 --name serving_load_resnet50
(the second is bench/run_all_gpu.sh's `serving` step, through bench/serving_gpu.sh)
"""
import csv
import json
import os
import sys
import threading
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(REPO, "tests"))

import common  # noqa: E402

COLUMNS = ["path", "protocol", "clients", "requests", "p50_ms", "p99_ms", "mean_ms", "req_per_s",
           "requests_per_engine_call"]


def make_plan(args, work):
    import onnx
    import trtcore
    import models

    if args.model == "resnet50":
        model, size = models.light_model("resnet50", seed=0, expose_logits=False), 224
    else:
        model, size = models.mobilenet_v2(size=args.size), args.size
    onnx_path = os.path.join(work, "%s.onnx" % args.model)
    onnx.save(model, onnx_path)
    plan = os.path.join(work, "%s-%s-%s-b%d.plan" % (args.model, args.backend, args.precision, args.max_batch))
    trtcore.build(onnx_path, batch=args.max_batch, backend=args.backend, precision=args.precision).save(plan)
    return plan, size


def percentiles(lat_s, wall_s):
    ms = np.asarray(lat_s) * 1e3
    return dict(requests=len(ms), p50_ms=float(np.percentile(ms, 50)), p99_ms=float(np.percentile(ms, 99)),
                mean_ms=float(ms.mean()), req_per_s=len(ms) / wall_s)


def run_clients(clients, requests, warmup, make_call, on_start=None, seconds=None):
    """`clients` threads, each with its own call from make_call(client index): warmup untimed calls, then
    requests // clients timed ones (on_start() runs just before them), each client stopping early once `seconds`
    have passed. Returns every latency and the wall time of the timed part."""
    per_client = max(1, requests // clients)
    deadline = [float("inf")]
    lat, errors = [[] for _ in range(clients)], []
    ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)

    def work(c):
        try:
            call = make_call(c)
            for _ in range(warmup):
                call()
            ready.wait()
            go.wait()
            for _ in range(per_client):
                t = time.perf_counter()
                if t > deadline[0]:
                    break
                call()
                lat[c].append(time.perf_counter() - t)
        except Exception as e:  # the run fails below, naming the error
            errors.append(e)
            ready.abort()
            go.abort()

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    try:
        ready.wait()
        if on_start:
            on_start()
        t0 = time.perf_counter()
        if seconds:
            deadline[0] = t0 + seconds
        go.wait()
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("client failed: %r" % errors[0])
    return [x for l in lat for x in l], time.perf_counter() - t0


class Config:
    """One measured path: its row labels, a factory of per-client calls and, for the server, its batching stats.
    Latencies and wall time add up over the rounds."""

    def __init__(self, path, protocol, clients, make_call, stats=None):
        self.path, self.protocol, self.clients, self.make_call, self.stats = path, protocol, clients, make_call, stats
        self.lat, self.wall, self.requests, self.calls = [], 0.0, 0, 0

    def run(self, args):
        before = {}
        on_start = (lambda: before.update(self.stats.as_dict())) if self.stats else None
        lat, wall = run_clients(self.clients, args.requests // args.rounds, args.warmup, self.make_call, on_start,
                                args.seconds / args.rounds if args.seconds else None)
        self.lat += lat
        self.wall += wall
        if self.stats:
            after = self.stats.as_dict()
            self.requests += after["requests"] - before["requests"]
            self.calls += after["calls"] - before["calls"]

    def row(self):
        per_call = self.requests / self.calls if self.calls else 1.0
        return dict(path=self.path, protocol=self.protocol, clients=self.clients,
                    **percentiles(self.lat, self.wall), requests_per_engine_call=per_call)


def direct_configs(engine, x, args):
    name = engine.inputs[0].name
    out = []
    for clients in args.clients:
        runners = [engine] if clients == 1 else [engine.create_context() for _ in range(clients)]
        out.append(Config("Engine.infer" if clients == 1 else "Context.infer (one per thread)", "-", clients,
                          lambda c, rs=runners: (lambda r=rs[c]: r.infer({name: x}))))
    return out


def _client_call(protocol, url, name, x, datatype):
    if protocol == "http":
        import tritonclient.http as client
        c = client.InferenceServerClient(url, connection_timeout=60, network_timeout=60)
    else:
        import tritonclient.grpc as client
        c = client.InferenceServerClient(url)
    i = client.InferInput(name, list(x.shape), datatype)
    i.set_data_from_numpy(x)
    return lambda: c.infer("model", [i])




def start_server(engine, args):
    import tempfile
    from trtcore.serving import Server

    from trtcore.serving import free_ports

    http, grpc, metrics = free_ports(3)
    # a short workspace path: PyTriton's unix sockets live there and their paths must fit 107 bytes
    home = tempfile.TemporaryDirectory(prefix="pt")
    server = Server(engine, http_port=http, grpc_port=grpc, metrics_port=metrics, instances=args.instances,
                    max_queue_delay_us=args.max_queue_delay_us, workspace=os.path.join(home.name, "ws"))
    server.home = home  # removed with the server object
    return server.start()


def server_configs(server, engine, x, args):
    name, datatype = server.spec.inputs[0].name, server.spec.inputs[0].triton_dtype
    out = []
    for protocol in args.protocols:
        url = server.http_url if protocol == "http" else server.grpc_url
        for clients in args.clients:
            out.append(Config("trtcore serve", protocol, clients,
                              lambda c, p=protocol, u=url: _client_call(p, u, name, x, datatype), server.stats))
    return out


def markdown(rows):
    head = "| path | protocol | clients | requests | p50 ms | p99 ms | mean ms | req/s | requests per engine call |"
    out = [head, "|" + "---|" * 9]
    for r in rows:
        out.append("| %s | %s | %d | %d | %.2f | %.2f | %.2f | %.0f | %.2f |" % (
            r["path"], r["protocol"], r["clients"], r["requests"], r["p50_ms"], r["p99_ms"], r["mean_ms"],
            r["req_per_s"], r["requests_per_engine_call"]))
    return "\n".join(out)


def main():
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mobilenet_v2", "resnet50"], default="mobilenet_v2")
    p.add_argument("--size", type=int, default=64, help="mobilenet_v2 input resolution")
    p.add_argument("--backend", default="cpu")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--max-batch", type=int, default=8, help="the plan's maximum batch (the batcher's limit)")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    p.add_argument("--requests", type=int, default=1200, help="timed requests per configuration (all clients)")
    p.add_argument("--seconds", type=float, help="cap on the timed part of each configuration (all rounds)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds the requests are split over")
    p.add_argument("--protocols", nargs="+", default=["http", "grpc"], choices=["http", "grpc"])
    p.add_argument("--instances", type=int, default=1)
    p.add_argument("--max-queue-delay-us", type=int, default=0)
    args = p.parse_args()
    if args.small:
        args.requests, args.size = min(args.requests, 40), min(args.size, 32)
    args.warmup = 5 if args.warmup is None else args.warmup
    load = os.getloadavg()[0]
    rdir = common.result_dir(args, "serving_load")
    work = common.work_dir(args, rdir)
    import trtcore

    plan, size = make_plan(args, work)
    engine = trtcore.Engine(plan)
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(engine.inputs[0].dtype)
    from trtcore.serving import numpy_mismatch

    skipped = numpy_mismatch()
    try:
        import pytriton  # noqa: F401
    except ImportError as e:
        skipped = "PyTriton not installed (%s)" % e
    server = None if skipped else start_server(engine, args)
    try:
        configs = direct_configs(engine, x, args) + (server_configs(server, engine, x, args) if server else [])
        for r in range(args.rounds):  # interleaved, so load from other work falls on every path alike
            for cfg in configs:
                cfg.run(args)
                common.log("round %d/%d: %s %s, %d clients done" % (r + 1, args.rounds, cfg.path, cfg.protocol,
                                                                    cfg.clients))
    finally:
        if server:
            server.stop()
    rows = [cfg.row() for cfg in configs]
    for row in rows:
        common.log("%s %s, %d clients: p50 %.2f ms, p99 %.2f ms, %.0f req/s, %.2f requests per engine call" % (
            row["path"], row["protocol"], row["clients"], row["p50_ms"], row["p99_ms"], row["req_per_s"],
            row["requests_per_engine_call"]))
    with open(os.path.join(rdir, "results.json"), "w") as f:
        json.dump(dict(rows=rows, plan=os.path.basename(plan), engine_device=engine.device, max_batch=args.max_batch,
                       instances=args.instances, max_queue_delay_us=args.max_queue_delay_us, server_skipped=skipped),
                  f, indent=1)
    with open(os.path.join(rdir, "serving_load.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    cmd = "serving_load.py" + "".join(" %s" % a for a in sys.argv[1:] if a != "--small")
    notes = common.header_notes(args, cmd, "random (seeded); only speed is measured")
    notes += ["- Load average (1 min) at the start: %.2f on %d cores (shared with other work; figures vary run to run)"
              % (load, os.cpu_count()),
              "- Model: %s at %dx%d, plan built for batch %d on the %s backend (%s); engine device: %s" % (
                  args.model, size, size, args.max_batch, args.backend, args.precision, engine.device),
              "- Requests: batch 1, at most %d timed per configuration%s in %d interleaved rounds (each after %d "
              "warm-up calls per client); latency = one request as the client sees it (client serialization, "
              "transport, queue, engine, response); req/s = timed requests / timed wall time" % (
                  args.requests, ", cut off after %g s" % args.seconds if args.seconds else "", args.rounds,
                  args.warmup),
              "- Server: `trtcore serve`, %d instance(s), max queue delay %d us; clients are threads of the same "
              "Python process (tritonclient, one connection each), which also runs the instances' engine calls, "
              "as PyTriton does" % (args.instances, args.max_queue_delay_us),
              "- Direct: Engine.infer from one thread; with more clients, one thread each with its own "
              "Engine.create_context()"]
    if skipped:
        notes.append("- Server rows skipped: %s" % skipped)
    md = ["# Serving load: trtcore serve vs Engine.infer", ""] + notes + ["", markdown(rows), ""]
    with open(os.path.join(rdir, "README.md"), "w") as f:
        f.write("\n".join(md))
    common.log("results in %s" % rdir)


if __name__ == "__main__":
    main()
