"""The command line's surface (subprocess, cpu backend): per-command options and help, flags that cannot apply
failing with the reason, trtexec's flag names and `trtcore trtexec`, did-you-mean, and the timing report's
statistics and warnings checked against numpy on the exported per-iteration times."""
import json
import os
import re
import subprocess
import time

import numpy as np
import pytest

import models
from conftest import save_model
from test_cli import SIZE, assert_clean_failure, trtcore_cli, write_samples

INPUT = f"input:2x3x{SIZE}x{SIZE}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("surface")
    onnx_path = save_model(models.mobilenet_v2(size=SIZE, seed=7), tmp / "m.onnx")
    plan_path = tmp / "m.plan"
    proc = trtcore_cli("build", "--onnx", onnx_path, "--batch", 4, "--backend", "cpu", "--saveEngine", plan_path)
    assert proc.returncode == 0, proc.output
    assert plan_path.exists(), "--saveEngine did not write the plan"
    return str(onnx_path), str(plan_path)


def help_flags(command):
    proc = trtcore_cli(command, "--help")
    assert proc.returncode == 0, proc.output
    names = [line.strip().split("  ")[0] for line in proc.stdout.splitlines() if line.startswith("  -")]
    return proc.stdout, {n.split()[0] for column in names for n in column.split(", ")}


# ---------------------------------------------------------------------------------------------------- help

@pytest.mark.parametrize("command, has, lacks", [
    ("build", ["--onnx", "--half", "--fp16", "--saveEngine", "--maxShapes", "--memPoolSize", "--timing-cache"],
     ["--dir", "--iter", "--loadEngine", "--exportTimes", "--stop-after", "--passes"]),
    ("run", ["--plan", "--loadEngine", "--iter", "--iterations", "--warmUp", "--duration", "--exportTimes",
             "--noDataTransfers", "--shapes", "-v"],
     ["--onnx", "--half", "--int8", "--backend", "--saveEngine", "--calibration-dir", "--timing-cache",
      "--stop-after"]),
    ("inspect", ["--onnx", "--plan", "--stop-after", "--passes", "--half"], ["--dir", "--iter", "--json", "-o"]),
    ("quantize", ["--onnx", "--calibration-dir", "--calibrator", "-o"], ["--plan", "--half", "--dir", "--iter"]),
])
def test_each_command_help_lists_only_its_flags(command, has, lacks):
    text, listed = help_flags(command)
    for flag in has:
        assert flag in listed, f"{flag} missing from `{command} --help`:\n{text}"
    for flag in lacks:
        assert flag not in listed, f"{flag} should not be in `{command} --help`:\n{text}"
    for group in ("model options", "reporting options"):
        assert group in text, group


def test_help_columns_never_run_together():
    """Every option line is `names [VALUE]` then two spaces or the end of the line: no help text glued on."""
    for command in ("build", "run", "inspect", "quantize", "trtexec"):
        text, _ = help_flags(command)
        for line in text.splitlines():
            if line.startswith("  -"):
                names = line.strip().split("  ")[0]
                assert re.fullmatch(r"--?[\w-]+(, --?[\w-]+)*( \S+)?", names), line


def test_overview_names_the_commands():
    proc = trtcore_cli("--help")
    for command in ("build", "run", "inspect", "quantize", "trtexec"):
        assert command in proc.stdout


# ---------------------------------------------------------------------------------------------- errors, not ignored

@pytest.mark.parametrize("args, why", [
    (["--half"], ["precision is fixed when the plan is built", "build --half"]),
    (["--fp16"], ["precision is fixed when the plan is built", "build --half"]),
    (["--int8"], ["build --int8"]),
    (["--backend", "cpu"], ["build --backend"]),
    (["--calibration-dir", "x"], ["build --int8"]),
    (["--timing-cache", "c"], ["build --timing-cache"]),
    (["--shapes", f"input:2x3x{SIZE * 2}x{SIZE * 2}"], [f"3x{SIZE}x{SIZE}", "build --shapes"]),
    (["--no-cuda-graph"], ["cpu backend", "CUDA graph"]),
    (["--useCudaGraph"], ["cpu backend", "CUDA graph"]),
    (["--separateProfileRun"], ["--dumpProfile"]),
    (["--warmup", "1", "--warmUp", "10"], ["--warmUp", "milliseconds"]),
])
def test_run_flags_that_cannot_apply_are_errors(built, args, why):
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 1, *args)
    assert_clean_failure(proc, *why)


