"""Serving through Triton: `trtcore serve` (PyTriton, embedded) answers over HTTP and gRPC like Engine.infer, combines
concurrent requests by dynamic batching, rejects bad requests with a 400 naming the input while the requests around
them still run; `trtcore export-triton` writes a model repository that the stock tritonserver (the one inside the
PyTriton wheel) loads and answers from. Servers bind 127.0.0.1 on free ports, request loops are bounded, and every
server is stopped at the end. Answers must equal Engine.infer on the plan and agree with onnxruntime on the model.
Needs nvidia-pytriton and tritonclient[http,grpc] with numpy<2 (skipped without them): scripts/test_serving.sh runs
this file in such an environment, .venv/serve, where a skipped test fails the run."""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import models
from conftest import assert_close, ort_session, run_threads, save_model
from trtcore.serving import free_ports

MAX_BATCH = 8
SIZE = 32
CLIENT_TIMEOUT_S = 60


def _serving_ready():
    """'' when a server can run here, else why not (a skip reason)."""
    for mod in ("pytriton", "tritonclient.http", "tritonclient.grpc"):
        try:
            __import__(mod)
        except ImportError:
            return "%s is not installed (pip install 'trtcore[serve]' tritonclient[http,grpc])" % mod
    from trtcore.serving import numpy_mismatch

    return numpy_mismatch()


def _need_serving():
    reason = _serving_ready()
    if reason:
        pytest.skip(reason)




@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory):
    return save_model(models.mobilenet_v2(size=SIZE), tmp_path_factory.mktemp("serving") / "mnv2.onnx")


@pytest.fixture(scope="module")
def plan(onnx_model):
    import trtcore

    path = os.path.splitext(onnx_model)[0] + ".plan"
    trtcore.build(onnx_model, batch=MAX_BATCH, backend="cpu").save(path)
    return path


@pytest.fixture(scope="module")
def onnxruntime_reference(onnx_model):
    """The model on onnxruntime: what every answer of a server must agree with."""
    session = ort_session(onnx_model)
    lock = threading.Lock()

    def run(x):
        with lock:
            return session.run(["logits"], {"input": x})[0]

    return run


@pytest.fixture
def check(reference, onnxruntime_reference):
    """check(got, x, what): a server's answer to x is Engine.infer's on that plan and onnxruntime's within FP32
    tolerance; exact=False allows the rounding of another batch size (requests combined by the batcher)."""

    def run(got, x, what="output", exact=True):
        if exact:
            np.testing.assert_array_equal(got, reference(x), err_msg=what)
        else:
            assert_close(got, reference(x), tol=1e-5, what=what)
        assert_close(got, onnxruntime_reference(x), what=what + " vs onnxruntime")

    return run


@pytest.fixture(scope="module")
def reference(plan):
    """Engine.infer on the same plan, one call at a time."""
    import trtcore

    engine = trtcore.Engine(plan)
    lock = threading.Lock()

    def run(x):
        with lock:
            return engine.infer({"input": x})["logits"]

    return run


@pytest.fixture(scope="module")
def server(plan, tmp_path_factory):
    _need_serving()
    from trtcore.serving import Server

    for attempt in (1, 2, 3):
        http, grpc, metrics = free_ports(3)
        srv = Server(plan, http_port=http, grpc_port=grpc, metrics_port=metrics, instances=2, max_queue_delay_us=2000,
                     workspace=str(tmp_path_factory.mktemp("pytriton") / "ws"))
        try:
            srv.start()
            break
        except Exception as e:
            # PyTriton's second instance waits only 1 s for the first one's handshake socket: on a busy machine
            # that start-up race fails the load now and then (as a config-file wait or a refused handshake
            # connection); anything else, or a third failure, fails the tests
            race = "waiting for config file" in str(e) or "get_config_from_handshake_server" in str(e)
            if attempt == 3 or not race:
                raise
            sys.stderr.write("PyTriton start-up race, starting the server again: %s\n" % str(e)[:300])
    yield srv
    srv.stop()


def _inputs(rng, batch):
    return rng.standard_normal((batch, 3, SIZE, SIZE)).astype(np.float32)


def _http_infer(url, x, name="input", datatype="FP32"):
    import tritonclient.http as th

    with th.InferenceServerClient(url, connection_timeout=CLIENT_TIMEOUT_S, network_timeout=CLIENT_TIMEOUT_S) as c:
        return c.infer("model", _request_inputs(th, x, name, datatype)).as_numpy("logits")


