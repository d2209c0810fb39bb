"""The `trtcore` command end to end (subprocess): thesis-format directory runs and the user-error cases."""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper

import models
from conftest import FP32_TOL, rel_l2, ort_run, save_model
from op_cases import N, chain, randn

SIZE = 32
SAMPLE_BYTES = 3 * SIZE * SIZE * 4


def trtcore_cli(*args, cwd=None, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "trtcore", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    proc.output = proc.stdout + proc.stderr
    return proc


def assert_clean_failure(proc, *must_mention):
    assert proc.returncode != 0, f"expected failure, got rc 0:\n{proc.output}"
    assert "Traceback" not in proc.output, proc.output
    for text in must_mention:
        assert str(text) in proc.output, f"{text!r} not in:\n{proc.output}"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    model = models.mobilenet_v2(size=SIZE, seed=31)
    onnx_path = save_model(model, tmp / "mobilenet.onnx")
    plan_path = tmp / "mobilenet.plan"
    proc = trtcore_cli("build", "--onnx", onnx_path, "--batch", 4, "--backend", "cpu", "--plan", plan_path)
    assert proc.returncode == 0, proc.output
    assert plan_path.exists()
    return model, str(plan_path), onnx_path


def write_samples(dirpath, rng, n, nan_at=None):
    os.makedirs(dirpath, exist_ok=True)
    samples = {}
    for i in range(n):
        x = rng.standard_normal((3, SIZE, SIZE)).astype(np.float32)
        if nan_at == i:
            x[1, 3, 4] = np.nan
        name = f"img_{i:03d}.raw"
        (dirpath / name).write_bytes(x.tobytes())
        samples[name] = x
    return samples


def test_directory_run_end_to_end(plan, tmp_path, rng):
    model, plan_path, _ = plan
    samples = write_samples(tmp_path / "samples", rng, 6)  # 6 samples at batch 4: one full and one partial batch
    out = tmp_path / "out"
    report = tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", plan_path, "--dir", tmp_path / "samples", "--output-dir", out,
                       "--batch", 4, "--json", report)
    assert proc.returncode == 0, proc.output
    assert sorted(os.listdir(out)) == sorted(samples)
    for name, x in samples.items():
        got = np.fromfile(out / name, dtype=np.float32)
        ref = ort_run(model, {"input": x[None]})["logits"].ravel()
        assert got.shape == ref.shape, name
        assert rel_l2(got, ref) <= FP32_TOL, name
    data = json.loads(report.read_text())
    assert "throughput" in json.dumps(data)


def test_run_profile_lists_every_layer(plan):
    """`run --profile`: one row per layer of the plan (as `inspect` lists them), each with a time and a share."""
    import trtcore

    proc = trtcore_cli("run", "--plan", plan[1], "--batch", 2, "--iter", 2, "--profile")
    assert proc.returncode == 0, proc.output
    rows = proc.stdout.split("per-layer time")[1].splitlines()[2:]
    layers = trtcore.Engine(plan[1]).layers
    assert len(rows) >= len(layers)
    for layer, row in zip(layers, rows):
        fields = row.split()
        assert fields[0] == layer.name and fields[1] == layer.op, row
        assert float(fields[2]) >= 0 and fields[3].endswith("%"), row


def test_timed_run_without_dir(plan, tmp_path):
    report = tmp_path / "t.json"
    proc = trtcore_cli("run", "--plan", plan[1], "--batch", 2, "--iter", 5, "--warmup", 1, "--json", report)
    assert proc.returncode == 0, proc.output
    text = report.read_text()
    json.loads(text)
    for key in ("median", "p99", "throughput"):
        assert key in text, key


def test_wrong_size_sample_names_file_and_expected_bytes(plan, tmp_path, rng):
    d = tmp_path / "samples"
    write_samples(d, rng, 2)
    (d / "short.raw").write_bytes(b"\0" * (SAMPLE_BYTES - 4))
    proc = trtcore_cli("run", "--plan", plan[1], "--dir", d, "--output-dir", tmp_path / "out")
    assert_clean_failure(proc, "short.raw", SAMPLE_BYTES)


def _check_two_input_outputs(model, samples, out):
    """Each output file against onnxruntime on the paired sample (one sub-folder per output)."""
    for name, feeds in samples.items():
        ref = ort_run(model, {k: v[None] for k, v in feeds.items()})
        for o in ("score", "feat"):
            got = np.fromfile(out / o / name, dtype=np.float32)
            assert rel_l2(got, ref[o].ravel()) <= FP32_TOL, (name, o)


