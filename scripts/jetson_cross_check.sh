#!/usr/bin/env bash
# The Jetson check without a board: cross-builds trtcore-exec (cpu backend) for aarch64 with Debian's cross compiler,
# runs it under qemu-aarch64 on a small CNN and Fashion-MNIST samples (scikit-learn's digits where the dataset is
# not installed), and compares its outputs with the x86 build's and with onnxruntime's. Each executable builds
# its own plan (plans record the cpu architecture). With --cuda it also compiles the cuda backend for the
# Jetson GPU architectures (device code only: the host code of that check is x86).
#   bash scripts/jetson_cross_check.sh [--no-install] [--cuda] [--module generic|orin|xavier] [--work DIR]
# Environment: TRTCORE_EXEC (the x86 trtcore-exec; default: build/standalone, built here as scripts/test.sh does),
# PYTHON (with numpy and onnx; default .venv/bin/python). Exit code 0 when every check passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

INSTALL=1 CUDA_CHECK=0 WORK="" MODULE=generic
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-install) INSTALL=0 ;;
    --cuda) CUDA_CHECK=1 ;;
    --work) WORK=$2; shift ;;
    --module) MODULE=$2; shift ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown argument '$1' (expected --no-install, --cuda, --module NAME, --work DIR)" >&2; exit 1 ;;
  esac
  shift
done

log() { printf '[jetson] %s\n' "$*" >&2; }
die() { printf '[jetson] FAIL: %s\n' "$*" >&2; exit 1; }

PY=${PYTHON:-}
if [[ -z $PY ]]; then
  if [[ -x .venv/bin/python ]]; then PY=$ROOT/.venv/bin/python; else PY=$(command -v python3); fi
fi
# cmake and ninja may come from the virtual environment (scripts/setup.sh installs them there).
export PATH="$PATH:$(dirname "$PY")"
command -v cmake >/dev/null || die "cmake not found (bash scripts/setup.sh installs it into .venv)"
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
LAUNCH=()
command -v ccache >/dev/null && LAUNCH=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
JOBS=$(nproc 2>/dev/null || echo 2)

find_qemu() { command -v qemu-aarch64 || command -v qemu-aarch64-static || true; }
QEMU=$(find_qemu)
if ! command -v aarch64-linux-gnu-g++ >/dev/null || [[ -z $QEMU ]]; then
  [[ $INSTALL == 1 ]] ||
    die "aarch64-linux-gnu-g++ or qemu-aarch64 missing (apt-get install g++-aarch64-linux-gnu qemu-user-static)"
  command -v apt-get >/dev/null && [[ $(id -u) == 0 ]] || die "cross tools missing and apt-get is not usable here"
  log "installing g++-aarch64-linux-gnu and qemu-user-static"
  pkgs=(g++-aarch64-linux-gnu qemu-user-static)
  export DEBIAN_FRONTEND=noninteractive
  timeout 900 apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
    { timeout 300 apt-get update -q >/dev/null 2>&1 &&
      timeout 900 apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; } ||
    die "apt-get install ${pkgs[*]} failed"
  QEMU=$(find_qemu)
fi
SYSROOT=/usr/aarch64-linux-gnu

# ---- the aarch64 build: library and executable, cpu backend only ----
ARM_BUILD=build/jetson-aarch64
[[ $MODULE == generic ]] || ARM_BUILD=build/jetson-aarch64-$MODULE
mkdir -p build
log "cross-building trtcore-exec for aarch64 ($MODULE) in $ARM_BUILD (log: $ARM_BUILD.log)"
{ cmake -S . -B $ARM_BUILD "${GEN[@]}" "${LAUNCH[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/jetson-aarch64.cmake" -DJETSON_MODULE="$MODULE" \
    -DTRTCORE_PYTHON=OFF -DTRTCORE_CUDA=OFF -DTRTCORE_TENSORRT=OFF &&
  cmake --build $ARM_BUILD -j "$JOBS" --target trtcore_exe; } > $ARM_BUILD.log 2>&1 ||
  { tail -30 $ARM_BUILD.log >&2; die "aarch64 cross build failed"; }
