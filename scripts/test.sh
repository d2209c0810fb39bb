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
set +e
"$PY" -m pytest -q -ra "$@" tests
rc=$?
set -e
# pytest's 5 means no test was collected: that is a failure here, not a pass.
if [[ $rc == 5 ]]; then echo "no tests were collected" >&2; exit 1; fi
exit $rc