def _grpc_infer(url, x, name="input", datatype="FP32"):
    import tritonclient.grpc as tg

    with tg.InferenceServerClient(url) as c:
        return c.infer("model", _request_inputs(tg, x, name, datatype), client_timeout=CLIENT_TIMEOUT_S).as_numpy(
            "logits")


def _request_inputs(client_module, x, name, datatype):
    """The request's inputs: none when x is None (a request missing its input)."""
    if x is None:
        return []
    i = client_module.InferInput(name, list(x.shape), datatype)
    i.set_data_from_numpy(x)
    return [i]


def _metric(server_metrics_url, family, model="model"):
    text = urllib.request.urlopen(server_metrics_url, timeout=CLIENT_TIMEOUT_S).read().decode()
    for line in text.splitlines():
        if line.startswith(family + "{") and 'model="%s"' % model in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("metric %s for model %s not in %s" % (family, model, server_metrics_url))


# ----------------------------------------------------------------------------------------------- no server needed

def test_cli_lists_serve_and_export_triton():
    from trtcore import cli

    for cmd in ("serve", "export-triton"):
        with pytest.raises(SystemExit) as e:
            cli.main([cmd, "--help"])
        assert e.value.code == 0


def test_serve_binds_loopback_unless_told(plan):
    from trtcore.serving import Server

    assert Server(plan).host == "127.0.0.1"
    import argparse
    from trtcore import serving

    parser = argparse.ArgumentParser()
    serving.add_cli(parser.add_subparsers())
    assert parser.parse_args(["serve", "--plan", plan]).host == "127.0.0.1"


def test_exported_config_parses_as_triton_model_config(plan, tmp_path):
    """config.pbtxt read by Triton's own protobuf schema (tritonclient's model_config_pb2)."""
    try:
        from google.protobuf import text_format
        from tritonclient.grpc import model_config_pb2
    except ImportError as e:
        pytest.skip("tritonclient[grpc] is not installed (%s)" % e)
    from trtcore.triton_repo import export

    d = export(plan, tmp_path / "repo", model_name="mnv2", instances=3, max_queue_delay_us=250)
    cfg = text_format.Parse(open(os.path.join(d, "config.pbtxt")).read(), model_config_pb2.ModelConfig())
    assert (cfg.name, cfg.backend, cfg.max_batch_size) == ("mnv2", "python", MAX_BATCH)
    assert [(t.name, model_config_pb2.DataType.Name(t.data_type), list(t.dims)) for t in cfg.input] == \
        [("input", "TYPE_FP32", [3, SIZE, SIZE])]
    assert [(t.name, model_config_pb2.DataType.Name(t.data_type), list(t.dims)) for t in cfg.output] == \
        [("logits", "TYPE_FP32", [10])]
    assert cfg.dynamic_batching.max_queue_delay_microseconds == 250
    assert [(model_config_pb2.ModelInstanceGroup.Kind.Name(g.kind), g.count) for g in cfg.instance_group] == \
        [("KIND_CPU", 3)]
    assert os.path.isfile(os.path.join(d, "1", "model.py"))
    assert open(os.path.join(d, "1", "model.plan"), "rb").read() == open(plan, "rb").read()


def test_export_triton_command_writes_the_repository(plan, tmp_path, capsys):
    from trtcore import cli

    assert cli.main(["export-triton", "--plan", plan, "--repository", str(tmp_path / "repo"),
                     "--model-name", "m", "--instances", "2"]) == 0
    assert sorted(os.listdir(tmp_path / "repo" / "m" / "1")) == ["model.plan", "model.py"]
    assert "count: 2" in (tmp_path / "repo" / "m" / "config.pbtxt").read_text()


@pytest.mark.parametrize("cmd", [["serve"], ["export-triton", "--repository", "unused"]])
def test_commands_name_a_missing_plan(cmd, tmp_path, capsys):
    from trtcore import cli

    missing = str(tmp_path / "missing.plan")
    assert cli.main([cmd[0], "--plan", missing] + cmd[1:]) == 1
    assert missing in capsys.readouterr().err


def test_serve_refuses_a_taken_port_naming_the_option(plan, capsys):
    """A port another process listens on is refused before Triton starts (it would otherwise talk to that process)."""
    import socket

    from trtcore import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--plan", plan, "--grpc-port", str(port)]) == 1
    err = capsys.readouterr().err
    assert "--grpc-port %d" % port in err and "in use" in err and "Traceback" not in err


