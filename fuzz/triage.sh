#!/usr/bin/env bash
# Groups reproducers by what they hit: reruns each file through its harness and prints the sanitizer's (or the
# uncaught exception's) kind and the first trtcore source line of its stack, then the file.
#   fuzz/triage.sh HARNESS_BINARY FILE...
set -uo pipefail
bin=$1
shift
for f in "$@"; do
  out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 timeout 60 "$bin" "$f" 2>&1)
  kind=$(grep -m1 -oE "(ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: [^:]{0,60}|uncaught exception[^']*'[^']*'|deadly signal|out-of-memory|timeout)" <<< "$out")
  where=$(grep -m1 -oE "(cpp|fuzz)/[a-z_/]+\.(h|cpp):[0-9]+" <<< "$(grep -E "^ +#[0-9]+ " <<< "$out" | grep -v "/fuzz/common\|libFuzzer\|fuzzer::")")
  [[ -z $where ]] && where=$(grep -m1 -oE "(cpp|fuzz)/[a-z_/]+\.(h|cpp):[0-9]+" <<< "$out")
  echo "${kind:-no crash} @ ${where:-?} $f"
done
