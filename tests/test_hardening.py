"""Robustness against misuse and hostile input: concurrent calls on one engine, plans edited on disk, oversized
shapes, unusual numpy arrays, hostile paths and out-of-range limits. Every case runs on the cpu backend in seconds."""

import numpy as np
import pytest

import trtcore
import models
from conftest import run_threads, FP32_TOL, assert_close, build_engine, ort_run


def _small_net(seed=0):
    """Conv, Relu, Conv, Relu, GlobalAveragePool, Flatten, Gemm: intermediates live in the activation arena."""
    nb = models.NetBuilder(seed)
    x = nb.relu(nb.conv("input", 3, 16, 3))
    x = nb.relu(nb.conv(x, 16, 16, 3))
    x = nb.node("Flatten", [nb.node("GlobalAveragePool", [x])], axis=1)
    x = models._rename_output(nb, nb.gemm(x, 16, 4), "logits")
    return nb.model([("input", np.float32, ["N", 3, 16, 16])], [("logits", np.float32, None)], "small_net")


def _hammer(call, inputs, threads_n, rounds):
    """Runs call(t, inputs[t]) `rounds` times from each of `threads_n` threads at once; returns per-thread results."""
    results = [[None] * rounds for _ in range(threads_n)]

    def work(t):
        for r in range(rounds):
            results[t][r] = call(t, inputs[t])

    run_threads(work, threads_n, timeout=120)
    return results


@pytest.mark.parametrize("use_contexts", [False, True], ids=["one_engine", "context_per_thread"])
def test_concurrent_calls_match_serial_calls(tmp_path, use_contexts):
    model = _small_net()
    engine = build_engine(model, tmp_path, batch=4, threads=1)
    rng = np.random.default_rng(11)
    threads_n, rounds = 16, 200
    inputs = [rng.standard_normal((1 + t % 4, 3, 16, 16)).astype(np.float32) for t in range(threads_n)]
    serial = [engine.infer(x)["logits"] for x in inputs]
    assert_close(serial[3], ort_run(model, {"input": inputs[3]})["logits"], tol=FP32_TOL, what="serial call")
    if use_contexts:
        contexts = [engine.create_context() for _ in range(threads_n)]
        results = _hammer(lambda t, x: contexts[t].infer(x)["logits"], inputs, threads_n, rounds)
    else:
        results = _hammer(lambda t, x: engine.infer(x)["logits"], inputs, threads_n, rounds)
    wrong = [(t, r) for t in range(threads_n) for r in range(rounds) if not np.array_equal(results[t][r], serial[t])]
    assert not wrong, f"{len(wrong)} of {threads_n * rounds} concurrent calls differ from the serial result"


def test_concurrent_benchmarks_and_infers_on_one_engine(tmp_path):
    model = _small_net(seed=1)
    engine = build_engine(model, tmp_path, batch=4, threads=1)
    x = np.random.default_rng(5).standard_normal((4, 3, 16, 16)).astype(np.float32)
    expected = engine.infer(x)["logits"]

    def call(t, _):
        if t % 2:
            return engine.benchmark(batch=4, iterations=5, warmup=1)["compute_ms"]["count"]
        return engine.infer(x)["logits"]

    results = _hammer(call, [None] * 8, 8, 30)
    for t in range(8):
        for r in results[t]:
            assert (r == 5) if t % 2 else np.array_equal(r, expected)


# ---------------------------------------------------------------------------------------------------------------
# plans edited on disk, with the trailing CRC-64 recomputed so only the graph checks can catch them

