#!/usr/bin/env bash
# Installs what is missing (Debian packages, the Python virtual environment
# with the pinned oracles) and builds the project. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(cmake ninja-build g++ pkg-config python3-venv libzip-dev libhdf5-dev
      flatbuffers-compiler libflatbuffers-dev nlohmann-json3-dev libcli11-dev
      libgtest-dev libgmock-dev libbenchmark-dev time libpthreadpool-dev
      libxnnpack-dev libeigen3-dev)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.k2l-requirements
if ! cat requirements-test.txt requirements-nodeps.txt | cmp -s - "$stamp"; then
  echo "setup: installing pinned Python packages (requirements-*.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-test.txt
  .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
  cat requirements-test.txt requirements-nodeps.txt > "$stamp"
fi

# One build serves everything: pip builds and installs the package (the
# Python module, the facade and the `keras2litert` command) through
# scikit-build-core in build/release, with the unit tests switched on, so
# CTest and the CLI-based tests use the same build. Incremental when built.
.venv/bin/python -m pip install --no-build-isolation --no-deps -q \
  -Cbuild-dir=build/release -Ccmake.define.K2L_BUILD_TESTS=ON \
  -Cbuild.tool-args=-j2 -Cbuild.verbose=false -Cinstall.strip=false .