ARM_EXEC=$ROOT/$ARM_BUILD/trtcore-exec
machine=$(LC_ALL=C aarch64-linux-gnu-readelf -h "$ARM_EXEC" | sed -n 's/^ *Machine: *//p')
[[ $machine == AArch64 ]] || die "$ARM_EXEC is built for '$machine', expected AArch64"
# JetPack 6 is Ubuntu 22.04: glibc 2.35 and libstdc++ of GCC 12 (GLIBCXX_3.4.30).
glibc=$(aarch64-linux-gnu-objdump -T "$ARM_EXEC" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)
glibcxx=$(aarch64-linux-gnu-objdump -T "$ARM_EXEC" | grep -o 'GLIBCXX_3\.4\.[0-9]*' | sort -uV | tail -1)
[[ $(printf '%s\n' "$glibc" GLIBC_2.35 | sort -V | tail -1) == GLIBC_2.35 ]] ||
  die "$ARM_EXEC needs $glibc; JetPack 6 (Ubuntu 22.04) has GLIBC_2.35"
[[ $(printf '%s\n' "$glibcxx" GLIBCXX_3.4.30 | sort -V | tail -1) == GLIBCXX_3.4.30 ]] ||
  die "$ARM_EXEC needs $glibcxx; JetPack 6 (Ubuntu 22.04) has GLIBCXX_3.4.30"
log "ok: $ARM_EXEC is an AArch64 executable (needs $glibc, $glibcxx: within Ubuntu 22.04's)"

# ---- the x86 build (as scripts/test.sh builds it) ----
X86_EXEC=${TRTCORE_EXEC:-}
if [[ -z $X86_EXEC ]]; then
  log "building the x86 trtcore-exec in build/standalone (log: build/standalone.log)"
  { cmake -S . -B build/standalone "${GEN[@]}" "${LAUNCH[@]}" -DTRTCORE_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release \
      -DPython_EXECUTABLE="$PY" && cmake --build build/standalone -j "$JOBS" --target trtcore_exe; } \
    > build/standalone.log 2>&1 || { tail -30 build/standalone.log >&2; die "x86 build failed"; }
  X86_EXEC=$ROOT/build/standalone/trtcore-exec
fi
[[ -x $X86_EXEC ]] || die "x86 executable '$X86_EXEC' not found"

# ---- model and samples ----
if [[ -z $WORK ]]; then WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
"$PY" - "$WORK" <<'EOF' || die "could not write the model and samples"
# A small CNN (Conv+BatchNorm+Relu, MaxPool, Conv+Relu, GlobalAveragePool, Gemm) with seeded He-initialised
# weights, and 28x28 grey images as raw float32 files.
import gzip, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

work = sys.argv[1]
rng = np.random.default_rng(7)
def he(*shape):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)
inits = {"w1": he(16, 1, 3, 3), "b1": np.zeros(16, np.float32),
         "scale": rng.uniform(0.5, 1.5, 16).astype(np.float32), "shift": rng.normal(0, 0.1, 16).astype(np.float32),
         "mean": rng.normal(0, 0.1, 16).astype(np.float32), "var": rng.uniform(0.5, 2, 16).astype(np.float32),
         "w2": he(32, 16, 3, 3), "b2": rng.normal(0, 0.05, 32).astype(np.float32),
         "w3": he(64, 32, 3, 3), "b3": rng.normal(0, 0.05, 64).astype(np.float32),
         "fc": he(10, 64), "fcb": rng.normal(0, 0.05, 10).astype(np.float32), "flat": np.array([0, -1], np.int64)}
nodes = [
    helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c1", "scale", "shift", "mean", "var"], ["n1"]),
    helper.make_node("Relu", ["n1"], ["r1"]),
    helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c2"], ["r2"]),
    helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Conv", ["p2", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c3"], ["r3"]),
    helper.make_node("GlobalAveragePool", ["r3"], ["g"]),
    helper.make_node("Reshape", ["g", "flat"], ["f"]),
    helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1),
]
graph = helper.make_graph(nodes, "fmnist_cnn",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(work, "model.onnx"))