def _crc64(data):
    """CRC-64/XZ (reflected ECMA-182 polynomial, all-ones start and final xor): the plan format's trailer."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xC96C5795D7870F42 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


class _Cursor:
    def __init__(self, data, pos):
        self.data, self.pos = data, pos

    def take(self, fmt):
        import struct
        v = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("I")
        s = bytes(self.data[self.pos:self.pos + n]).decode()
        self.pos += n
        return s

    def shape(self):
        return [self.take("q") for _ in range(self.take("I"))]


def _graph_section(data):
    """(offset of the section's length field, offset of its payload) of the GRAPH section (tag 2)."""
    cur = _Cursor(data, 12)  # magic + format version
    while True:
        tag, length = cur.take("I"), cur.take("Q")
        if tag == 2:
            return cur.pos - 8, cur.pos
        cur.pos += length


def _rewrite_plan(path, edit):
    """edit(bytearray of the plan without its checksum, graph payload offset) -> new bytes; checksum recomputed."""
    import struct
    data = bytearray(open(path, "rb").read()[:-8])
    _, payload = _graph_section(data)
    data = edit(data, payload)
    open(path, "wb").write(bytes(data) + struct.pack("<Q", _crc64(bytes(data))))


def test_crc64_matches_the_plan_format(tmp_path):
    build_engine(_small_net(), tmp_path, batch=2).save(str(tmp_path / "a.plan"))
    data = open(tmp_path / "a.plan", "rb").read()
    assert _crc64(b"123456789") == 0x995DC9BBDF1939FA  # the CRC-64/XZ check value of its catalogue entry
    assert int.from_bytes(data[-8:], "little") == _crc64(data[:-8])


def test_plan_with_a_raised_max_batch_is_refused(tmp_path):
    import struct
    plan = str(tmp_path / "a.plan")
    build_engine(_small_net(), tmp_path, batch=2).save(plan)

    def raise_batch(data, payload):
        cur = _Cursor(data, payload)
        cur.string()  # graph name
        cur.take("q")  # opset
        assert cur.take("B") == 1  # has a batch axis
        assert struct.unpack_from("<q", data, cur.pos)[0] == 2
        struct.pack_into("<q", data, cur.pos, 64)
        return data

    _rewrite_plan(plan, raise_batch)
    with pytest.raises(trtcore.Error, match=r"a\.plan.*'input'.*maximum batch is 64") as e:
        trtcore.Engine(plan)
    assert e.value.kind == "corrupt input"


def _first_constant(data, payload):
    """(name, offset of its u64 byte count, byte count) of the first constant value in the graph section."""
    cur = _Cursor(data, payload)
    cur.string()
    cur.take("q")
    cur.take("B")
    cur.take("q")
    for _ in range(cur.take("I")):
        name = cur.string()
        cur.take("i")
        cur.shape()
        if cur.take("B"):
            cur.take("i")
            cur.shape()
            at = cur.pos
            return name, at, cur.take("Q")
    raise AssertionError("the plan holds no constant")


def test_plan_with_a_truncated_constant_is_refused(tmp_path):
    import struct
    plan = str(tmp_path / "a.plan")
    build_engine(_small_net(), tmp_path, batch=2).save(plan)
    data = bytearray(open(plan, "rb").read()[:-8])
    name, _, _ = _first_constant(data, _graph_section(data)[1])

    def truncate(data, payload):
        length_at, _ = _graph_section(data)
        _, at, nbytes = _first_constant(data, payload)
        cut = nbytes // 2
        struct.pack_into("<Q", data, at, nbytes - cut)
        struct.pack_into("<Q", data, length_at, struct.unpack_from("<Q", data, length_at)[0] - cut)
        return data[:at + 8 + nbytes - cut] + data[at + 8 + nbytes:]

    _rewrite_plan(plan, truncate)
    with pytest.raises(trtcore.Error, match=rf"a\.plan.*'{name}'.*bytes") as e:
        trtcore.Engine(plan)
    assert e.value.kind == "corrupt input"


# ---------------------------------------------------------------------------------------------------------------
# sizes bounded at build: a tensor of more than 2^31 elements, or activations beyond the machine's memory

def _build_error(model, tmp_path):
    with pytest.raises(trtcore.Error) as e:
        build_engine(model, tmp_path, batch=1)
    return str(e.value)


HUGE = 1 << 20  # squared: 2^40 elements


@pytest.mark.parametrize("op", ["Pad", "Tile", "Resize", "Expand", "ConstantOfShape"])
def test_outputs_of_2_to_the_40_elements_do_not_build(op, tmp_path):
    from onnx import helper
    i64 = lambda *v: np.array(v, np.int64)  # noqa: E731
    x, inits = ("x", np.float32, [1, 1]), {}
    if op == "Pad":
        inits["pads"] = i64(0, 0, HUGE - 1, HUGE - 1)
        node = helper.make_node("Pad", ["x", "pads"], ["y"], name="big")
    elif op == "Tile":
        inits["repeats"] = i64(HUGE, HUGE)
        node = helper.make_node("Tile", ["x", "repeats"], ["y"], name="big")
    elif op == "Resize":
        inits["scales"] = np.array([HUGE, HUGE], np.float32)
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="big", mode="nearest")
    elif op == "Expand":
        inits["shape"] = i64(HUGE, HUGE)
        node = helper.make_node("Expand", ["x", "shape"], ["y"], name="big")
    else:
        inits["shape"] = i64(HUGE, HUGE)
        node = helper.make_node("ConstantOfShape", ["shape"], ["c"], name="big")
    nodes = [node]
    if op == "ConstantOfShape":
        nodes.append(helper.make_node("Add", ["x", "x"], ["y"], name="keep_input"))
        outputs = [("y", np.float32, [1, 1]), ("c", np.float32, [HUGE, HUGE])]
    else:
        outputs = [("y", np.float32, None)]
    model = models.make_model(nodes, [x], outputs, inits, check=False)
    msg = _build_error(model, tmp_path)
    assert "'big'" in msg and str(HUGE * HUGE) in msg and "2^31" in msg, msg


