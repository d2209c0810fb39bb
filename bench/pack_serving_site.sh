#!/usr/bin/env bash
# Packs what `trtcore serve` needs beyond a machine's own packages, for a machine with no package index (the GPU
# machine: CPython 3.12, numpy 2, no PyTriton): nvidia-pytriton 0.7 and numpy<2 (PyTriton's Python-backend stub reads
# numpy 1.x arrays) with the dependencies that machine lacks or has built for numpy 2 only (ml-dtypes), as one
# archive of an unpacked site-packages folder.
#   bash bench/pack_serving_site.sh [PYTHON_VERSION]      # default 3.12; writes .whl/trtcore-serving-cpXY.tar.xz
# bench/serving_gpu.sh unpacks it into a virtual environment there. To fit a 64 MiB transfer, the wheels are trimmed:
# the Python-backend stubs for other Python versions, the libpython 3.13 that only the 3.13 stub loads, numpy's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VER=${1:-3.12}
TAG=cp${VER/./}
PY=${PY:-.venv/bin/python}
[[ -x $PY ]] || PY=python3
OUT=.whl/trtcore-serving-$TAG.tar.xz
# the versions tested in .venv/serve (scripts/setup_serving.sh), pinned so the archive is reproducible
PKGS=("nvidia-pytriton==0.7.0" "numpy==1.26.4" "tritonclient==2.73.0" "grpcio==1.85.3" "protobuf==6.33.6"
      "pyzmq==27.3.0" "python-rapidjson==1.25" "gevent==26.9.0" "geventhttpclient==2.6.1" "greenlet==3.3.2"
      "sh==2.4.0" "importlib_metadata==10.2.0" "lazy-importer==0.1.0" "zope.event==6.2" "zope.interface==8.7"
      "brotli==1.2.1" "ml-dtypes==0.5.4")
PLATFORMS=()
for p in manylinux_2_35 manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_27 manylinux_2_26 manylinux_2_24 \
         manylinux_2_17 manylinux2014 manylinux_2_5 manylinux1; do PLATFORMS+=(--platform "${p}_x86_64"); done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
echo "[pack] downloading ${#PKGS[@]} wheels for CPython $VER" >&2
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$VER" --implementation cp \
  "${PLATFORMS[@]}" -d "$W/wheels" "${PKGS[@]}" 2>&1 | grep -v "^WARNING: Location" >&2 || true
[[ $(ls "$W/wheels" | wc -l) == "${#PKGS[@]}" ]] || { echo "[pack] some wheels were not downloaded" >&2; exit 1; }
mkdir -p "$W/site"
for f in "$W"/wheels/*.whl; do "$PY" -m zipfile -e "$f" "$W/site"; done
T=$W/site/pytriton/tritonserver
for d in "$T"/python_backend_stubs/*; do [[ $(basename "$d") == "$VER" ]] || rm -rf "$d"; done
[[ -f $T/python_backend_stubs/$VER/triton_python_backend_stub ]] ||
  { echo "[pack] PyTriton has no Python-backend stub for Python $VER" >&2; exit 1; }
[[ $VER == 3.13 ]] || rm -f "$W"/site/nvidia_pytriton.libs/libpython3-*.13.so.1.0
rm -rf "$W/site/numpy/tests" "$W"/site/numpy/*/tests
chmod +x "$T/bin/tritonserver" "$T/python_backend_stubs/$VER/triton_python_backend_stub"
mkdir -p .whl
echo "[pack] compressing $(du -sh "$W/site" | cut -f1) (xz, a few minutes)" >&2
tar cf - -C "$W/site" . | xz -9 -T0 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
size=$(stat -c %s "$OUT")
echo "[pack] $OUT: $((size / 1048576)) MiB" >&2
if ((size > 48 * 1048576)); then echo "[pack] warning: over 48 MiB, little room left in a 64 MiB transfer" >&2; fi
