#!/usr/bin/env bash
# The test command: set up (idempotent), then the whole pytest suite. GPU tests skip cleanly without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${TRTCORE_PYTHON:-.venv/bin/python}
set +e
"$PY" -m pytest -q -ra "$@" tests
rc=$?
set -e
# pytest's 5 means no test was collected: that is a failure here, not a pass.
if [[ $rc == 5 ]]; then echo "no tests were collected" >&2; exit 1; fi
exit $rc