@pytest.mark.parametrize("ports, needle", [(["--http-port", "99999"], "--http-port 99999: expected a TCP port"),
                                           (["--metrics-port", "0"], "--metrics-port 0: expected a TCP port"),
                                           (["--http-port", "9100", "--grpc-port", "9100"], "are both 9100")])
def test_serve_refuses_bad_ports(plan, capsys, ports, needle):
    from trtcore import cli

    assert cli.main(["serve", "--plan", plan] + ports) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize("args, needle", [(["--max-queue-delay-us", "-5"], "--max-queue-delay-us -5"),
                                          (["--instances", "0"], "--instances 0"),
                                          (["--model-name", "bad name/x"], "--model-name 'bad name/x'"),
                                          (["--host", "::1"], "--host ::1"),
                                          (["--host", "no.such.host.invalid"], "--host no.such.host.invalid")])
def test_serve_refuses_bad_options_naming_them(plan, capsys, args, needle):
    from trtcore import cli

    assert cli.main(["serve", "--plan", plan] + args) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_serve_port_check_ignores_lingering_connections(plan):
    """A port whose last server stopped (its connections in TIME_WAIT) is free for the next server: the check binds
    with SO_REUSEADDR as servers do. A socket that closed after accepting a connection leaves such a state."""
    import socket

    from trtcore.serving import check_ports

    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        cli_sock = socket.create_connection(("127.0.0.1", port))
        conn, _ = srv.accept()
        conn.close()  # the server side closes first: its end lingers in TIME_WAIT
        cli_sock.close()
    check_ports("127.0.0.1", {"--http-port": port})


def test_export_refuses_a_negative_queue_delay_and_an_onnx_model(plan, onnx_model, tmp_path):
    from trtcore.triton_repo import export

    with pytest.raises(ValueError, match="cannot be negative"):
        export(plan, tmp_path, max_queue_delay_us=-5)
    with pytest.raises(ValueError, match="trtcore build --onnx"):
        export(onnx_model, tmp_path)


def test_serve_points_an_onnx_model_to_trtcore_build(onnx_model, capsys):
    from trtcore import cli

    assert cli.main(["serve", "--plan", onnx_model]) == 1
    err = capsys.readouterr().err
    assert "not a plan" in err and "trtcore build --onnx %s" % onnx_model in err


def test_serve_help_shows_the_defaults(capsys):
    from trtcore import cli

    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for default in ("default: 8000", "default: 8001", "default: 8002", "default: 127.0.0.1", "default: 1"):
        assert default in out, default


def test_export_rejects_bad_model_name(plan, tmp_path):
    from trtcore.triton_repo import export

    with pytest.raises(ValueError, match="model name 'a/b'"):
        export(plan, tmp_path, model_name="a/b")


# ----------------------------------------------------------------------------------------------- PyTriton server

@pytest.mark.slow
def test_http_and_grpc_results_equal_engine_infer_and_onnxruntime(server, check, rng):
    for batch in (1, 3, MAX_BATCH):
        x = _inputs(rng, batch)
        check(_http_infer(server.http_url, x), x, "HTTP batch %d" % batch)
        check(_grpc_infer(server.grpc_url, x), x, "gRPC batch %d" % batch)


@pytest.mark.slow
def test_concurrent_clients_are_combined_by_dynamic_batching(server, check, rng):
    clients, per_client = 8, 12
    xs = [[_inputs(rng, 1) for _ in range(per_client)] for _ in range(clients)]
    results = [[None] * per_client for _ in range(clients)]
    before = server.stats.as_dict()
    count0 = _metric(server.metrics_url, "nv_inference_count")
    exec0 = _metric(server.metrics_url, "nv_inference_exec_count")

    def client(c):
        infer = _http_infer if c % 2 == 0 else _grpc_infer
        url = server.http_url if c % 2 == 0 else server.grpc_url
        for k in range(per_client):
            results[c][k] = infer(url, xs[c][k])

    run_threads(client, clients, CLIENT_TIMEOUT_S)
    for c in range(clients):
        for k in range(per_client):
            check(results[c][k], xs[c][k], "client %d request %d" % (c, k), exact=False)
    after = server.stats.as_dict()
    requests = after["requests"] - before["requests"]
    calls = after["calls"] - before["calls"]
    assert requests == clients * per_client
    assert calls < requests, "no two requests were combined into one engine call (%d calls)" % calls
    # Triton's own counters agree: fewer executions than inferences
    count = _metric(server.metrics_url, "nv_inference_count") - count0
    execs = _metric(server.metrics_url, "nv_inference_exec_count") - exec0
    assert count == clients * per_client and execs < count