count = 20
idx = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
if os.path.exists(idx):
    with gzip.open(idx, "rb") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16)
    images, source = raw.reshape(-1, 28, 28)[:count].astype(np.float32) / 255.0, "Fashion-MNIST test set"
else:
    from sklearn.datasets import load_digits
    digits = load_digits().images[:count] / 16.0
    images = np.pad(np.kron(digits, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2))).astype(np.float32)
    source = "scikit-learn digits (3x upscaled, padded to 28x28)"
os.makedirs(os.path.join(work, "samples"), exist_ok=True)
for i, im in enumerate(images):
    im.reshape(1, 28, 28).tofile(os.path.join(work, "samples", "img%03d.bin" % i))
print("[jetson] model: 3-conv CNN; %d samples from the %s" % (count, source), file=sys.stderr)
EOF

# ---- run both builds: the thesis script's flags, each executable building its own plan ----
arm() { "$QEMU" -L "$SYSROOT" "$ARM_EXEC" "$@"; }
run_logged() {  # name, command...: runs it, keeps its output in $WORK/name.log, fails with its tail
  local name=$1 rc=0; shift
  "$@" > "$WORK/$name.log" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { tail -20 "$WORK/$name.log" >&2; die "$name: exit code $rc ($*)"; }
}
common=(--dir="$WORK/samples" --batch=8 --iter=2 --backend=cpu)
log "x86: building its plan and running the samples"
run_logged x86 "$X86_EXEC" --file="$WORK/model.onnx" --plan="$WORK/x86.plan" --output_dir="$WORK/out_x86" \
  "${common[@]}"
log "aarch64 under $(basename "$QEMU"): building its plan and running the samples"
run_logged arm_build arm --file="$WORK/model.onnx" --plan="$WORK/arm.plan" --output_dir="$WORK/out_arm" "${common[@]}"
log "aarch64: loading the saved plan (--plan alone) and running the samples again"
run_logged arm_load arm --plan="$WORK/arm.plan" --dir="$WORK/samples" --output_dir="$WORK/out_arm_load" --batch=8
grep -q "samples: 20 files in 3 batches" "$WORK/arm_load.log" ||
  { cat "$WORK/arm_load.log" >&2; die "aarch64 run did not report 20 samples in 3 batches"; }
run_logged arm_inspect arm inspect --plan "$WORK/arm.plan"
# A plan records the cpu architecture it was built for: the x86 plan must be refused with that reason.
if arm --plan="$WORK/x86.plan" --dir="$WORK/samples" --output_dir="$WORK/out_cross" > "$WORK/cross.log" 2>&1; then
  die "the aarch64 executable ran the x86 plan"
fi
grep -q "cpu_arch 'x86_64'" "$WORK/cross.log" ||
  { cat "$WORK/cross.log" >&2; die "x86 plan refused without naming cpu_arch"; }
reason=$(grep -o "plan was built for[^;]*" "$WORK/cross.log" | head -1)
log "ok: the aarch64 executable refuses the x86 plan ($reason)"

"$PY" - "$WORK" <<'EOF' || die "outputs differ"
# aarch64 vs x86 within FP32 rounding (different SIMD paths and FMA contraction differ in the last bits), and
# both against onnxruntime at the test suite's FP32 tolerance.
import os, sys
import numpy as np

work = sys.argv[1]
names = sorted(os.listdir(os.path.join(work, "samples")))
def rel_l2(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b.astype(np.float64)), 1e-30))
try:
    import onnxruntime as ort
    sess = ort.InferenceSession(os.path.join(work, "model.onnx"), providers=["CPUExecutionProvider"])
except ImportError:
    sess = None
    print("[jetson] onnxruntime not importable: comparing the two builds only", file=sys.stderr)
worst = {"aarch64 vs x86": 0.0, "aarch64 reload vs aarch64": 0.0, "x86 vs onnxruntime": 0.0,
         "aarch64 vs onnxruntime": 0.0}
