#!/usr/bin/env bash
# bench/run_all_gpu.sh's `serving` step: ResNet-50 FP16 on the cuda backend served by `trtcore serve` (dynamic
# batching, 2 instances) at 1, 8 and 32 concurrent clients over HTTP and gRPC, next to direct Engine/Context calls.
#   bash bench/serving_gpu.sh RESULTS_ROOT WORK_DIR
# PyTriton needs numpy<2. When the interpreter (TRTCORE_PYTHON, default python3; trtcore installed there) lacks it,
# as the GPU machine's numpy-2 python does, a virtual environment is made from .whl/trtcore-serving-cpXY.tar.xz
# (bench/pack_serving_site.sh, run where pip works; carry .whl): its packages first, the interpreter's after them.
# Without that archive, or where the bundled tritonserver cannot run, the step skips with a line saying why.
set -uo pipefail
cd "$(dirname "$0")/.."
RES=${1:?usage: serving_gpu.sh RESULTS_ROOT WORK_DIR}
WORK=${2:?usage: serving_gpu.sh RESULTS_ROOT WORK_DIR}
PY=${TRTCORE_PYTHON:-python3}
skip() { echo "SKIPPED serving: $*"; exit 0; }

usable() {  # prints why $1 cannot serve, or nothing
  "$1" - << 'EOF' 2>&1 | tail -1
try:
    import pytriton, tritonclient.grpc, tritonclient.http  # noqa: F401
    from trtcore.serving import numpy_mismatch
    print(numpy_mismatch())
except Exception as e:
    print("%s: %s" % (type(e).__name__, e))
EOF
}

SPY=$PY
why=$(usable "$PY")
if [[ -n $why ]]; then
  tag=cp$("$PY" -c 'import sys; print("%d%d" % sys.version_info[:2])')
  pack=.whl/trtcore-serving-$tag.tar.xz
  [[ -f $pack ]] || skip "$PY cannot serve ($why) and $pack is missing: make it where pip works with" \
    "'bash bench/pack_serving_site.sh $("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')' and carry .whl"
  V=/tmp/trtcore-serving-venv
  rm -rf "$V"
  "$PY" -m venv --without-pip "$V" || skip "could not create a virtual environment with $PY"
  SPY=$V/bin/python
  sp=$("$SPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  # Python's own tarfile/lzma: the machine may have no xz
  "$PY" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], **(
    {'filter': 'tar'} if hasattr(tarfile, 'tar_filter') else {}))" "$pack" "$sp" || skip "could not unpack $pack"
  # the interpreter's own packages (trtcore, onnx, ...) come after the archive's (numpy<2, PyTriton)
  "$PY" -c "import site; print('\n'.join(site.getsitepackages()))" > "$sp/zz-trtcore-base-env.pth"
  why=$(usable "$SPY")
  [[ -z $why ]] || skip "the environment made from $pack cannot serve: $why"
  echo "serving environment $V: $pack, then $(tr '\n' ' ' < "$sp/zz-trtcore-base-env.pth")"
fi

# Triton's Python-backend stub for this Python links the interpreter's shared libpython: without it nothing loads.
read -r libdir ver sp < <("$SPY" -c "
import os, sys, sysconfig, pytriton
print(sysconfig.get_config_var('LIBDIR'), '%d.%d' % sys.version_info[:2], os.path.dirname(os.path.dirname(pytriton.__file__)))")
stub=$sp/pytriton/tritonserver/python_backend_stubs/$ver/triton_python_backend_stub
[[ -f $stub ]] || skip "PyTriton has no Python-backend stub for Python $ver"
missing=$(LD_LIBRARY_PATH=$libdir:$sp/nvidia_pytriton.libs ldd "$stub" "$sp/pytriton/tritonserver/bin/tritonserver" |
          grep "not found" | sort -u)
[[ -z $missing ]] || skip "the bundled tritonserver or its Python $ver stub lacks shared libraries: $missing"

exec "$SPY" bench/serving_load.py --model resnet50 --backend cuda --precision fp16 --max-batch 32 \
  --clients 1 8 32 --instances 2 --max-queue-delay-us 100 --requests 20000 --seconds 4 --rounds 2 \
  --name serving_load_resnet50 --out "$RES" --work "$WORK"