def _expect_400(call, *needles):
    from tritonclient.utils import InferenceServerException

    with pytest.raises(InferenceServerException) as e:
        call()
    status = str(e.value.status())
    assert status in ("400", "StatusCode.INVALID_ARGUMENT"), (status, e.value.message())
    for n in needles:
        assert n in e.value.message(), e.value.message()
    return e.value.message()


@pytest.mark.slow
@pytest.mark.parametrize("proto", ["http", "grpc"])
def test_bad_requests_get_400_naming_the_input_and_server_keeps_serving(server, check, rng, proto):
    infer = _http_infer if proto == "http" else _grpc_infer
    url = server.http_url if proto == "http" else server.grpc_url
    x = _inputs(rng, 2)
    _expect_400(lambda: infer(url, x.astype(np.float64), datatype="FP64"), "'input'", "FP64", "FP32")
    _expect_400(lambda: infer(url, x[:, :2]), "'input'", "[-1,3,%d,%d]" % (SIZE, SIZE))
    _expect_400(lambda: infer(url, x[0]), "'input'")
    _expect_400(lambda: infer(url, _inputs(rng, MAX_BATCH + 1)), "batch-size must be <= %d" % MAX_BATCH)
    _expect_400(lambda: infer(url, None), "missing required input(s) ['input']")
    _expect_400(lambda: infer(url, x, name="image"), "'image'")
    check(infer(url, x), x, "after the bad requests")


@pytest.mark.slow
def test_bad_request_does_not_fail_requests_batched_with_it(server, check, rng):
    from tritonclient.utils import InferenceServerException

    clients, per_client = 6, 8
    good = [[_inputs(rng, 1) for _ in range(per_client)] for _ in range(clients)]
    outcomes, errors = [], []
    start = threading.Barrier(clients + 1)

    def good_client(c):
        try:
            start.wait()
            for k in range(per_client):
                outcomes.append((_http_infer(server.http_url, good[c][k]), good[c][k]))
        except Exception as e:
            errors.append(e)

    def bad_client():
        start.wait()
        for _ in range(per_client):
            try:
                _http_infer(server.http_url, _inputs(rng, 1)[:, :, :, :SIZE - 1])
                errors.append(AssertionError("a request of the wrong shape was answered"))
            except InferenceServerException as e:
                if str(e.status()) != "400":
                    errors.append(e)

    threads = [threading.Thread(target=good_client, args=(c,)) for c in range(clients)]
    threads.append(threading.Thread(target=bad_client))
    for t in threads:
        t.start()
    for t in threads:
        t.join(CLIENT_TIMEOUT_S)
    assert not errors, errors
    assert len(outcomes) == clients * per_client
    for got, x in outcomes:
        check(got, x, "a good request", exact=False)


@pytest.mark.slow
def test_metrics_endpoint_serves_prometheus_text(server, rng):
    _http_infer(server.http_url, _inputs(rng, 1))
    assert _metric(server.metrics_url, "nv_inference_request_success") >= 1