limit = {"aarch64 vs x86": 1e-5, "aarch64 reload vs aarch64": 1e-5, "x86 vs onnxruntime": 1e-4,
         "aarch64 vs onnxruntime": 1e-4}
bad = []
for name in names:
    read = lambda d: np.fromfile(os.path.join(work, d, name), dtype=np.float32)
    x86, arm, again = read("out_x86"), read("out_arm"), read("out_arm_load")
    if not (x86.size == arm.size == again.size == 10):
        bad.append("%s: output sizes %d/%d/%d, expected 10" % (name, x86.size, arm.size, again.size))
        continue
    pairs = {"aarch64 vs x86": (arm, x86), "aarch64 reload vs aarch64": (again, arm)}
    if sess is not None:
        x = np.fromfile(os.path.join(work, "samples", name), dtype=np.float32).reshape(1, 1, 28, 28)
        ref = sess.run(["logits"], {"input": x})[0].ravel()
        pairs.update({"x86 vs onnxruntime": (x86, ref), "aarch64 vs onnxruntime": (arm, ref)})
    for what, (a, b) in pairs.items():
        err = rel_l2(a, b)
        worst[what] = max(worst[what], err)
        if not err <= limit[what]:
            bad.append("%s: %s relative L2 %.3g > %g" % (name, what, err, limit[what]))
for what, err in worst.items():
    if what.endswith("onnxruntime") and sess is None:
        continue
    print("[jetson] %-26s worst relative L2 %.3g over %d samples (limit %g)" % (what, err, len(names), limit[what]),
          file=sys.stderr)
for line in bad:
    print("[jetson] " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
log "ok: aarch64 (qemu) outputs match x86 and onnxruntime on every sample"

# ---- cuda backend: device code for the Jetson GPUs ----
if [[ $CUDA_CHECK == 1 ]]; then
  NVCC=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  [[ -x $NVCC ]] || die "--cuda: nvcc not found"
  cuda_version=$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
  archs=87
  if "$NVCC" --list-gpu-arch 2>/dev/null | grep -qx compute_72; then
    archs="72;87"
  else
    log "nvcc $cuda_version no longer compiles sm_72 (Xavier: CUDA 12.x or older); checking sm_87 only"
  fi
  CUDA_BUILD=build/jetson-cuda-check
  log "compiling the cuda backend for sm_${archs//;/, sm_} with nvcc $cuda_version (log: $CUDA_BUILD.log)"
  { CUDACXX=$NVCC cmake -S . -B $CUDA_BUILD "${GEN[@]}" "${LAUNCH[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DTRTCORE_PYTHON=OFF -DTRTCORE_EXECUTABLE=OFF -DTRTCORE_CUDA=ON -DTRTCORE_TENSORRT=OFF \
      -DTRTCORE_CUDA_ARCHITECTURES="$archs" -DPython_EXECUTABLE="$PY" &&
    cmake --build $CUDA_BUILD -j "$JOBS" --target trtcore_cuda; } > $CUDA_BUILD.log 2>&1 ||
    { grep -E "error" -A3 $CUDA_BUILD.log | head -40 >&2; die "cuda backend does not compile for sm_${archs}"; }
  # The library holds code for each architecture (cuobjdump where installed, else the compile lines say so).
  CUOBJDUMP=$(dirname "$NVCC")/cuobjdump
  for a in ${archs//;/ }; do
    if [[ -x $CUOBJDUMP ]]; then
      "$CUOBJDUMP" --list-elf $CUDA_BUILD/libtrtcore_cuda.a 2>/dev/null | grep -q "sm_$a" ||
        die "libtrtcore_cuda.a holds no sm_$a code"
    else
      grep -qF "code=[compute_$a,sm_$a]" $CUDA_BUILD/build.ninja $CUDA_BUILD/CMakeFiles/*.make 2>/dev/null ||
        die "the cuda sources were not compiled for sm_$a"
    fi
  done
  log "ok: the cuda backend compiles for sm_${archs//;/, sm_} (host code x86)"
fi
log "all checks passed"
