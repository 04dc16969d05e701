#!/usr/bin/env bash
# Prepare what benchmarks/device_check.sh needs on the device machine and cannot download
# there (it has no network): pure or manylinux wheels of tensorly, fmm3dpy and exponax in
# .whl/, and the ADK test molecule in .devdata/adk_open.pqr. Both folders are ignored by git;
# name them in the device tool's `carry`: [".whl", ".devdata"].
#
#   bash benchmarks/prepare_device.sh            # PYVER=3.12 by default (the device's Python)
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PYVER=${PYVER:-3.12}
mkdir -p .whl .devdata
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    -d .whl tensorly fmm3dpy exponax
# MDAnalysisTests' PQR file is adk_open.pqr (installed with the dev extra)
PQR=$("$PY" -c "import MDAnalysisTests.datafiles as d; print(d.PQR)" 2>/dev/null || true)
if [ -n "$PQR" ] && [ -f "$PQR" ]; then
    cp "$PQR" .devdata/adk_open.pqr
else
    echo "adk_open.pqr not found (MDAnalysisTests missing): bench-potentials will be skipped" >&2
fi
ls -l .whl .devdata