@pytest.mark.slow
def test_serve_command_runs_until_interrupted(plan, check, rng):
    _need_serving()
    import trtcore

    http, grpc, metrics = free_ports(3)
    home = tempfile.TemporaryDirectory(prefix="pytriton")  # short: its unix socket paths must fit 107 bytes
    # the command imports the trtcore this test imported (installed, or a build's python/ folder)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        trtcore.__file__)), os.environ.get("PYTHONPATH")] if p), PYTRITON_HOME=home.name)
    proc = subprocess.Popen([sys.executable, "-m", "trtcore", "serve", "--plan", plan, "--http-port", str(http),
                             "--grpc-port", str(grpc), "--metrics-port", str(metrics)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for _ in range(2000):  # the server's own log comes first; the command announces itself once ready
            seen.append(proc.stdout.readline())
            if seen[-1].startswith("serving ") or not seen[-1]:
                break
        assert seen[-1].startswith("serving ") and "HTTP 127.0.0.1:%d" % http in seen[-1], "".join(seen[-30:])
        x = _inputs(rng, 2)
        check(_http_infer("127.0.0.1:%d" % http, x), x, "HTTP batch 2")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            tail, _ = proc.communicate(timeout=60)  # reads what it logs while stopping: a full pipe would block it
        except subprocess.TimeoutExpired:
            proc.kill()
            tail = "(still running 60 s after Ctrl-C)\n" + (proc.communicate()[0] or "")
        finally:
            home.cleanup()
    assert proc.returncode == 0, "".join(seen[-10:]) + (tail or "")[-3000:]


# ----------------------------------------------------------------------------------------------- exported repository

@pytest.fixture(scope="module")
def stock_server(plan, tmp_path_factory):
    """The exported repository under the tritonserver binary inside the PyTriton wheel."""
    _need_serving()
    import trtcore
    from trtcore.triton_repo import export, server_command

    d = tmp_path_factory.mktemp("stock")
    model_dir = export(plan, d / "repo", model_name="model", instances=2, max_queue_delay_us=2000)
    # the backend's Python imports this checkout's trtcore (its model folder is on the stub's sys.path), as it
    # would an installed one
    os.symlink(os.path.dirname(trtcore.__file__), os.path.join(model_dir, "trtcore"))
    http, grpc, metrics = free_ports(3)
    # the command `trtcore export-triton --backend-directory` prints, as a user would paste it
    command = server_command(d / "repo", d / "backends", http_port=http, grpc_port=grpc, metrics_port=metrics)
    log = open(d / "tritonserver.log", "w")
    proc = subprocess.Popen(shlex.split(command) + ["--allow-gpu-metrics=false", "--pinned-memory-pool-byte-size=0",
                                                    "--exit-timeout-secs=5"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen("http://127.0.0.1:%d/v2/models/model/ready" % http, timeout=5).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError("tritonserver did not load the repository:\n" +
                                     open(d / "tritonserver.log").read()[-3000:])
            time.sleep(0.3)
        yield dict(http="127.0.0.1:%d" % http, grpc="127.0.0.1:%d" % grpc,
                   metrics="http://127.0.0.1:%d/metrics" % metrics)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_export_triton_prints_the_server_command(plan, tmp_path, capsys):
    _need_serving()
    from trtcore import cli

    assert cli.main(["export-triton", "--plan", plan, "--repository", str(tmp_path / "repo"),
                     "--backend-directory", str(tmp_path / "backends")]) == 0
    out = capsys.readouterr().out
    assert "bin/tritonserver" in out and "--model-repository=%s" % (tmp_path / "repo") in out
    assert "--grpc-address=127.0.0.1" in out and "LD_LIBRARY_PATH=" in out
    assert os.path.isfile(tmp_path / "backends" / "python" / "triton_python_backend_stub")


@pytest.mark.slow
def test_exported_repository_loads_and_answers(stock_server, check, rng):
    for batch in (1, 3):
        x = _inputs(rng, batch)
        check(_http_infer(stock_server["http"], x), x, "HTTP batch %d" % batch)
        check(_grpc_infer(stock_server["grpc"], x), x, "gRPC batch %d" % batch)
    msg = _expect_400(lambda: _http_infer(stock_server["http"], _inputs(rng, 1).astype(np.float64), datatype="FP64"),
                      "'input'")
    assert "FP32" in msg
    x = _inputs(rng, 1)
    check(_http_infer(stock_server["http"], x), x, "after the bad request")


@pytest.mark.slow
def test_exported_repository_batches_concurrent_requests(stock_server, check, rng):
    clients, per_client = 8, 8
    xs = [[_inputs(rng, 1) for _ in range(per_client)] for _ in range(clients)]
    results = [[None] * per_client for _ in range(clients)]
    count0 = _metric(stock_server["metrics"], "nv_inference_count")
    exec0 = _metric(stock_server["metrics"], "nv_inference_exec_count")

    def client(c):
        for k in range(per_client):
            results[c][k] = _http_infer(stock_server["http"], xs[c][k])

    run_threads(client, clients, CLIENT_TIMEOUT_S)
    for c in range(clients):
        for k in range(per_client):
            check(results[c][k], xs[c][k], "client %d request %d" % (c, k), exact=False)
    count = _metric(stock_server["metrics"], "nv_inference_count") - count0
    execs = _metric(stock_server["metrics"], "nv_inference_exec_count") - exec0
    assert count == clients * per_client
    assert execs < count, "no two requests were combined (%d executions for %d requests)" % (execs, count)