@pytest.mark.parametrize("args, why", [
    (["--iter", "3"], ["runs nothing", "run --plan"]),
    (["--dir", "d"], ["runs nothing"]),
    (["--loadEngine", "p"], ["--saveEngine"]),
    (["--timing-cache", "c"], ["cpu backend", "tactics"]),
    (["--timingCacheFile", "c"], ["cpu backend", "tactics"]),
    (["--no-cuda-graph"], ["cpu backend"]),
    (["--memPoolSize", "workspace:64"], ["cpu backend"]),
    (["--memPoolSize", "dlaSRAM:1"], ["dlaSRAM"]),
    (["--maxShapes", f"input:4x3x{SIZE}x{SIZE}", "--minShapes", f"input:1x3x16x16"], ["one shape profile"]),
    (["--minShapes", f"input:1x3x{SIZE}x{SIZE}"], ["--maxShapes"]),
])
def test_build_flags_that_cannot_apply_are_errors(built, tmp_path, args, why):
    plan = tmp_path / "x.plan"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--plan", plan, *args)
    assert_clean_failure(proc, *why)
    assert not plan.exists()


def test_other_commands_refuse_what_they_would_ignore(built, tmp_path):
    assert_clean_failure(trtcore_cli("inspect", "--plan", built[1], "--half"), "inspect --plan", "as it was built")
    assert_clean_failure(trtcore_cli("inspect", "--onnx", built[0], "--iter", 3), "inspect runs nothing")
    assert_clean_failure(trtcore_cli("quantize", "--onnx", built[0], "--half"), "quantize writes an INT8")
    assert_clean_failure(trtcore_cli("quantize", "--onnx", built[0], "--plan", tmp_path / "p"), "-o")
    # the thesis form loading a plan cannot change how it was built
    assert_clean_failure(trtcore_cli(f"--plan={built[1]}", "--half", "--iter=1"), "--half", "fixed when the plan")


def test_run_shapes_picks_the_batch(built, tmp_path):
    out = tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--shapes", INPUT, "--iter", 2, "--json", out)
    assert proc.returncode == 0, proc.output
    assert json.loads(out.read_text())["batch"] == 2
    assert_clean_failure(trtcore_cli("run", "--plan", built[1], "--shapes", INPUT, "--batch", 3), "--batch 3")
    assert_clean_failure(trtcore_cli("run", "--plan", built[1], "--shapes", "nope:2x3"), "nope", "'input'")


# ---------------------------------------------------------------------------------------------------- did you mean

@pytest.mark.parametrize("args, suggestion", [
    (["run", "--itr", "3"], "did you mean --iter?"),
    (["run", "--iteration=3"], "--iterations"),
    (["build", "--savengine=x.plan"], "--saveEngine"),
    (["run", "--saveEngin=x"], "--saveEngine (an option of build)"),
    (["run", "--exporttime=x"], "--exportTimes"),
    (["--fil=m.onnx"], "--file"),
])
def test_unknown_flags_get_suggestions(built, args, suggestion):
    proc = trtcore_cli(*args)
    assert_clean_failure(proc, "unknown option", suggestion)


def test_unknown_short_flag_is_quoted_as_written(built):
    proc = trtcore_cli("run", "--plan", built[1], "-x")
    assert_clean_failure(proc, "unknown option -x ")
    assert "--x" not in proc.output, proc.output


@pytest.mark.parametrize("word, suggestion", [("bild", "did you mean build?"), ("prepar", "did you mean prepare?"),
                                              ("zzzzzz", "commands: build, run")])
def test_unknown_command_gets_a_suggestion(word, suggestion):
    proc = trtcore_cli(word, "x")
    assert_clean_failure(proc, f"unknown command '{word}'", suggestion)
    assert "prepare" in proc.output  # the Python package's commands are named too


