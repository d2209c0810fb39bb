#!/usr/bin/env bash
# Idempotent set-up of the serving test environment .venv/serve: PyTriton 0.7 requires numpy < 2, which the main
# .venv (numpy 2) cannot have, so the serving tests run in this second, small environment. It holds numpy<2,
# nvidia-pytriton, tritonclient, onnx, onnxruntime and pytest, and links the trtcore that scripts/setup.sh built and
# installed into .venv (nothing is compiled again). Run scripts/setup.sh first.
# Exit status: 0 ready; 1 set-up failed; 2 PyTriton cannot run on this platform (not x86-64 Linux with glibc >= 2.35),
# the only case a caller may skip the serving tests for.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup-serving] %s\n' "$*" >&2; }

MAIN=.venv/bin/python
SERVE=.venv/serve
if [[ ! -x $MAIN ]] || ! "$MAIN" -c "import trtcore" 2> /dev/null; then
  log "trtcore is not installed in .venv: run scripts/setup.sh first"; exit 1
fi
# nvidia-pytriton 0.7 ships one wheel, manylinux_2_35_x86_64 (its tritonserver binary)
glibc=$(getconf GNU_LIBC_VERSION 2> /dev/null | awk '{print $2}')
if [[ $(uname -sm) != "Linux x86_64" ]] || ! printf '2.35\n%s\n' "${glibc:-0}" | sort -C -V; then
  log "PyTriton needs x86-64 Linux with glibc >= 2.35 (here: $(uname -sm), glibc ${glibc:-unknown})"; exit 2
fi

# The same interpreter as .venv (trtcore's compiled module is built for its version); venv uses the base install.
if [[ ! -x $SERVE/bin/python ]]; then
  log "creating $SERVE"
  "$MAIN" -m venv "$SERVE"
fi
PY=$SERVE/bin/python
reqs=("numpy<2" "nvidia-pytriton==0.7.*" "tritonclient[http,grpc]" onnx onnxruntime pytest)
stamp=$SERVE/.trtcore-serving-deps
deps_hash=$(printf '%s\n' "${reqs[@]}" "$("$PY" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-16)
if [[ ! -f $stamp || "$(cat $stamp)" != "$deps_hash" ]]; then
  log "installing ${reqs[*]} (log: $SERVE/pip.log)"
  "$PY" -m pip install -q "${reqs[@]}" > $SERVE/pip.log 2>&1 || { tail -20 $SERVE/pip.log >&2; exit 1; }
  echo "$deps_hash" > $stamp
fi

# trtcore itself: a link to the package setup.sh installed (its module and trtcore-exec), so it is always that build.
main_sp=$("$MAIN" -c "import os, trtcore; print(os.path.dirname(os.path.dirname(trtcore.__file__)))")
serve_sp=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
ln -sfn "$(realpath --relative-to="$serve_sp" "$main_sp/trtcore")" "$serve_sp/trtcore"

# The bundled tritonserver, its Python backend and this interpreter's stub must find every shared library.
tritonserver=$("$PY" -c "import os, pytriton; print(os.path.dirname(pytriton.__file__))")/tritonserver
libdir=$("$PY" -c "import sysconfig; print(sysconfig.get_config_var('LIBDIR') or '')")
ver=$("$PY" -c "import sys; print('%d.%d' % sys.version_info[:2])")
missing=$(for f in "$tritonserver/bin/tritonserver" "$tritonserver"/backends/python/*.so \
                   "$tritonserver/python_backend_stubs/$ver/triton_python_backend_stub"; do
            LD_LIBRARY_PATH="$libdir:$serve_sp/nvidia_pytriton.libs" ldd "$f" 2>&1 | grep "not found" || true
          done | sort -u)
if [[ -n $missing ]]; then
  log "the bundled tritonserver is missing shared libraries:"; echo "$missing" >&2; exit 1
fi
"$PY" -c "
import numpy, trtcore
from trtcore.serving import numpy_mismatch
import pytriton, tritonclient.grpc, tritonclient.http
assert not numpy_mismatch(), numpy_mismatch()
print('[setup-serving] ready: numpy', numpy.__version__, '| trtcore', trtcore.__version__, trtcore.__file__)
" >&2
