#!/usr/bin/env bash
# The serving tests (tests/test_serving.py, slow ones included: real servers on 127.0.0.1, HTTP and gRPC requests,
# answers compared with Engine.infer and onnxruntime) in .venv/serve, the numpy<2 environment PyTriton needs.
# Here every test must run: a skip is a failure. Needs scripts/setup.sh done; scripts/test.sh calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
set +e
bash scripts/setup_serving.sh
rc=$?
set -e
if [[ $rc == 2 ]]; then
  echo "[test-serving] skipping the serving tests: PyTriton does not run on this platform" >&2; exit 0
fi
[[ $rc == 0 ]] || { echo "[test-serving] setting up .venv/serve failed" >&2; exit 1; }
t1=$(date +%s)
log=$(mktemp)
set +e
.venv/serve/bin/python -m pytest -q -ra --runslow tests/test_serving.py "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [[ $rc == 0 ]] && tail -1 "$log" | grep -qE "[0-9]+ (skipped|deselected)"; then
  echo "[test-serving] some serving tests did not run (see the skip reasons above); all must run here" >&2
  rc=1
fi
rm -f "$log"
echo "[test-serving] set-up $((t1 - t0)) s, tests $(($(date +%s) - t1)) s, exit $rc" >&2
exit $rc
