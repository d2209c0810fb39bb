"""Jetson without a board: scripts/jetson_cross_check.sh cross-builds trtcore-exec for aarch64, runs a CNN on
Fashion-MNIST samples under qemu-aarch64 and compares with the x86 build and onnxruntime; with --cuda it compiles
the cuda backend for the Jetson GPU architectures. Slow (a cold cross build takes minutes): .ci/run runs this
file with --runslow."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "jetson_cross_check.sh")


def _missing_cross_tools():
    tools = ("aarch64-linux-gnu-g++", "aarch64-linux-gnu-readelf", "aarch64-linux-gnu-objdump")
    missing = [t for t in tools if not shutil.which(t)]
    if not (shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")):
        missing.append("qemu-aarch64")
    return missing


def _run_script(*args, timeout):
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(["bash", SCRIPT, "--no-install", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)
    return proc, proc.stdout + proc.stderr


def _require_cross_tools():
    missing = _missing_cross_tools()
    if missing:
        pytest.skip("%s not installed (apt-get install g++-aarch64-linux-gnu qemu-user-static)" % ", ".join(missing))
    if not shutil.which("cmake") and not os.path.exists(os.path.join(os.path.dirname(sys.executable), "cmake")):
        pytest.skip("cmake not found")


@pytest.mark.slow
def test_aarch64_build_under_qemu_matches_x86():
    _require_cross_tools()
    proc, output = _run_script(timeout=3000)
    assert proc.returncode == 0, output[-4000:]
    # The script's own checks, each named in its log: a real AArch64 binary, thesis flags, plans per arch, outputs.
    assert "is an AArch64 executable" in output
    assert "refuses the x86 plan" in output and "cpu_arch 'x86_64'" in output
    assert "aarch64 vs x86" in output and "outputs match x86" in output


def _cuda_build_tools():
    nvcc = os.environ.get("CUDACXX") or shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    if not os.access(nvcc, os.X_OK):
        return None
    try:  # cuDNN's headers come from NVIDIA's wheel here (scripts/setup.sh installs it where nvcc exists)
        import nvidia.cudnn  # noqa: F401
    except ImportError:
        return None
    return nvcc


@pytest.mark.slow
def test_cuda_backend_compiles_for_jetson_gpus():
    _require_cross_tools()
    if not _cuda_build_tools():
        pytest.skip("nvcc or cuDNN's headers (nvidia-cudnn wheel) not found")
    proc, output = _run_script("--cuda", timeout=3600)
    assert proc.returncode == 0, output[-4000:]
    assert "the cuda backend compiles for" in output and "sm_87" in output