def test_short_v_is_verbose(built):
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 4, "-v")
    assert proc.returncode == 0, proc.output
    table = proc.stdout.split("iterations (ms):")[1].splitlines()[2:]
    assert len([row for row in table if row.split() and row.split()[0].isdigit()]) == 4, proc.stdout


# ---------------------------------------------------------------------------------------------------- trtexec names

def load_times(path):
    times = json.loads(path.read_text())
    return np.array([t["latencyMs"] for t in times]), np.array([t["computeMs"] for t in times]), times


def test_load_engine_iterations_and_export_times(built, tmp_path):
    times = tmp_path / "t.json"
    proc = trtcore_cli("run", "--loadEngine", built[1], "--iterations=7", "--warmUp=20", "--exportTimes", times)
    assert proc.returncode == 0, proc.output
    latency, compute, raw = load_times(times)
    assert len(raw) == 7
    assert all(set(t) >= {"latencyMs", "enqueueMs", "h2dMs", "computeMs", "d2hMs"} for t in raw)
    assert np.all(latency > 0) and np.all(compute > 0)


def test_report_statistics_match_numpy_on_exported_times(built, tmp_path):
    times, report = tmp_path / "t.json", tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--iterations", 40, "--exportTimes", times, "--json", report)
    assert proc.returncode == 0, proc.output
    latency, _, _ = load_times(times)
    r = json.loads(report.read_text())
    s = r["latency_ms"]
    assert s["count"] == 40
    np.testing.assert_allclose([s["min"], s["max"], s["mean"], s["median"], s["p90"], s["p99"]],
                               [latency.min(), latency.max(), latency.mean(), np.median(latency),
                                np.percentile(latency, 90), np.percentile(latency, 99)], rtol=1e-4)
    np.testing.assert_allclose(r["cv"], latency.std() / latency.mean(), rtol=1e-4)
    np.testing.assert_allclose(r["throughput"], r["batch"] * 1000 / latency.mean(), rtol=1e-4)
    assert ("unstable" in proc.stdout) == (latency.std() / latency.mean() > 0.10), proc.stdout


def test_noisy_run_is_flagged_unstable(built, tmp_path):
    """Many threads on a tiny batch on a shared machine: whether the warning appears must follow numpy's CV."""
    times, report = tmp_path / "t.json", tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--batch", 1, "--threads", 4, "--iterations", 200, "--warmup", 0,
                       "--exportTimes", times, "--json", report)
    assert proc.returncode == 0, proc.output
    latency, _, _ = load_times(times)
    cv = latency.std() / latency.mean()
    warned = [w for w in json.loads(report.read_text())["warnings"] if w.startswith("unstable")]
    assert bool(warned) == (cv > 0.10), (cv, warned)
    assert ("warning: unstable" in proc.stdout) == (cv > 0.10)
    if cv > 0.10:
        assert f"{100 * cv:.1f}%" in warned[0], warned


def test_avg_runs_averages_consecutive_iterations(built, tmp_path):
    times, report = tmp_path / "t.json", tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--iterations", 10, "--avgRuns", 4, "--exportTimes", times,
                       "--json", report)
    assert proc.returncode == 0, proc.output
    latency, _, _ = load_times(times)
    windows = [latency[i:i + 4].mean() for i in range(0, 10, 4)]
    s = json.loads(report.read_text())["latency_ms"]
    assert s["count"] == 3
    np.testing.assert_allclose([s["max"], s["min"], s["mean"]], [max(windows), min(windows), np.mean(windows)],
                               rtol=1e-4)


def test_duration_runs_until_both_iterations_and_duration(built, tmp_path):
    times = tmp_path / "t.json"
    t0 = time.monotonic()
    proc = trtcore_cli("run", "--plan", built[1], "--batch", 1, "--iterations", 2, "--duration", 1,
                       "--exportTimes", times)
    assert proc.returncode == 0, proc.output
    assert time.monotonic() - t0 >= 1.0
    latency, _, raw = load_times(times)
    assert len(raw) > 2 and latency.sum() > 500, (len(raw), latency.sum())
    assert "\r" not in proc.stderr and "timing (ms)" not in proc.stderr  # no progress bar when not a terminal


