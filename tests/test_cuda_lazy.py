"""The cuda backend is a library of its own (libtrtcore_cuda.so) opened only when the cuda backend is asked for: a cpu
run of the executable or the Python module never maps cuDNN, cuBLAS(Lt) or the CUDA runtime (the dynamic loader's
own trace and /proc/self/maps are the evidence); a missing or broken library is an error naming the file, and
`--backend auto` then runs on the cpu."""
import os
import subprocess
import sys

import pytest

import models
import trtcore
from conftest import trtcore_executable, save_model

GPU_LIBS = ("libcudnn", "libcublas", "libcudart", "libtrtcore_cuda", "libcuda.so")


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    return save_model(models.mobilenet_v2(size=32, seed=3), tmp_path_factory.mktemp("lazy") / "m.onnx")


def _exec(args, **env):
    e = dict(os.environ, **env)
    return subprocess.run([trtcore_executable(), *map(str, args)], capture_output=True, text=True, timeout=300, env=e)


def _loaded_libraries(loader_trace):
    """Files the dynamic loader opened, from its LD_DEBUG=files trace ("file=<name> [0];  needed by/dynamically
    loaded by ...")."""
    names = set()
    for line in loader_trace.splitlines():
        if "file=" in line and ("needed by" in line or "dynamically loaded by" in line):
            names.add(line.split("file=", 1)[1].split()[0])
    return names


def test_cpu_run_of_the_executable_loads_no_gpu_library(onnx_path):
    proc = _exec(["--file=%s" % onnx_path, "--backend=cpu", "--iter=2", "--batch=1"], LD_DEBUG="files")
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = _loaded_libraries(proc.stderr)
    assert any("libstdc++" in n or "libc.so" in n for n in loaded), "the loader trace was not captured"
    assert not [n for n in loaded if any(g in n for g in GPU_LIBS)], sorted(loaded)


def test_cpu_run_of_the_module_maps_no_gpu_library(onnx_path):
    code = ("import numpy as np, trtcore\n"
            "e = trtcore.build(%r, batch=1, backend='cpu')\n"
            "e.infer(np.zeros((1, 3, 32, 32), np.float32))\n"
            "print(open('/proc/self/maps').read())\n" % str(onnx_path))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (os.path.dirname(os.path.dirname(trtcore.__file__)), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "_core" in proc.stdout
    mapped = [line for line in proc.stdout.splitlines() if any(g in line for g in GPU_LIBS)]
    assert not mapped, mapped


def _needs_cuda_build():
    if "cuda" not in trtcore.compiled_backends():
        pytest.skip("the cuda backend is not compiled into this build")


def test_missing_cuda_library_is_named_and_auto_falls_back(onnx_path, tmp_path):
    _needs_cuda_build()
    missing = tmp_path / "nowhere" / "libtrtcore_cuda.so"
    proc = _exec(["--file=%s" % onnx_path, "--backend=cuda", "--iter=1"], TRTCORE_CUDA_LIBRARY=str(missing))
    assert proc.returncode != 0
    assert "backend 'cuda': cannot load %s" % missing in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _exec(["--file=%s" % onnx_path, "--backend=auto", "--iter=1"], TRTCORE_CUDA_LIBRARY=str(missing))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert " on cpu " in proc.stdout or "backend: cpu" in proc.stdout or "cpu" in proc.stdout


def test_broken_cuda_library_is_named(onnx_path, tmp_path):
    _needs_cuda_build()
    broken = tmp_path / "libtrtcore_cuda.so"
    broken.write_bytes(b"not a shared library\n" * 10)
    proc = _exec(["--file=%s" % onnx_path, "--backend=cuda", "--iter=1"], TRTCORE_CUDA_LIBRARY=str(broken))
    assert proc.returncode != 0
    assert "cannot load %s" % broken in proc.stderr, proc.stderr
    code = "import trtcore; print(trtcore.cuda_available())"
    env = dict(os.environ, TRTCORE_CUDA_LIBRARY=str(broken))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr


def test_cuda_library_is_found_beside_the_binary_and_loads_on_request(onnx_path):
    """With the library installed beside the module/executable, asking for cuda opens it (and, through it, cuDNN):
    on a machine without a GPU the answer is the device error, not a missing library."""
    _needs_cuda_build()
    proc = _exec(["--file=%s" % onnx_path, "--backend=cuda", "--iter=1"], LD_DEBUG="files")
    loaded = _loaded_libraries(proc.stderr)
    assert any("libtrtcore_cuda.so" in n for n in loaded), sorted(loaded)
    assert any("libcudnn" in n for n in loaded), sorted(loaded)
    if proc.returncode != 0:
        assert "no usable CUDA device" in proc.stderr, proc.stderr[-2000:]
