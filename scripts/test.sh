#!/usr/bin/env bash
# The test command: set up (idempotent), then the whole pytest suite. GPU tests skip cleanly without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${TRTCORE_PYTHON:-.venv/bin/python}
# The standalone executable from the same CMake without Python (what a Jetson user builds); the tests run it.
if [[ -z "${TRTCORE_PYTHON:-}" ]]; then
  echo "[test] building the standalone executable (-DTRTCORE_PYTHON=OFF)" >&2
  export PATH="$PWD/.venv/bin:$PATH"
  mkdir -p build
  cmake -S . -B build/standalone -G Ninja -DTRTCORE_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release \
      -DPython_EXECUTABLE="$PWD/.venv/bin/python" > build/standalone.log 2>&1 &&
    cmake --build build/standalone >> build/standalone.log 2>&1 ||
    { tail -30 build/standalone.log >&2; echo "standalone build failed" >&2; exit 1; }
  export TRTCORE_EXEC="$PWD/build/standalone/trtcore-exec"
fi
# Serving through Triton (PyTriton needs numpy<2) in its own small environment, .venv/serve (made once, then reused).
serving_rc=0
if [[ -z "${TRTCORE_PYTHON:-}" ]]; then
  echo "[test] serving tests in .venv/serve (scripts/test_serving.sh)" >&2
  bash scripts/test_serving.sh || serving_rc=$?
else
  echo "[test] skipping the serving tests: with TRTCORE_PYTHON there is no package index for .venv/serve" >&2
fi
set +e
"$PY" -m pytest -q -ra "$@" tests
rc=$?
set -e
# pytest's 5 means no test was collected: that is a failure here, not a pass.
if [[ $rc == 5 ]]; then echo "no tests were collected" >&2; exit 1; fi
if [[ $serving_rc != 0 ]]; then echo "THE SERVING TESTS FAILED (exit $serving_rc; output above the suite's)" >&2; fi
[[ $rc != 0 || $serving_rc == 0 ]] || rc=1

# ---- sanitizers: the module and trtcore-exec rebuilt with ASan+UBSan (a large cpu subset of the suite) and with
# TSan (the concurrency tests); any sanitizer report fails the suite. Skipped with a message where clang or its
# sanitizer runtimes are missing (.ci/run installs them).
san_rc=0
for mode in asan tsan; do
  set +e
  TRTCORE_PYTHON="$PY" bash scripts/sanitize.sh "$mode"
  m_rc=$?
  set -e
  if [[ $m_rc == 2 ]]; then
    echo "[test] skipped the $mode step (no clang with its runtime)" >&2
  elif [[ $m_rc != 0 ]]; then
    echo "SANITIZER STEP $mode FAILED (exit $m_rc; reports in build/$mode/reports/)" >&2
    san_rc=1
  fi
done

# ---- bounded fuzzing: each libFuzzer harness of fuzz/ for ~55 s under ASan+UBSan ----
# A new finding is reported loudly with its reproducer, not turned into a red suite: a minute of random search finds
# different inputs on every run, and a finding becomes a regression test (tests/test_fuzz_regressions.py) once fixed.
# Runs only where clang can link libFuzzer (.ci/run installs clang); skips with a message otherwise.
fuzz_rc=0
check=$(mktemp)
if command -v clang++ > /dev/null &&
   echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer,address,undefined -o "$check" - > /dev/null 2>&1; then
  echo "[test] bounded fuzzing (fuzz/run.sh 55)" >&2
  TRTCORE_PYTHON="$PY" bash fuzz/run.sh 55 || fuzz_rc=$?
  [[ $fuzz_rc == 0 ]] || echo "FUZZING FOUND A CRASH (exit $fuzz_rc): reproducers in build/fuzz/findings/" >&2
else
  echo "[test] skipping bounded fuzzing: clang with libFuzzer is not available" >&2
fi
rm -f "$check"
[[ $rc != 0 ]] || rc=$san_rc
exit $rc