def test_activations_beyond_host_memory_name_the_largest_tensors(tmp_path):
    import os
    from onnx import helper
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    elems = 1 << 30  # 4 GiB of float32 each, under the per-tensor bound
    live = ram // (4 * elems) + 2  # this many alive at once exceed the machine's memory
    nodes = [helper.make_node("Expand", ["x", "shape"], ["t0"], name="expand")]
    for k in range(1, live):
        nodes.append(helper.make_node("Neg", [f"t{k - 1}"], [f"t{k}"], name=f"neg{k}"))
    nodes.append(helper.make_node("Sum", [f"t{k}" for k in range(live)], ["y"], name="sum"))
    model = models.make_model(nodes, [("x", np.float32, [1])], [("y", np.float32, [elems])],
                              {"shape": np.array([elems], np.int64)})
    msg = _build_error(model, tmp_path)
    import re
    assert "activation memory" in msg and "'sum'" in msg and re.search(r"largest: '(t\d+|y)' 4\.0 GiB", msg), msg


# ---------------------------------------------------------------------------------------------------------------
# numpy inputs: any byte order, read-only buffers

def test_big_endian_and_read_only_inputs(tmp_path):
    model = _small_net(seed=2)
    engine = build_engine(model, tmp_path, batch=2)
    x = np.random.default_rng(4).standard_normal((2, 3, 16, 16)).astype(np.float32)
    ref = ort_run(model, {"input": x})["logits"]
    big = x.astype(">f4")
    assert big.dtype.byteorder == ">" and np.array_equal(big, x)
    assert_close(engine.infer(big)["logits"], ref, what="big-endian input")
    assert_close(engine.infer({"input": big})["logits"], ref, what="big-endian input by name")
    frozen = np.frombuffer(x.tobytes(), np.float32).reshape(x.shape)
    assert not frozen.flags.writeable
    assert_close(engine.infer(frozen)["logits"], ref, what="read-only input")
    assert_close(engine.create_context().infer({"input": frozen})["logits"], ref, what="read-only input, context")


# ---------------------------------------------------------------------------------------------------------------
# empty tensors: an empty constant output is copied with no null source (undefined behaviour under -fsanitize)

def test_empty_constant_and_empty_input_outputs(tmp_path):
    from onnx import helper
    nodes = [helper.make_node("ConstantOfShape", ["zero_shape"], ["empty_const"], name="make_empty"),
             helper.make_node("Identity", ["x"], ["x_copy"], name="copy")]
    model = models.make_model(nodes, [("x", np.float32, [0, 3])],
                              [("empty_const", np.float32, [0]), ("x_copy", np.float32, [0, 3])],
                              {"zero_shape": np.array([0], np.int64)})
    engine = build_engine(model, tmp_path, batch=1)
    x = np.zeros((0, 3), np.float32)
    ref = ort_run(model, {"x": x})
    out = engine.infer(x)
    for name in ("empty_const", "x_copy"):
        assert out[name].shape == ref[name].shape, name


# ---------------------------------------------------------------------------------------------------------------
# files: external data through links, FIFOs, output directories, unwritable reports, stale temporary files

def _cli(*args, timeout=60):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "trtcore", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    proc.output = proc.stdout + proc.stderr
    return proc


def _external_model(model_dir, location, nbytes=16):
    """A model whose Add constant (4 float32) is stored in external file `location` of model_dir."""
    import onnx
    from onnx import TensorProto, helper
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(nbytes))):
        w.external_data.add(key=k, value=v)
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "ext",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = model_dir / "model.onnx"
    onnx.save(model, str(path))
    return str(path)


