#!/usr/bin/env bash
# A long run of one harness (built by fuzz/run.sh) until a number of executions: libFuzzer in one process, restarted
# after each finding (its reproducer stays in build/fuzz/findings/<harness>/), so a crash does not end the run and no
# fork-mode jobs are paid for. Prints one line per segment and the totals at the end.
#   fuzz/long_run.sh HARNESS EXECUTIONS [seconds_per_segment]
set -uo pipefail
cd "$(dirname "$0")/.."
H=${1:?harness}
GOAL=${2:?executions}
SEGMENT=${3:-900}
BD=$PWD/build/fuzz
OUT=$BD/findings/$H
LOG=$BD/$H.long.log
mkdir -p "$OUT" "$BD/corpus/$H"
SCRATCH=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && SCRATCH=/dev/shm
case $H in
  fuzz_onnx_build_run | fuzz_onnx_structured) seeds=$BD/seeds/onnx ;;
  fuzz_plan_run) seeds=$BD/seeds/plan ;;
  *) seeds=$PWD/fuzz/seeds/${H#fuzz_} ;;
esac
# Per execution, libFuzzer's entropic schedule (feature frequencies) and ASan's allocation stacks cost more than a
# small model's import, build and run (perf, fuzz_onnx_structured: 34% and 6%); the long run turns both down.
# Reports keep the faulting access's full stack; fuzz/triage.sh replays a reproducer with full allocation stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:malloc_context_size=2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
total=0 segments=0 findings=0
start=$(date +%s)
: > "$LOG"
while ((total < GOAL)); do
  tmp=$(mktemp -d -p "$SCRATCH")
  seg=$(mktemp)
  (cd "$OUT" && TMPDIR=$tmp "$BD/fuzz/$H" -max_total_time="$SEGMENT" -runs=$((GOAL - total)) -timeout=10 -entropic=0 -reload=0 \
      -rss_limit_mb=2560 -malloc_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$BD/corpus/$H" "$seeds") > "$seg" 2>&1
  rc=$?
  rm -rf "$tmp"
  cat "$seg" >> "$LOG"
  execs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$seg" | tail -1 | grep -oE "[0-9]+$")
  # a crashed segment prints no final stats: its last progress line counts instead
  [[ -n $execs ]] || execs=$(grep -oE "^#[0-9]+" "$seg" | tail -1 | tr -d '#')
  total=$((total + ${execs:-0}))
  segments=$((segments + 1))
  [[ $rc == 0 ]] || findings=$((findings + 1))
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+" "$seg" | tail -1)
  echo "[long_run] $H segment $segments: ${execs:-0} executions (exit $rc; $cov); total $total" >&2
  rm -f "$seg"
  # a segment that executes nothing would loop forever
  [[ ${execs:-0} -gt 0 ]] || { echo "[long_run] no progress; stopping" >&2; break; }
done
secs=$(($(date +%s) - start))
echo "[long_run] $H: $total executions in $secs s over $segments segment(s), $findings ending at a finding;" \
  "corpus $(ls "$BD/corpus/$H" | wc -l) files; reproducers in $OUT: $(ls "$OUT" | grep -cE '^(crash|leak|timeout|oom)-')"
