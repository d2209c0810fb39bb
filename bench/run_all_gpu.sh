#!/usr/bin/env bash
# Every GPU experiment in one go on a machine with preinstalled packages (torch, torchvision, onnx, onnxruntime,
# pybind11, scikit-build-core, cuDNN): build with the cuda backend, GPU tests, then the experiments, most important
# first, each under its own time limit so one slow step cannot starve the rest.
#   bash bench/run_all_gpu.sh OUT_DIR [FASHION_MNIST_DIR]
# Leaves OUT_DIR/results.tgz (one latest-run folder per experiment, as in bench/results/) and OUT_DIR/logs.tgz;
# `python bench/adopt_results.py OUT_DIR/results.tgz` adds the runs to bench/results/, moving the runs they replace
# into bench/results/history/. STEPS="build gpu_tests ..." runs only the named steps (default: all), e.g. to split
# the work over several sessions of a time-limited machine. The serving step needs .whl/ carried along (see
# bench/serving_gpu.sh): STEPS="build serving" with .whl/trtcore-serving-cp312.tar.xz is one short run.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: run_all_gpu.sh OUT_DIR [FASHION_MNIST_DIR]}
FMNIST=${2:-/usr/share/datasets/fashion-mnist}
PY=${TRTCORE_PYTHON:-python3}
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
W=$(mktemp -d)  # results and logs are built here; only the two archives go to OUT
mkdir -p "$OUT" "$W/res" "$W/logs"
want() { [[ " ${STEPS:-all} " == *" all "* || " ${STEPS:-all} " == *" $1 "* ]]; }
step() {  # step NAME SECONDS COMMAND...
  local name=$1 secs=$2; shift 2
  want "$name" || return 0
  local t0=$(date +%s)
  timeout "$secs" "$@" > "$W/logs/$name.log" 2>&1
  local rc=$?
  echo "[$name] rc=$rc in $(( $(date +%s) - t0 )) s"; tail -4 "$W/logs/$name.log"
  # Packed after every step, so whatever finished comes back even if a later step is cut off.
  tar czf "$OUT/results.tgz" -C "$W/res" . 2>/dev/null; tar czf "$OUT/logs.tgz" -C "$W/logs" . 2>/dev/null
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
# CUTLASS's headers for the int8 GEMM tactic: a carried nvidia-cutlass wheel (no package index on the GPU machine)
for w in .whl/nvidia_cutlass-*.whl; do [[ -f $w ]] && "$PY" -m pip install -q --no-deps --no-index "$w"; done
step build 300 "$PY" -m pip install -q --no-build-isolation --no-deps -Ccmake.define.TRTCORE_CUDA=ON \
  -Ccmake.define.TRTCORE_CUDA_ARCHITECTURES=90 -Cbuild-dir=/tmp/trtcore-build .
step gpu_tests 300 bash -c "cd tests && $PY -m pytest -q -p no:cacheprovider -m gpu . -ra"
[[ -f "$W/logs/gpu_tests.log" ]] && grep -E "^(FAILED|ERROR)" "$W/logs/gpu_tests.log" | head -20
if [[ -f "$W/logs/gpu_tests.log" ]]; then  # the test log as a results folder of its own, named like the experiments'
  G="$W/res/gpu_tests" DEV=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  COMMIT=${TRTCORE_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo nocommit)}
  mkdir -p "$G" && cp "$W/logs/gpu_tests.log" "$G/"
  printf '# GPU tests\n\n- Command: `cd tests && pytest -q -m gpu . -ra`\n- Date: %s; commit %s\n- Device: %s\n- Result: %s\n' \
    "$(date '+%Y-%m-%d %H:%M')" "$COMMIT" "$DEV" "$(tail -1 "$G/gpu_tests.log")" > "$G/README.md"
  SLUG=$(echo "$DEV" | sed 's/[^A-Za-z0-9._-]\+/-/g')
  printf '{"run": "gpu_tests-%s-%s-%s", "experiment": "gpu_tests", "device": "%s", "date": "%s", "commit": "%s"}\n' \
    "$SLUG" "$(date +%Y%m%d)" "$COMMIT" "$SLUG" "$(date '+%Y-%m-%d %H:%M')" "$COMMIT" > "$G/run.json"
  tar czf "$OUT/results.tgz" -C "$W/res" . 2>/dev/null  # again: the step packed before this folder existed
fi
R="--out $W/res --work /tmp/trtcore-work"
# SWEEP_MAIN="..." replaces the main sweep's batch/peer arguments (e.g. fewer batches on a short machine lease).
step sweep_main 360 "$PY" bench/batch_sweep.py --models resnet50 mobilenet_v2 --no-cpu --plan-per-batch --iterations 30 \
  ${SWEEP_MAIN:---batches 1 8 64 256 --int8 --compile-batches 1 256} $R
step layer_profile 50 "$PY" bench/layer_profile.py --model resnet50 --batch 1 $R
step layer_profile_b256 60 "$PY" bench/layer_profile.py --model resnet50 --batch 256 --no-agreement --name layer_profile_b256 $R
step layer_profile_mnv2 40 "$PY" bench/layer_profile.py --model mobilenet_v2 --batch 1 --no-agreement --name layer_profile_mobilenet_v2 $R
step fashion_mnist 60 "$PY" bench/fashion_mnist.py --epochs 2 --runs 5 --data "$FMNIST" $R
step input_size 50 "$PY" bench/input_size_sweep.py --batch 1 --iterations 10 $R
step concurrent 240 "$PY" bench/concurrent_throughput.py --model resnet50 --seconds 3 $R
step sweep_more 110 "$PY" bench/batch_sweep.py --models resnet18 shufflenet_v2 squeezenet --batches 1 8 64 256 --no-cpu --plan-per-batch --iterations 20 --name batch_sweep_more $R
# ResNet-50 FP16 behind `trtcore serve`; PyTriton needs numpy<2: carry .whl (bench/pack_serving_site.sh) or it skips
step serving 120 bash bench/serving_gpu.sh "$W/res" /tmp/trtcore-work
