"""The cpu kernels' instruction-set levels: each level this machine runs passes the op, model and int8 tests against
onnxruntime (TRTCORE_CPU_ISA picks the level in a child pytest), the level in use is reported, a bad level is a
clear error, and no baseline code of the binary uses AVX registers (which would crash an older cpu)."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import trtcore

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = ("baseline", "avx2", "avx512")
# Test files whose cases reach every per-level kernel (GEMM, conv paths, pooling, softmax, activations, int8)
LEVEL_TESTS = ("test_ops.py", "test_onnx_node_cases.py", "test_models.py", "test_int8.py", "test_int8_depthwise.py",
               "test_int8_direct.py", "test_nan_propagation.py")


def _compiled_levels():
    return re.search(r"compiled: ([a-z0-9, ]+)", trtcore.cpu_isa()).group(1).split(", ")


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _runs_here(level):
    """From the kernel's cpu flags, independently of the library's own CPUID check."""
    flags = _cpu_flags()
    need = {"baseline": set(), "avx2": {"avx", "avx2", "fma", "bmi1", "bmi2", "popcnt"}}
    need["avx512"] = need["avx2"] | {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}
    return need[level] <= flags


def _env(level):
    env = dict(os.environ, TRTCORE_CPU_ISA=level)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.path.dirname(os.path.dirname(trtcore.__file__)),
                                                    env.get("PYTHONPATH")) if p)
    return env


def test_default_level_is_the_best_this_cpu_runs():
    compiled = _compiled_levels()
    assert compiled[0] == "baseline"
    best = [lvl for lvl in compiled if _runs_here(lvl)][-1]
    assert trtcore.cpu_isa().startswith(best + " ")


@pytest.mark.parametrize("level", LEVELS)
def test_level_passes_op_tests(level):
    if level not in _compiled_levels():
        pytest.skip("%s kernels are not compiled into this build" % level)
    if not _runs_here(level):
        pytest.skip("this cpu does not run %s instructions" % level)
    code = "import trtcore; print(trtcore.cpu_isa())"
    shown = subprocess.run([sys.executable, "-c", code], env=_env(level), capture_output=True, text=True, check=True)
    assert shown.stdout.startswith(level + " "), shown.stdout
    tests = [os.path.join(HERE, t) for t in LEVEL_TESTS]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                       env=_env(level), capture_output=True, text=True, cwd=HERE)
    assert r.returncode == 0, "level %s:\n%s\n%s" % (level, r.stdout[-4000:], r.stderr[-2000:])
    assert " passed" in r.stdout


def test_bad_level_is_a_clear_error(tmp_path):
    exe = os.environ.get("TRTCORE_EXEC")
    if not exe or not os.path.exists(exe):
        pytest.skip("TRTCORE_EXEC (the standalone executable) not given")
    r = subprocess.run([exe, "--version"], env=_env("sse9"), capture_output=True, text=True)
    assert r.returncode != 0
    assert "TRTCORE_CPU_ISA='sse9' is not a level" in r.stderr and "usable here: baseline" in r.stderr
    assert r.stdout == ""
    r = subprocess.run([exe, "--version"], env=_env("avx2"), capture_output=True, text=True)
    if "avx2" in _compiled_levels() and _runs_here("avx2"):
        assert r.returncode == 0 and "cpu kernels: avx2 " in r.stdout


def test_baseline_code_uses_no_avx_registers():
    """Only functions in the avx2/avx512 namespaces may touch ymm/zmm registers: a standard-library template or
    inline function compiled there with AVX and picked by the linker for baseline callers would crash older cpus."""
    exe = os.environ.get("TRTCORE_EXEC")
    objdump = shutil.which("objdump")
    if not exe or not os.path.exists(exe) or not objdump:
        pytest.skip("needs TRTCORE_EXEC and objdump")
    if not {"avx2", "avx512"} & set(_compiled_levels()):
        pytest.skip("a one-level build")
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-C", exe], capture_output=True, text=True,
                         check=True).stdout
    bad, level_fns, fn = {}, 0, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            fn = m.group(1)
            continue
        if fn and re.search(r"%[yz]mm\d", line):
            if "::avx2::" in fn or "::avx512::" in fn:
                level_fns += 1
            else:
                bad[fn] = bad.get(fn, 0) + 1
    assert level_fns > 100, "the level kernels should use AVX registers (is the target pragma in effect?)"
    assert not bad, "AVX registers outside the level namespaces: %s" % sorted(bad)[:10]