def test_progress_shows_on_a_terminal(built):
    import os
    import pty
    import subprocess
    import sys
    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "trtcore", "run", "--plan", built[1], "--batch", "1", "--iter", "1",
                           "--duration", "1"], stdout=subprocess.PIPE, stderr=slave, timeout=120)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal's other end is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0, seen
    assert b"timing (ms) [" in seen, seen


def test_no_data_transfers_reports_compute(built, tmp_path):
    report = tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 5, "--noDataTransfers", "--json", report)
    assert proc.returncode == 0, proc.output
    r = json.loads(report.read_text())
    assert r["data_transfers"] is False and r["latency_ms"] == r["compute_ms"]
    assert "compute only" in proc.stdout


def test_profile_exports_and_json(built, tmp_path):
    import trtcore
    prof, report = tmp_path / "p.json", tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 2, "--exportProfile", prof, "--separateProfileRun",
                       "--json", report)
    assert proc.returncode == 0, proc.output
    names = [layer.name for layer in trtcore.Engine(built[1]).layers]
    assert [row["name"] for row in json.loads(prof.read_text())] == names
    assert [row["name"] for row in json.loads(report.read_text())["profile"]] == names
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 2, "--dumpProfile")
    assert proc.returncode == 0 and "per-layer time" in proc.stdout, proc.output


def test_calib_is_the_calibration_cache(built, tmp_path, rng):
    write_samples(tmp_path / "calib", rng, 4)
    cache = tmp_path / "m.cache"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--batch", 4, "--int8", "--calibration-dir",
                       tmp_path / "calib", "--calib", cache, "--plan", tmp_path / "q.plan")
    assert proc.returncode == 0, proc.output
    assert cache.exists() and "EntropyCalibration2" in cache.read_text()


def test_shape_profile_sets_the_max_batch(built, tmp_path):
    plan = tmp_path / "s.plan"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--minShapes", f"input:1x3x{SIZE}x{SIZE}",
                       "--optShapes", f"input:2x3x{SIZE}x{SIZE}", "--maxShapes", f"input:6x3x{SIZE}x{SIZE}",
                       "--saveEngine", plan)
    assert proc.returncode == 0, proc.output
    assert "batch: dynamic, 1..6" in trtcore_cli("inspect", "--loadEngine", plan).stdout
    report = tmp_path / "r.json"  # trtcore trtexec builds and then runs at optShapes, as trtexec does
    proc = trtcore_cli("trtexec", f"--onnx={built[0]}", f"--minShapes=input:1x3x{SIZE}x{SIZE}",
                       f"--optShapes=input:3x3x{SIZE}x{SIZE}", f"--maxShapes=input:6x3x{SIZE}x{SIZE}",
                       "--iterations=2", f"--json={report}")
    assert proc.returncode == 0, proc.output
    assert json.loads(report.read_text())["batch"] == 3


def test_directory_run_prints_one_throughput(built, tmp_path, rng):
    write_samples(tmp_path / "s", rng, 5)
    proc = trtcore_cli("run", "--plan", built[1], "--dir", tmp_path / "s", "--batch", 2)
    assert proc.returncode == 0, proc.output
    assert proc.stdout.count("samples/s") == 1, proc.stdout


# ---------------------------------------------------------------------------------------------------- trtcore trtexec

def test_trtexec_fp16_on_cpu_fails_clearly(built, tmp_path):
    proc = trtcore_cli("trtexec", f"--onnx={built[0]}", "--fp16", f"--saveEngine={tmp_path / 'h.plan'}")
    assert_clean_failure(proc, "cpu", "fp16")
    assert not (tmp_path / "h.plan").exists()


def test_trtexec_builds_then_runs(built, tmp_path):
    times, plan = tmp_path / "t.json", tmp_path / "e.plan"
    proc = trtcore_cli("trtexec", f"--onnx={built[0]}", "--iterations=5", f"--exportTimes={times}",
                       f"--saveEngine={plan}")
    assert proc.returncode == 0, proc.output
    assert len(json.loads(times.read_text())) == 5 and plan.exists()
    assert "throughput" in proc.stdout
    proc = trtcore_cli("trtexec", f"--loadEngine={plan}", "--iterations=3", f"--exportTimes={times}", "--verbose")
    assert proc.returncode == 0, proc.output
    assert len(json.loads(times.read_text())) == 3
    assert_clean_failure(trtcore_cli("trtexec", f"--loadEngine={plan}", "--fp16"), "--fp16", "fixed when the plan")
    assert_clean_failure(trtcore_cli("trtexec", "--iterations=3"), "--onnx", "--loadEngine")


