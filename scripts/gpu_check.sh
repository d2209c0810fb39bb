#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and preinstalled Python packages (torch, onnx, onnxruntime, pybind11,
# scikit-build-core, the nvidia-cudnn wheel): build trtcore with the cuda backend and run the GPU tests.
# Usage: scripts/gpu_check.sh [OUT_DIR]. The experiments: bench/run_all_gpu.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/trtcore-gpu}
mkdir -p "$OUT"
PY=${TRTCORE_PYTHON:-python3}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
# CUTLASS's headers for the int8 GEMM tactic: a carried nvidia-cutlass wheel (no package index on the GPU machine)
for w in .whl/nvidia_cutlass-*.whl; do [[ -f $w ]] && "$PY" -m pip install -q --no-deps --no-index "$w"; done
t0=$(date +%s)
"$PY" -m pip install -q --no-build-isolation --no-deps -Ccmake.define.TRTCORE_CUDA=ON \
  -Ccmake.define.TRTCORE_CUDA_ARCHITECTURES=90 -Cbuild-dir=/tmp/trtcore-build . > "$OUT/build.log" 2>&1
rc=$?
echo "build rc=$rc in $(( $(date +%s) - t0 )) s"
if [[ $rc != 0 ]]; then grep -E "error|Error" "$OUT/build.log" | head -40; exit 1; fi
(cd /tmp && "$PY" -c "import trtcore; print('backends', trtcore.compiled_backends(), 'cuda usable', trtcore.cuda_available())")
(cd tests && "$PY" -m pytest -q -p no:cacheprovider -m gpu . -ra) > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests rc=$?"; tail -45 "$OUT/gpu_tests.log"