def test_directory_run_with_several_inputs(tmp_path):
    """A two-input model reads one sub-folder per input, files paired by name (the calibration layout); a file one
    sub-folder lacks, or a flat folder, is an error naming the folder and the file or input."""
    model = models.two_input_model(seed=3)
    onnx_path = save_model(model, tmp_path / "two.onnx")
    plan_path = tmp_path / "two.plan"
    proc = trtcore_cli("build", "--onnx", onnx_path, "--batch", 4, "--backend", "cpu", "--plan", plan_path)
    assert proc.returncode == 0, proc.output
    samples = models.write_two_input_samples(tmp_path / "s", 6, seed=4)  # one full and one partial batch
    out = tmp_path / "out"
    proc = trtcore_cli("run", "--plan", plan_path, "--dir", tmp_path / "s", "--output-dir", out, "--batch", 4)
    assert proc.returncode == 0, proc.output
    _check_two_input_outputs(model, samples, out)
    # the onnxruntime baseline reads the same layout (every input from its sub-folder, none random)
    proc = trtcore_cli("baseline", "--framework", "onnxruntime", "--onnx", onnx_path, "--batch", 4, "--iter", 1,
                       "--dir", tmp_path / "s", "--output-dir", tmp_path / "ort_out")
    assert proc.returncode == 0, proc.output
    _check_two_input_outputs(model, samples, tmp_path / "ort_out")
    os.remove(tmp_path / "s" / "meta" / "sample_03.raw")
    proc = trtcore_cli("run", "--plan", plan_path, "--dir", tmp_path / "s")
    assert_clean_failure(proc, str(tmp_path / "s"), "'meta'", "sample_03.raw")
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.raw").write_bytes(samples["sample_00.raw"]["image"].tobytes())
    proc = trtcore_cli("run", "--plan", plan_path, "--dir", flat)
    assert_clean_failure(proc, str(flat), "'image'", "sub-folder")


def test_missing_dir(plan, tmp_path):
    proc = trtcore_cli("run", "--plan", plan[1], "--dir", tmp_path / "does_not_exist")
    assert_clean_failure(proc, "does_not_exist")


def test_unwritable_output_dir(plan, tmp_path, rng):
    d = tmp_path / "samples"
    write_samples(d, rng, 1)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    proc = trtcore_cli("run", "--plan", plan[1], "--dir", d, "--output-dir", blocker / "out")
    assert_clean_failure(proc, "a_file")


def test_missing_plan(tmp_path):
    proc = trtcore_cli("run", "--plan", tmp_path / "missing.plan", "--iter", 1)
    assert_clean_failure(proc, "missing.plan")


def test_onnx_model_given_as_plan_says_to_build_it(plan):
    proc = trtcore_cli("run", "--plan", plan[2], "--iter", 1)
    assert_clean_failure(proc, "not a trtcore plan", "ONNX model", f"build --onnx {plan[2]}")


def test_nan_sample_is_rejected_naming_the_file(plan, tmp_path, rng):
    # A sample file holding NaN is bad input: the run stops before any work, naming the file, and writes nothing.
    _, plan_path, _ = plan
    write_samples(tmp_path / "samples", rng, 3, nan_at=1)
    out = tmp_path / "out"
    proc = trtcore_cli("run", "--plan", plan_path, "--dir", tmp_path / "samples", "--output-dir", out)
    assert_clean_failure(proc, "img_001.raw", "NaN")
    assert not out.exists() or not any(out.iterdir())


def _unsupported_model(tmp_path, rng):
    nodes = [N("Relu", ["x"], ["r"], name="fine_relu"), N("Celu", ["r"], ["y"], name="the_celu_node")]
    model, _ = chain(nodes, {"x": randn(rng, 1, 4)})
    return save_model(model, tmp_path / "unsupported.onnx")


def test_unsupported_op_names_node_op_and_opset(tmp_path, rng):
    path = _unsupported_model(tmp_path, rng)
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", "--plan", tmp_path / "u.plan")
    assert_clean_failure(proc, "the_celu_node", "Celu", "13")
    assert not (tmp_path / "u.plan").exists()


def test_inspect_onnx_lists_supported_and_unsupported(tmp_path, rng):
    path = _unsupported_model(tmp_path, rng)
    proc = trtcore_cli("inspect", "--onnx", path)
    assert "Traceback" not in proc.output
    lines = proc.output.splitlines()
    # one line per op type saying supported or not, and the unsupported node named
    celu = [l for l in lines if "Celu" in l and "the_celu_node" not in l]
    relu = [l for l in lines if "Relu" in l and "Celu" not in l]
    assert celu and relu, proc.output
    assert "unsupported" in celu[0].lower(), celu
    assert "unsupported" not in relu[0].lower() and "supported" in relu[0].lower(), relu
    assert any("the_celu_node" in l for l in lines), proc.output