@pytest.mark.parametrize("flag, says", [("--best", "--half or --int8"), ("--skipInference", "trtcore build"),
                                        ("--loadInputs=input:x.bin", "run --dir"), ("--streams=2", "create_context")])
def test_trtexec_flags_without_counterpart_say_what_to_use(built, flag, says):
    proc = trtcore_cli("trtexec", f"--onnx={built[0]}", flag)
    assert_clean_failure(proc, flag.split("=")[0] + " is a trtexec option trtcore does not have", says)


def test_trtexec_no_tf32_and_layer_precisions_are_aliases(built, tmp_path):
    plan = tmp_path / "a.plan"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--noTF32", "--plan", plan)
    assert proc.returncode == 0 and plan.exists(), proc.output
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--layerPrecisions=conv_1:fp32",
                       "--plan", plan)
    assert_clean_failure(proc, "--layerPrecisions needs --int8")


# ---------------------------------------------------------------------------------------------------- INT8-only options

INT8_ONLY = [["--calibration-cache", "c.cache"], ["--calib", "c.cache"], ["--calibrator", "max"],
             ["--percentile", "99.9"], ["--exclude-layers", "n0"], ["--calibration-batch", "2"],
             ["--calibration-batches", "1"], ["--layer-precision", "n0:fp32"]]


@pytest.mark.parametrize("args", INT8_ONLY, ids=lambda a: a[0])
def test_int8_only_options_without_int8_are_errors(built, tmp_path, args):
    """The README: an option that cannot apply is an error, never ignored; these only matter to an INT8 build."""
    plan = tmp_path / "x.plan"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--plan", plan, *args)
    assert_clean_failure(proc, args[0], "--int8")
    assert not plan.exists()
    proc = trtcore_cli(f"--file={built[0]}", f"--plan={plan}", "--backend=cpu", *args)  # the thesis form
    assert_clean_failure(proc, args[0], "--int8")
    assert not plan.exists()


