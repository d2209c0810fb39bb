#!/usr/bin/env bash
# The Python module and trtcore-exec built with a sanitizer (clang), then pytest with the sanitizer's runtime preloaded
# into CPython. Any sanitizer report fails the step, also one from a child process (the CLI, trtcore-exec, workers):
# every report is written to a file under build/<mode>/reports and listed at the end.
#   scripts/sanitize.sh asan [pytest args...]   AddressSanitizer + UndefinedBehaviorSanitizer (default: the cpu suite
#                                               subset below)
#   scripts/sanitize.sh tsan [pytest args...]   ThreadSanitizer (default: the concurrency tests)
# Exit status: pytest's, or 3 when a sanitizer reported anything, or 2 when the build is impossible here (no clang
# with the sanitizer's runtime), which scripts/test.sh reports as a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:?usage: scripts/sanitize.sh asan|tsan [pytest args...]}
shift
PY=${TRTCORE_PYTHON:-}
[[ -n "$PY" ]] || for p in .venv/bin/python /work/main/.venv/bin/python python3; do
  if command -v "$p" > /dev/null && "$p" -c "import pybind11, onnx, pytest" 2> /dev/null; then PY=$p; break; fi
done
[[ -d .venv/bin ]] && export PATH="$PWD/.venv/bin:$PATH"
extra_cmake=()
case $MODE in
  asan)
    CXX=${SANITIZE_CXX:-clang++}
    runtime_name=libclang_rt.asan-x86_64.so
    # vptr: pybind11's hidden visibility duplicates type_info across objects, which the vptr check misreads.
    flags="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -gline-tables-only -shared-libsan" ;;
  tsan)
    # gcc's runtime: clang 14's libclang_rt.tsan-x86_64.so crashes on start when preloaded (even into /bin/true).
    CXX=${SANITIZE_CXX:-g++}
    runtime_name=libtsan.so
    flags="-fsanitize=thread -g1"
    # libgomp is not built with TSan, so its barriers are invisible to it: the tsan build leaves OpenMP out and
    # the kernels use the project's own thread pool only.
    extra_cmake=(-DCMAKE_DISABLE_FIND_PACKAGE_OpenMP=ON) ;;
  *) echo "unknown mode $MODE (asan or tsan)" >&2; exit 64 ;;
esac
runtime=$("$CXX" -print-file-name="$runtime_name" 2> /dev/null || true)
if ! command -v "$CXX" > /dev/null || [[ ! -f $runtime ]]; then
  echo "[sanitize] $CXX with $runtime_name is not installed: skipping the $MODE step" >&2
  exit 2
fi
flags="$flags -fno-omit-frame-pointer"
# The preloaded runtime is the one every binary uses; the rpath lets trtcore-exec also start without the preload.
link="$flags -Wl,-rpath,$(dirname "$runtime")"

# One instruction-set level of the cpu kernels (the best this machine runs): the sanitized build stays quick.
level=baseline
grep -qw avx2 /proc/cpuinfo 2> /dev/null && level=avx2
grep -qw avx512bw /proc/cpuinfo 2> /dev/null && level=avx512
extra_cmake+=(-DTRTCORE_CPU_LEVELS=$level)

BD=build/$MODE
# a build folder configured with another compiler is started again (CMake cannot switch compilers in place)
[[ ! -f $BD/.compiler || "$(cat "$BD/.compiler")" == "$CXX" ]] || rm -rf "$BD"
mkdir -p "$BD"
echo "$CXX" > "$BD/.compiler"
echo "[sanitize] building $BD ($CXX, $MODE)" >&2
start=$(date +%s)
cmake -S . -B "$BD" -G Ninja -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$link" \
    -DCMAKE_SHARED_LINKER_FLAGS="$link" -DCMAKE_MODULE_LINKER_FLAGS="$link" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=$(command -v ccache || true) -DTRTCORE_PYTHON=ON -DTRTCORE_EXECUTABLE=ON \
    -DTRTCORE_CUDA=OFF -DTRTCORE_TENSORRT=OFF -DPython_EXECUTABLE="$PY" -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF \
    -Dpybind11_DIR="$("$PY" -c 'import pybind11; print(pybind11.get_cmake_dir())')" "${extra_cmake[@]}" \
    > "$BD.configure.log" 2>&1 || { tail -30 "$BD.configure.log" >&2; exit 1; }
cmake --build "$BD" -j"${SANITIZE_JOBS:-2}" > "$BD.build.log" 2>&1 ||
  { grep -E "error|FAILED" -A3 "$BD.build.log" | head -60 >&2; echo "[sanitize] build failed" >&2; exit 1; }
echo "[sanitize] built in $(($(date +%s) - start)) s" >&2

# The package from python/trtcore with the sanitized module in place of an installed one.
PKG=$BD/python/trtcore
rm -rf "$BD/python"
mkdir -p "$PKG"
for f in python/trtcore/*; do
  case $f in *.so) ;; *) ln -s "$PWD/$f" "$PKG/" ;; esac
done
cp "$BD"/_core*.so "$PKG/"

REPORTS=$BD/reports
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
common="log_path=$PWD/$REPORTS/report:halt_on_error=1"
if [[ $MODE == asan ]]; then
  # CPython's own allocations are not freed at exit on purpose: leak checking would report them.
  export ASAN_OPTIONS="$common:detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:detect_odr_violation=0"
  export UBSAN_OPTIONS="$common:print_stacktrace=1"
  # Every test file that runs C++ code on the cpu backend, except the slowest ones whose time goes to Python
  # references (debug precision's greedy search, the calibrators' brute-force and ModelOpt comparisons, the CLI
  # option matrix): about 6 minutes here instead of 16 for all of them.
  default_tests=(tests/test_ops.py tests/test_onnx_node_cases.py tests/test_models.py tests/test_batch.py
                 tests/test_plan.py tests/test_hardening.py tests/test_contexts.py tests/test_fuzz_regressions.py
                 tests/test_python_api.py tests/test_executable.py tests/test_passes.py tests/test_fuse_elementwise.py
                 tests/test_onnx_writer.py tests/test_int8.py tests/test_quantize.py tests/test_cli.py
                 tests/test_fp16_range_guard.py tests/test_int8_calibration.py)
else
  # every race of the run is reported (into its own file), not only the first
  export TSAN_OPTIONS="$common:halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
  default_tests=(-k "concurrent or context or thread" tests/test_hardening.py tests/test_contexts.py)
fi
# Without test paths among the arguments, the mode's default tests run (options such as -x still apply).
has_path=0
for a in "$@"; do [[ $a == tests* ]] && has_path=1; done
[[ $has_path == 1 ]] || set -- "$@" "${default_tests[@]}"

echo "[sanitize] pytest under $MODE: $*" >&2
start=$(date +%s)
set +e
LD_PRELOAD="$runtime" PYTHONPATH="$PWD/$BD/python" TRTCORE_EXEC="$PWD/$BD/trtcore-exec" \
  "$PY" -m pytest -q -ra -p no:cacheprovider "$@"
rc=$?
set -e
echo "[sanitize] pytest under $MODE took $(($(date +%s) - start)) s (exit $rc)" >&2
reports=$(find "$REPORTS" -type f | sort)
if [[ -n $reports ]]; then
  for r in $reports; do echo "==== $r" >&2; head -60 "$r" >&2; done
  echo "[sanitize] $MODE: $(echo "$reports" | wc -l) sanitizer report(s) in $REPORTS" >&2
  exit 3
fi
[[ $rc != 5 ]] || { echo "[sanitize] no tests were collected" >&2; exit 1; }
exit $rc