def test_external_data_through_a_link_out_of_the_model_dir_is_refused(tmp_path):
    import os
    secret = tmp_path / "elsewhere" / "secret.bin"
    secret.parent.mkdir()
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(secret, model_dir / "weights.bin")
    path = _external_model(model_dir, "weights.bin")
    with pytest.raises(trtcore.Error, match=r"model\.onnx.*weights\.bin.*outside the model's directory"):
        trtcore.build(path, backend="cpu")
    # A link that stays inside the model's directory is fine.
    os.remove(model_dir / "weights.bin")
    (model_dir / "data").mkdir()
    (model_dir / "data" / "w.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    os.symlink("data/w.bin", model_dir / "weights.bin")
    out = trtcore.build(path, backend="cpu").infer(np.ones((1, 4), np.float32))["y"]
    assert np.array_equal(out, np.arange(4, dtype=np.float32)[None] + 1)


@pytest.mark.parametrize("what", ["onnx", "plan", "external"])
def test_fifo_inputs_fail_instead_of_hanging(tmp_path, what):
    import os
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    if what == "onnx":
        proc = _cli("build", "--onnx", fifo, "--backend", "cpu", "--plan", tmp_path / "a.plan", timeout=30)
    elif what == "plan":
        proc = _cli("run", "--plan", fifo, "--iter", 1, timeout=30)
    else:
        path = _external_model(tmp_path, "pipe")
        proc = _cli("build", "--onnx", path, "--backend", "cpu", "--plan", tmp_path / "a.plan", timeout=30)
    assert proc.returncode != 0 and "not a regular file" in proc.output and "pipe" in proc.output, proc.output


@pytest.fixture
def small_plan(tmp_path):
    plan = tmp_path / "small.plan"
    build_engine(_small_net(), tmp_path, batch=2).save(str(plan))
    samples = tmp_path / "samples"
    samples.mkdir()
    for i in range(3):
        (samples / f"s{i}.raw").write_bytes(np.full((3, 16, 16), i, np.float32).tobytes())
    return plan, samples


def test_output_dir_that_is_the_input_dir_is_refused(small_plan, tmp_path):
    import os
    plan, samples = small_plan
    before = {p.name: p.read_bytes() for p in samples.iterdir()}
    os.symlink(samples, tmp_path / "alias")
    for out in (samples, str(samples) + "/.", tmp_path / "alias"):
        proc = _cli("run", "--plan", plan, "--dir", samples, "--output-dir", out, "--iter", 1)
        assert proc.returncode != 0 and "--output-dir" in proc.output and "overwrite" in proc.output, proc.output
        assert {p.name: p.read_bytes() for p in samples.iterdir()} == before


def test_unwritable_json_fails_before_the_run(small_plan, tmp_path):
    plan, samples = small_plan
    proc = _cli("run", "--plan", plan, "--dir", samples, "--json", tmp_path / "missing" / "r.json", "--iter", 1)
    assert proc.returncode != 0 and "r.json" in proc.output, proc.output
    assert "samples:" not in proc.output and "timing:" not in proc.output, proc.output


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    import subprocess
    import sys
    plan = tmp_path / "a.plan"
    engine = build_engine(_small_net(), tmp_path, batch=2)
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    dead = tmp_path / f"a.plan.tmp.{pid_max + 1}"  # above pid_max: no process can have it
    dead.write_bytes(b"partial")
    other = tmp_path / f"b.plan.tmp.{pid_max + 1}"  # belongs to another target: left alone
    other.write_bytes(b"partial")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = tmp_path / f"a.plan.tmp.{sleeper.pid}"
        alive.write_bytes(b"being written")
        engine.save(str(plan))
        assert plan.exists() and not dead.exists()
        assert alive.exists() and other.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------------------------------------------------------
# limits: thread counts, models without outputs, opsets newer than trtcore knows

@pytest.mark.parametrize("threads", [-5, 100000])
def test_thread_counts_out_of_range_are_refused(tmp_path, threads):
    onnx_path = tmp_path / "m.onnx"
    import onnx
    onnx.save(_small_net(), str(onnx_path))
    proc = _cli("build", "--onnx", onnx_path, "--backend", "cpu", "--threads", threads, "--plan", tmp_path / "a.plan")
    assert proc.returncode != 0 and "--threads" in proc.output and str(threads) in proc.output, proc.output
    assert "internal error" not in proc.output, proc.output
    with pytest.raises(trtcore.Error, match="threads"):
        trtcore.build(str(onnx_path), backend="cpu", threads=threads)


def test_contexts_use_the_engines_thread_setting(tmp_path):
    """A context of a one-thread engine starts no worker threads (run in a fresh process: the pool is global)."""
    import os
    import subprocess
    import sys
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: all cores and one thread are the same")
    plan = tmp_path / "a.plan"
    nb = models.NetBuilder(3)
    x = nb.relu(nb.conv("input", 16, 64, 3))
    x = models._rename_output(nb, nb.conv(x, 64, 64, 3), "y")
    model = nb.model([("input", np.float32, [1, 16, 32, 32])], [("y", np.float32, None)], "wide")
    build_engine(model, tmp_path, batch=1).save(str(plan))
    script = (
        "import os, sys, numpy as np, trtcore\n"
        "e = trtcore.Engine(sys.argv[1], threads=1)\n"
        "x = np.ones((1, 16, 32, 32), np.float32)\n"
        "e.infer(x)\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "c = e.create_context()\n"
        "for _ in range(3): c.infer(x)\n"
        "print(before, len(os.listdir('/proc/self/task')))\n")
    out = subprocess.run([sys.executable, "-c", script, str(plan)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    before, after = map(int, out.stdout.split())
    assert after == before, f"the context started {after - before} worker thread(s)"


def test_model_without_outputs_is_refused(tmp_path):
    from onnx import helper
    model = models.make_model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [("x", np.float32, [1, 4])],
                              [], check=False)
    with pytest.raises(trtcore.Error, match=r"model\.onnx.*no outputs"):
        build_engine(model, tmp_path, batch=1)


def test_opset_newer_than_known_is_refused(tmp_path):
    from onnx import helper
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g",
                              [models.value_info("x", np.float32, [1, 4])], [models.value_info("y", np.float32, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 99)])
    with pytest.raises(trtcore.Error, match=r"model\.onnx.*opset 99"):
        build_engine(model, tmp_path, batch=1)


# ---------------------------------------------------------------------------------------------------------------
# writes: devices, planted temporary names, Ctrl-C

def test_writing_to_a_character_device_keeps_the_device(small_plan, tmp_path):
    """A result sent to a character device (as to /dev/null) is written into it; an atomic rename over it would
    replace the device node with a regular file."""
    import os
    import stat
    dev = tmp_path / "null"
    try:
        os.mknod(str(dev), stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the device numbers of /dev/null
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    plan, _ = small_plan
    trtcore.Engine(str(plan)).save(str(dev))
    assert stat.S_ISCHR(os.stat(str(dev)).st_mode)
    proc = _cli("run", "--plan", plan, "--iter", 1, "--json", dev)
    assert proc.returncode == 0, proc.output
    assert stat.S_ISCHR(os.stat(str(dev)).st_mode)


def test_a_file_planted_under_the_temporary_name_is_not_written_through(small_plan, tmp_path):
    """The temporary name is predictable (target + .tmp.<pid>): a link planted there must not redirect the write."""
    import os
    plan, _ = small_plan
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "p.plan"
    os.symlink(str(victim), str(target) + ".tmp.%d" % os.getpid())
    trtcore.Engine(str(plan)).save(str(target))
    assert victim.read_text() == "keep me"
    assert not os.path.islink(str(target)) and target.read_bytes() == plan.read_bytes()


def test_ctrl_c_stops_a_run_at_once_without_a_traceback(small_plan, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    plan, _ = small_plan
    result = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "trtcore", "run", "--plan", str(plan), "--duration", "30",
                             "--json", str(result)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell that ran us in the background may have left SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(5)  # past the imports: the C++ run is under way
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert time.monotonic() - sent < 2.0
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err, err
    assert not result.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_durations_are_refused(small_plan, value):
    plan, _ = small_plan
    proc = _cli("run", "--plan", plan, "--duration", value, timeout=30)
    assert proc.returncode == 2 and "--duration expects a finite number" in proc.output, proc.output


def test_models_a_plan_cannot_hold_are_refused_at_import(tmp_path):
    """Rank above 32 and opset 0 used to build plans that their own loader then called corrupt."""
    from onnx import TensorProto, helper
    deep = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "deep", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 33)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]), opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(trtcore.Error, match=r"rank 33; trtcore supports at most 32"):
        build_engine(deep, tmp_path, name="deep")
    zero = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "zero", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]), opset_imports=[helper.make_opsetid("", 0)])
    with pytest.raises(trtcore.Error, match=r"opset 0; opsets start at 1"):
        build_engine(zero, tmp_path, name="zero")