@pytest.mark.skipif(not os.environ.get("TRTCORE_EXEC"), reason="TRTCORE_EXEC (the standalone executable) not set")
def test_standalone_executable_refuses_int8_only_options_and_python_commands(built, tmp_path):
    exe = os.environ["TRTCORE_EXEC"]
    proc = subprocess.run([exe, "build", "--onnx", built[0], "--backend", "cpu", "--calibrator", "max", "--plan",
                           str(tmp_path / "x.plan")], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "--calibrator" in proc.stderr and "--int8" in proc.stderr, proc.stderr
    proc = subprocess.run([exe, "prepare", "imgs", "-o", str(tmp_path / "p")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Python" in proc.stderr and "trtcore prepare" in proc.stderr, proc.stderr


def test_calibration_dir_alone_builds_int8_and_says_so(built, tmp_path, rng):
    write_samples(tmp_path / "calib", rng, 4)
    plan = tmp_path / "q.plan"
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--batch", 4, "--calibration-dir",
                       tmp_path / "calib", "--calibrator", "max", "--plan", plan)
    assert proc.returncode == 0, proc.output
    assert proc.stderr.count("calibration data given: building INT8 (as --int8)") == 1, proc.stderr
    assert " int8" in trtcore_cli("inspect", "--plan", plan).stdout
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--batch", 4, "--int8", "--calibration-dir",
                       tmp_path / "calib", "--plan", plan)
    assert proc.returncode == 0 and "calibration data given" not in proc.output, proc.output


def test_half_with_calibration_dir_feeds_the_range_guard(built, tmp_path, rng):
    """--half --calibration-dir is the FP16 range guard, not INT8: no INT8 note, no "needs --int8" error."""
    write_samples(tmp_path / "calib", rng, 4)
    proc = trtcore_cli("inspect", "--onnx", built[0], "--batch", 4, "--stop-after", "precision", "--half",
                       "--calibration-dir", tmp_path / "calib")
    assert proc.returncode == 0, proc.output
    assert "fp16" in proc.stdout and "calibration data given" not in proc.output, proc.output


def test_unsupported_precision_names_what_the_backend_builds(built, tmp_path):
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--half", "--plan", tmp_path / "h.plan")
    assert_clean_failure(proc, "cannot build fp16", "int8 (--int8")
    assert "without --half/--int8" not in proc.output


# ---------------------------------------------------------------------------------------------------- wrong inputs

def test_build_from_a_plan_or_text_says_what_the_file_is(built, tmp_path):
    proc = trtcore_cli("build", "--onnx", built[1], "--backend", "cpu", "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "is a trtcore plan, not an ONNX model", "trtcore run --plan")
    text = tmp_path / "notes.txt"
    text.write_text("this is not a model\nat all\n")
    proc = trtcore_cli("build", "--onnx", text, "--backend", "cpu", "--plan", tmp_path / "x.plan")
    assert_clean_failure(proc, "not an ONNX (protobuf) file")
    assert "wire type" not in proc.output


# ---------------------------------------------------------------------------------------------------- outputs up front

UNWRITABLE = "/proc"  # creating a file there fails for every user, root included


def test_unwritable_outputs_fail_before_the_work(built, tmp_path, rng):
    write_samples(tmp_path / "calib", rng, 4)
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--plan", f"{UNWRITABLE}/t.plan")
    assert_clean_failure(proc, "cannot write the plan", "not writable")
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--batch", 4, "--int8", "--calibration-dir",
                       tmp_path / "calib", "--calibration-cache", f"{UNWRITABLE}/c.cache", "--plan", tmp_path / "q.plan")
    assert_clean_failure(proc, "cannot write the calibration cache")
    assert "calibration:" not in proc.output and not (tmp_path / "q.plan").exists()
    proc = trtcore_cli("quantize", "--onnx", built[0], "--batch", 4, "--calibration-dir", tmp_path / "calib",
                       "-o", f"{UNWRITABLE}/q.onnx")
    assert_clean_failure(proc, "cannot write the Q/DQ model")
    assert "calibration:" not in proc.output
    proc = trtcore_cli("run", "--plan", built[1], "--iter", 1, "--json", f"{UNWRITABLE}/r.json")
    assert_clean_failure(proc, "cannot write", "not writable")
    assert "timing:" not in proc.output
    (tmp_path / "afile").write_text("")  # a file where a folder is expected is named as such, not as missing
    proc = trtcore_cli("build", "--onnx", built[0], "--backend", "cpu", "--plan", tmp_path / "afile" / "t.plan")
    assert_clean_failure(proc, "cannot write the plan", "is a file, not a folder")


# ---------------------------------------------------------------------------------------------------- --dir runs

def test_directory_passes_are_counted_in_the_output(built, tmp_path, rng):
    write_samples(tmp_path / "s", rng, 5)
    report = tmp_path / "r.json"
    proc = trtcore_cli("run", "--plan", built[1], "--dir", tmp_path / "s", "--batch", 2, "--iter", 3, "--json", report)
    assert proc.returncode == 0, proc.output
    assert "directory: 3 passes x 3 batches timed" in proc.stdout, proc.stdout  # 5 files at batch 2: 3 batches
    assert "10 iterations on one batch, after the directory passes" in proc.stdout, proc.stdout
    d = json.loads(report.read_text())["directory"]
    assert (d["passes"], d["batches"]) == (3, 3), d


def test_directory_run_warns_about_skipped_subfolders(built, tmp_path, rng):
    write_samples(tmp_path / "s", rng, 2)
    write_samples(tmp_path / "s" / "more", rng, 2)
    proc = trtcore_cli("run", "--plan", built[1], "--dir", tmp_path / "s", "--batch", 2, "--iter", 1)
    assert proc.returncode == 0, proc.output
    assert proc.stdout.count("warning: sub-folders of") == 1 and "more" in proc.stdout, proc.stdout
