#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and runs each for the given seconds, one job each; prints
# executions, coverage (cov/ft from libFuzzer's final stats) and crashes per harness as a Markdown table.
#   fuzz/run.sh [seconds_per_harness] [harness...]
# Exit status 1 when any harness found a crash (reproducers are left in build/fuzz/findings/<harness>/).
# Corpora grow in build/fuzz/corpus/<harness>/ across runs; seeds come from fuzz/make_seeds.py and fuzz/seeds/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
HARNESSES=("$@")
[[ ${#HARNESSES[@]} -gt 0 ]] ||
  HARNESSES=(fuzz_onnx_build_run fuzz_onnx_structured fuzz_plan_run fuzz_samples fuzz_calibration_cache)
PY=${TRTCORE_PYTHON:-}
[[ -n "$PY" ]] || for p in .venv/bin/python /work/main/.venv/bin/python python3; do
  if command -v "$p" > /dev/null && "$p" -c "import onnx" 2> /dev/null; then PY=$p; break; fi
done
CXX=${CXX:-clang++}
# cmake and ninja from the project's virtual environment (scripts/setup.sh) where it exists
[[ -d .venv/bin ]] && export PATH="$PWD/.venv/bin:$PATH"
BD=build/fuzz
OUT=$BD/findings
mkdir -p "$BD"

echo "[fuzz] configuring and building $BD with $CXX" >&2
cmake -S . -B "$BD" -G Ninja -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1" -DTRTCORE_CPU_LEVELS=baseline -DCMAKE_CXX_COMPILER_LAUNCHER=$(command -v ccache || true) \
    -DTRTCORE_FUZZ=ON -DTRTCORE_PYTHON=OFF -DTRTCORE_EXECUTABLE=OFF -DTRTCORE_CUDA=OFF -DTRTCORE_TENSORRT=OFF \
    ${TRTCORE_FUZZ_CMAKE_ARGS:-} > "$BD.configure.log" 2>&1 || { tail -30 "$BD.configure.log" >&2; exit 2; }
cmake --build "$BD" -j"${TRTCORE_FUZZ_JOBS:-2}" > "$BD.build.log" 2>&1 ||
  { grep -E "error|FAILED" -A3 "$BD.build.log" | head -60 >&2; echo "fuzz build failed" >&2; exit 2; }

# Seeds: ONNX models from the test suite (needs python with onnx), cpu plans built from them, and fuzz/seeds/.
SEEDS=$BD/seeds
if [[ ! -d $SEEDS/onnx ]]; then
  if [[ -n "$PY" ]]; then
    "$PY" fuzz/make_seeds.py "$SEEDS" >&2 || echo "[fuzz] make_seeds.py failed; using fuzz/seeds only" >&2
  else
    echo "[fuzz] no python with onnx: using fuzz/seeds only" >&2
  fi
  mkdir -p "$SEEDS/onnx" "$SEEDS/plan"
  cp -n fuzz/seeds/onnx/* "$SEEDS/onnx/" 2> /dev/null || true
  "$BD/fuzz/fuzz_make_plans" "$SEEDS/plan" "$SEEDS"/onnx/*.onnx >&2
fi
seed_dirs() {
  case $1 in
    fuzz_onnx_build_run | fuzz_onnx_structured) echo "$SEEDS/onnx" ;;
    fuzz_plan_run) echo "$SEEDS/plan" ;;
    *) echo "fuzz/seeds/${1#fuzz_}" ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Scratch files (models, samples) go to memory where it is available.
SCRATCH=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && SCRATCH=/dev/shm
failed=0
rows=()
for h in "${HARNESSES[@]}"; do
  corpus=$BD/corpus/$h
  mkdir -p "$corpus" "$OUT/$h"
  log=$BD/$h.log
  echo "[fuzz] $h for ${SECONDS_EACH}s (log: $log)" >&2
  set +e
  # -rss_limit_mb/-malloc_limit_mb: an allocation beyond 2 GiB from a few-KB input is a finding too.
  tmp=$(mktemp -d -p "$SCRATCH")
  stamp=$BD/.$h.started
  touch "$stamp"
  (cd "$OUT/$h" && TMPDIR=$tmp "$OLDPWD/$BD/fuzz/$h" -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2560 -malloc_limit_mb=2048 -max_len=65536 -print_final_stats=1 -jobs=1 -workers=1 \
      "$OLDPWD/$corpus" $(seed_dirs "$h" | sed "s|^\([^/]\)|$OLDPWD/\1|")) > "$log" 2>&1
  rc=$?
  set -e
  rm -rf "$tmp"
  # -jobs writes the fuzzer's own output to fuzz-0.log in the working directory.
  [[ -f $OUT/$h/fuzz-0.log ]] && cat "$OUT/$h/fuzz-0.log" >> "$log" && rm -f "$OUT/$h/fuzz-0.log"
  execs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo "?")
  secs=$(grep -oE "stat::average_exec_per_sec: *[0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$" || echo "?")
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 || true)
  # this run's reproducers only (those of earlier runs stay in the folder)
  crashes=$(find "$OUT/$h" -maxdepth 1 -type f -newer "$stamp" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
      -o -name 'oom-*' \) -printf '%f ' | sed 's/ $//')
  note=""
  if [[ -z $crashes && $rc -ne 0 ]]; then note=" (exit $rc)"; fi
  if [[ -n $crashes || $rc -ne 0 ]]; then failed=1; fi
  rows+=("| $h | $execs | $secs | ${cov:-?} | ${crashes:-0}$note |")
done
echo
echo "| harness | executions | exec/s | coverage | crashes |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
