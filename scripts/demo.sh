#!/usr/bin/env bash
# The main job: set up (idempotent), then the walkthrough — real photos → raw samples → ResNet-50 plan → inspect →
# timed directory run → onnxruntime reference → compare, passing only when the logits match onnxruntime's (relative L2).
# Uses the cuda backend when a GPU is usable, else cpu.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${TRTCORE_PYTHON:-.venv/bin/python}
exec "$PY" scripts/demo.py "$@"