def test_inspect_plan_shows_io_layers_memory(plan):
    proc = trtcore_cli("inspect", "--plan", plan[1])
    assert proc.returncode == 0, proc.output
    for text in ("input", "logits", "3x32x32", "Conv"):
        assert text in proc.output, text
    assert "weights" in proc.output.lower()


def test_inspect_onnx_shows_passes(plan):
    proc = trtcore_cli("inspect", "--onnx", plan[2])
    assert proc.returncode == 0, proc.output
    for name in ("fold_batchnorm", "fuse_activation"):
        assert name in proc.output, name


@pytest.mark.parametrize("content", [b"", b"\x08\x07garbage" * 10, b"not an onnx file at all"])
def test_malformed_onnx(tmp_path, content):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", "--plan", tmp_path / "b.plan")
    assert_clean_failure(proc, "broken.onnx")


def test_truncated_onnx(tmp_path):
    data = open(models.light_path("squeezenet"), "rb").read()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", "--plan", tmp_path / "t.plan")
    assert_clean_failure(proc, "truncated.onnx")


def test_missing_onnx(tmp_path):
    proc = trtcore_cli("build", "--onnx", tmp_path / "nope.onnx", "--backend", "cpu")
    assert_clean_failure(proc, "nope.onnx")


def test_default_plan_path_next_to_model(tmp_path, rng):
    model, _ = chain([N("Relu", ["x"], ["y"])], {"x": randn(rng, 2, 3)})
    path = save_model(model, tmp_path / "tiny.onnx")
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", cwd=tmp_path.parent)
    assert proc.returncode == 0, proc.output
    plans = [p for p in os.listdir(tmp_path) if p.endswith(".plan")]
    assert plans, os.listdir(tmp_path)


def test_half_on_cpu_fails_clearly(plan, tmp_path):
    proc = trtcore_cli("build", "--onnx", plan[2], "--backend", "cpu", "--half", "--plan", tmp_path / "h.plan")
    assert_clean_failure(proc)
    assert "half" in proc.output.lower() or "fp16" in proc.output.lower(), proc.output
    assert not (tmp_path / "h.plan").exists()


def test_shapes_flag(tmp_path, rng):
    from models import NetBuilder
    nb = NetBuilder(seed=32)
    y = nb.relu(nb.conv("input", 3, 4, 3))
    nb.nodes[-1].output[0] = "out"
    model = nb.model([("input", np.float32, ["N", 3, "H", "W"])], [("out", np.float32, None)], "fcn")
    path = save_model(model, tmp_path / "fcn.onnx")
    proc = trtcore_cli("build", "--onnx", path, "--backend", "cpu", "--shapes", "input:1x3x16x24",
                       "--plan", tmp_path / "fcn.plan")
    assert proc.returncode == 0, proc.output
    d = tmp_path / "s"
    d.mkdir()
    x = rng.standard_normal((3, 16, 24)).astype(np.float32)
    (d / "a.raw").write_bytes(x.tobytes())
    proc = trtcore_cli("run", "--plan", tmp_path / "fcn.plan", "--dir", d, "--output-dir", tmp_path / "o")
    assert proc.returncode == 0, proc.output
    got = np.fromfile(tmp_path / "o" / "a.raw", dtype=np.float32)
    ref = ort_run(model, {"input": x[None]})["out"].ravel()
    assert rel_l2(got, ref) <= FP32_TOL


def test_bad_flag_value(plan):
    proc = trtcore_cli("run", "--plan", plan[1], "--batch", "zero")
    assert_clean_failure(proc)


def test_batch_larger_than_plan(plan, tmp_path, rng):
    write_samples(tmp_path / "s", rng, 1)
    proc = trtcore_cli("run", "--plan", plan[1], "--dir", tmp_path / "s", "--batch", 5)
    assert_clean_failure(proc, "4")


def test_io_half_without_half_is_refused(plan, tmp_path):
    _, _, onnx_path = plan
    proc = trtcore_cli("build", "--onnx", onnx_path, "--io-half", "--backend", "cpu", "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "--io-half", "--half")
    assert not (tmp_path / "x.plan").exists()


def test_half_on_cpu_fails_clearly_instead_of_building_fp32(plan, tmp_path):
    _, _, onnx_path = plan
    proc = trtcore_cli("build", "--onnx", onnx_path, "--half", "--backend", "cpu", "--plan", tmp_path / "h.plan")
    assert_clean_failure(proc, "cpu", "fp16")
    assert not (tmp_path / "h.plan").exists()
